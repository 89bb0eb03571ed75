package ghapp

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/go-github/v62/github"
)

// InstalledRepo is one repository the app is installed on.
type InstalledRepo struct {
	Owner, Name    string
	InstallationID int64
}

// FullName is "owner/name".
func (r InstalledRepo) FullName() string { return r.Owner + "/" + r.Name }

// InstalledRepos lists the repositories of the app's installations that are not suspended,
// leaving out archived and disabled repositories, sorted by full name; each list is read at most
// maxPages pages of 100. The periodic workflows fan out over it.
//
// GitHub API docs: https://docs.github.com/rest/apps/apps#list-installations-for-the-authenticated-app
// and https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation
func InstalledRepos(ctx context.Context, clients Clients, maxPages int) ([]InstalledRepo, error) {
	app, err := clients.App()
	if err != nil {
		return nil, err
	}
	var repos []InstalledRepo
	opts := &github.ListOptions{PerPage: 100}
	for page := 1; page <= maxPages; page++ {
		opts.Page = page
		// GET /app/installations
		insts, resp, err := app.Apps.ListInstallations(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("failed to list installations: %w", err)
		}
		for _, inst := range insts {
			if inst.SuspendedAt != nil {
				continue
			}
			client, _, err := clients.ForRepo(ctx, "", "", inst.GetID())
			if err != nil {
				return nil, err
			}
			ropts := &github.ListOptions{PerPage: 100}
			for rpage := 1; rpage <= maxPages; rpage++ {
				ropts.Page = rpage
				// GET /installation/repositories
				list, rresp, err := client.Apps.ListRepos(ctx, ropts)
				if err != nil {
					return nil, fmt.Errorf("failed to list the repositories of installation %d: %w", inst.GetID(), err)
				}
				for _, r := range list.Repositories {
					if r.GetArchived() || r.GetDisabled() {
						continue
					}
					repos = append(repos, InstalledRepo{Owner: r.GetOwner().GetLogin(), Name: r.GetName(), InstallationID: inst.GetID()})
				}
				if rresp == nil || rresp.NextPage == 0 {
					break
				}
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
	}
	sort.Slice(repos, func(i, j int) bool { return repos[i].FullName() < repos[j].FullName() })
	return repos, nil
}
