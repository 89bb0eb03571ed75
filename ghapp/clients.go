// Package ghapp is the bot's access to GitHub: the client factory (go-githubapp's caching client
// creator with the metrics, logging and HTTP cache middleware), the Clients interface workers get
// their clients through, reads that bypass the HTTP cache, paging, and the helpers that recognise
// GitHub's error answers.
//
// The HTTP cache (lrucache) keeps its responses on disk, appended to a data file of
// GITHUB_HTTP_CACHE_DIR (by default a temporary directory) that it compacts once it holds more
// dead bytes than live ones: the heap holds only its index, so a cache filled by a load does not
// keep the server's idle RSS at GITHUB_HTTP_CACHE_BYTES, and the OS page cache keeps the hot
// entries in memory outside the process.
package ghapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/lrucache"
)

// Clients gives workers a GitHub client that can act on a repository.
type Clients interface {
	// ForRepo returns an installation client for owner/repo. installationID may be zero, in
	// which case the app looks the installation up.
	ForRepo(ctx context.Context, owner, repo string, installationID int64) (*github.Client, int64, error)
	// App returns the app-authenticated client (GET /app, installations).
	App() (*github.Client, error)
}

// AppClients implements Clients with go-githubapp's ClientCreator, whose clients carry the
// metrics, logging and cache middleware configured by the wiring.
type AppClients struct {
	Creator githubapp.ClientCreator
}

// ForRepo implements Clients.
func (a AppClients) ForRepo(ctx context.Context, owner, repo string, installationID int64) (*github.Client, int64, error) {
	if installationID == 0 {
		app, err := a.Creator.NewAppClient()
		if err != nil {
			return nil, 0, fmt.Errorf("failed to create app client: %w", err)
		}
		// GET /repos/{owner}/{repo}/installation
		// https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
		inst, _, err := app.Apps.FindRepositoryInstallation(ctx, owner, repo)
		if err != nil {
			return nil, 0, fmt.Errorf("failed to find the installation for %s/%s: %w", owner, repo, err)
		}
		installationID = inst.GetID()
	}
	client, err := a.Creator.NewInstallationClient(installationID)
	if err != nil {
		return nil, 0, fmt.Errorf("failed to create installation client: %w", err)
	}
	return client, installationID, nil
}

// App implements Clients.
func (a AppClients) App() (*github.Client, error) {
	c, err := a.Creator.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("failed to create app client: %w", err)
	}
	return c, nil
}

// NewClientCreator builds go-githubapp's client creator for the app; the server and the CLI
// share it, so both send the same user agent ("autonomous-ci/<version>") and middleware, and
// count their requests in registry (a new one when nil). closeCache removes the HTTP cache's
// files (and its directory when temporary); the caller calls it once done with the clients. A
// cache directory that cannot be created is an error.
func NewClientCreator(cfg config.Config, version string, registry metrics.Registry) (creator githubapp.ClientCreator, closeCache func() error, err error) {
	if registry == nil {
		registry = metrics.NewRegistry()
	}
	gc, err := cfg.GitHubApp()
	if err != nil {
		return nil, nil, err
	}
	opts := []githubapp.ClientOption{
		githubapp.WithClientUserAgent("autonomous-ci/" + version),
		githubapp.WithClientMiddleware(
			requestTimeout(30*time.Second), // not WithClientTimeout: see requestTimeout
			githubapp.ClientMetrics(registry),
			githubapp.ClientLogging(zerolog.DebugLevel),
		),
	}
	closeCache = func() error { return nil }
	if cfg.GitHubHTTPCacheBytes > 0 {
		// One cache bounded by GITHUB_HTTP_CACHE_BYTES for all clients: go-githubapp calls the
		// func once per client it creates, and each client gets its own namespace in the cache.
		shared, err := lrucache.New(cfg.GitHubHTTPCacheDir, cfg.GitHubHTTPCacheBytes)
		if err != nil && cfg.GitHubHTTPCacheDir != "" {
			return nil, nil, fmt.Errorf("GITHUB_HTTP_CACHE_DIR %q: %w", cfg.GitHubHTTPCacheDir, err)
		} else if err != nil {
			return nil, nil, fmt.Errorf("GitHub HTTP cache: %w", err)
		}
		shared.RegisterMetrics(registry, "github.http_cache")
		opts = append(opts, githubapp.WithClientCaching(false, func() httpcache.Cache { return shared.View() }))
		closeCache = shared.Close
	}
	base := githubapp.NewClientCreator(gc.V3APIURL, gc.V4APIURL, gc.App.IntegrationID, []byte(gc.App.PrivateKey), opts...)
	// Installation clients (and their tokens) are reused across jobs instead of minting a new
	// token per job.
	creator, err = githubapp.NewCachingClientCreator(base, githubapp.DefaultCachingClientCapacity)
	if err != nil {
		return nil, nil, errors.Join(err, closeCache())
	}
	return creator, closeCache, nil
}
