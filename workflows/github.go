package workflows

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
)

// GitHubClients gives workers a GitHub client that can act on a repository.
type GitHubClients interface {
	// ForRepo returns an installation client for owner/repo. installationID may be zero, in
	// which case the app looks the installation up.
	ForRepo(ctx context.Context, owner, repo string, installationID int64) (*github.Client, int64, error)
	// App returns the app-authenticated client (GET /app, installations).
	App() (*github.Client, error)
}

// AppClients implements GitHubClients with go-githubapp's ClientCreator, whose clients carry the
// metrics, logging and cache middleware configured by the wiring.
type AppClients struct {
	Creator githubapp.ClientCreator
}

// ForRepo implements GitHubClients.
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

// App implements GitHubClients.
func (a AppClients) App() (*github.Client, error) {
	c, err := a.Creator.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("failed to create app client: %w", err)
	}
	return c, nil
}

// GetFresh sends GET path (relative to the API root, query included) with "Cache-Control:
// no-cache" and decodes the answer into v. The server's clients cache GitHub's answers for
// their max-age (a minute for lists); a read that decides whether to write (is my comment, my
// check run already there?) must see GitHub's current state, and httpcache honours the
// directive by going to GitHub.
func GetFresh(ctx context.Context, client *github.Client, path string, query url.Values, v any) (*github.Response, error) {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	req, err := client.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build request for %s: %w", path, err)
	}
	req.Header.Set("Cache-Control", "no-cache")
	return client.Do(ctx, req, v)
}
