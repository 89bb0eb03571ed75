package workflows

import (
	"strings"

	"github.com/contexten/autonomous/store"
)

// InstalledRepos lists the repositories of the recorded installations that are not suspended
// (store.Installation, kept by the installation webhooks and installation_sync), by
// installation; names that are not "owner/name" are left out.
func InstalledRepos(insts []store.Installation) []Repo {
	var repos []Repo
	for _, inst := range insts {
		if inst.Suspended {
			continue
		}
		for _, full := range inst.Repositories {
			owner, name, ok := strings.Cut(full, "/")
			if !ok || owner == "" || name == "" {
				continue
			}
			repos = append(repos, Repo{Owner: owner, Name: name, InstallationID: inst.ID})
		}
	}
	return repos
}
