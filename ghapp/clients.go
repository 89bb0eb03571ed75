// Package ghapp is the bot's access to GitHub: the client factory (go-githubapp's caching client
// creator with the metrics, logging and HTTP cache middleware), the Clients interface workers get
// their clients through, reads that bypass the HTTP cache, paging, and the helpers that recognise
// GitHub's error answers.
package ghapp

import (
	"context"
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
// count their requests in registry (a new one when nil).
func NewClientCreator(cfg config.Config, version string, registry metrics.Registry) (githubapp.ClientCreator, error) {
	if registry == nil {
		registry = metrics.NewRegistry()
	}
	gc, err := cfg.GitHubApp()
	if err != nil {
		return nil, err
	}
	opts := []githubapp.ClientOption{
		githubapp.WithClientUserAgent("autonomous-ci/" + version),
		githubapp.WithClientMiddleware(
			requestTimeout(30*time.Second), // not WithClientTimeout: see requestTimeout
			githubapp.ClientMetrics(registry),
			githubapp.ClientLogging(zerolog.DebugLevel),
		),
	}
	if cfg.GitHubHTTPCacheBytes > 0 {
		// One cache bounded by GITHUB_HTTP_CACHE_BYTES for all clients: go-githubapp calls the
		// func once per client it creates, and each client gets its own namespace in the cache.
		shared := lrucache.New(cfg.GitHubHTTPCacheBytes)
		shared.RegisterMetrics(registry, "github.http_cache")
		opts = append(opts, githubapp.WithClientCaching(false, func() httpcache.Cache { return shared.View() }))
	}
	creator := githubapp.NewClientCreator(gc.V3APIURL, gc.V4APIURL, gc.App.IntegrationID, []byte(gc.App.PrivateKey), opts...)
	// Installation clients (and their tokens) are reused across jobs instead of minting a new
	// token per job.
	return githubapp.NewCachingClientCreator(creator, githubapp.DefaultCachingClientCapacity)
}
