package commands

import (
	"context"
	"fmt"
	"net/url"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
)

// level is a repository permission, ordered: a higher level includes the lower ones.
type level int

// The repository roles, lowest first. levelNone is what anyone has.
const (
	levelNone level = iota
	levelRead
	levelTriage
	levelWrite
	levelMaintain
	levelAdmin
)

var levelNames = map[level]string{
	levelNone: "none", levelRead: "read", levelTriage: "triage",
	levelWrite: "write", levelMaintain: "maintain", levelAdmin: "admin",
}

func (l level) String() string { return levelNames[l] }

// parseLevel returns the level a role or permission name stands for.
func parseLevel(name string) (level, bool) {
	for l, n := range levelNames {
		if n == name {
			return l, true
		}
	}
	return levelNone, false
}

// permissionResponse is the answer of the collaborator permission endpoint. go-github v62's
// RepositoryPermissionLevel lacks role_name, which alone tells maintain and triage apart.
type permissionResponse struct {
	Permission string `json:"permission"`
	RoleName   string `json:"role_name"`
}

// fetchPermission returns user's permission on owner/repo. A user GitHub does not know as a
// collaborator (404) has none. A custom role falls back to its base permission.
//
// GitHub API docs: https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user
func fetchPermission(ctx context.Context, client *github.Client, owner, repo, user string) (level, error) {
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(user))
	var out permissionResponse
	// Fresh: a permission revoked a moment ago must not let an acting command through.
	if _, err := ghapp.GetFresh(ctx, client, u, nil, &out); err != nil {
		if ghapp.HasStatus(err, 404) {
			return levelNone, nil
		}
		return levelNone, fmt.Errorf("failed to get the permission of %s: %w", user, err)
	}
	if l, ok := parseLevel(out.RoleName); ok {
		return l, nil
	}
	l, _ := parseLevel(out.Permission)
	return l, nil
}

// describeLevel words a permission for a refusal: "read permission", "no permission".
func describeLevel(l level) string {
	if l == levelNone {
		return "no permission"
	}
	return l.String() + " permission"
}
