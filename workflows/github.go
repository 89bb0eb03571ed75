package workflows

import (
	"context"
	"fmt"

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
