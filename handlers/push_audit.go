package handlers

import (
	"context"

	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"github.com/contexten/autonomous/workflows/securityaudit"
)

// pushedRef is what a push handler knows of a push.
type pushedRef struct {
	Owner, Name    string
	InstallationID int64
	// Ref is the pushed ref ("refs/heads/main"); After the commit it points at now.
	Ref, DefaultBranch, After string
	// Changed are the paths the push's commits added, modified or removed; Complete is false
	// when GitHub's list may be cut short (it lists at most 20 commits).
	Changed  []string
	Complete bool
}

// maxPushCommits is how many commits GitHub lists in a push payload; a push of more may have
// changed files the payload does not name.
const maxPushCommits = 20

// pushedPaths reads the paths the push's commits changed.
func pushedPaths(f *fields, commits gjson.Result) (paths []string, complete bool) {
	list := f.array(commits, "commits")
	for _, c := range list {
		for _, key := range []string{"added", "modified", "removed"} {
			for _, p := range c.Get(key).Array() {
				if p.Type == gjson.String {
					paths = append(paths, p.Str)
				}
			}
		}
	}
	return paths, len(list) > 0 && len(list) < maxPushCommits
}

// enqueueAudit starts the security audit of a push to the default branch that touches a
// workflow file (.github/workflows/**) or a dependency manifest; other pushes are ignored. A
// push whose file list may be incomplete is audited all the same. The job is unique by the
// pushed commit, so a redelivered push does not audit twice.
func (h *PushHandler) enqueueAudit(ctx context.Context, logger zerolog.Logger, p pushedRef) error {
	if p.DefaultBranch == "" || p.Ref != "refs/heads/"+p.DefaultBranch {
		logger.Debug().Str("ref", p.Ref).Msg("Not auditing a push to another branch than the default")
		return nil
	}
	touches := !p.Complete
	for _, path := range p.Changed {
		if inventory.Kind(path) != "" {
			touches = true
			break
		}
	}
	if !touches {
		logger.Debug().Msg("Not auditing a push that changes no workflow file or manifest")
		return nil
	}
	return h.enqueue(ctx, logger, securityaudit.Args{Owner: p.Owner, Repo: p.Name, InstallationID: p.InstallationID, SHA: p.After, Trigger: "push"})
}
