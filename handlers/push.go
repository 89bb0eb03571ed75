package handlers

import (
	"context"
	"strings"

	"github.com/palantir/go-githubapp/githubapp"
)

// PushHandler reacts to pushes: a push to the default branch that touches a workflow file or a
// manifest starts a security audit of the pushed commit (enqueueAudit).
type PushHandler struct {
	Base
}

var _ githubapp.EventHandler = (*PushHandler)(nil)

// Handles implements githubapp.EventHandler.
func (h *PushHandler) Handles() []string { return []string{"push"} }

// Handle implements githubapp.EventHandler.
func (h *PushHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	top := topLevel(root, "ref", "after", "deleted", "repository", "installation", "commits")
	f := fields{event: eventType}
	ref := f.str(top["ref"], "ref")
	after := f.optionalString(top["after"], "after")
	repo := top["repository"]
	owner, name := f.repository(repo, "repository")
	defaultBranch := f.optionalString(repo.Get("default_branch"), "repository.default_branch")
	installationID := f.installationID(top["installation"])
	changed, complete := pushedPaths(&f, top["commits"])
	if f.err != nil {
		return f.err
	}
	ctx, logger := repoContext(ctx, installationID, owner, name)
	if top["deleted"].Bool() || strings.Trim(after, "0") == "" {
		logger.Debug().Str("ref", ref).Msg("Ignoring a deleted ref")
		return nil
	}
	return h.enqueueAudit(ctx, logger, pushedRef{Owner: owner, Name: name, InstallationID: installationID, Ref: ref,
		DefaultBranch: defaultBranch, After: after, Changed: changed, Complete: complete})
}
