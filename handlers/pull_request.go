package handlers

import (
	"context"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/contexten/autonomous/workflows/securityaudit"
)

// PullRequestHandler starts the security audit of a pull request's head when it is opened,
// pushed to (synchronize) or reopened. The payload does not list the changed files, so the
// audit itself stops at once when the pull request changes no workflow file or manifest
// (securityaudit.Args.CheckChanges).
type PullRequestHandler struct {
	Base
}

var _ githubapp.EventHandler = (*PullRequestHandler)(nil)

// Handles implements githubapp.EventHandler.
func (h *PullRequestHandler) Handles() []string { return []string{"pull_request"} }

// Handle implements githubapp.EventHandler.
func (h *PullRequestHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	top := members(root, "action", "number", "pull_request", "repository", "installation")
	f := fields{event: eventType}
	action := f.str(top["action"], "action")
	pr := f.object(top["pull_request"], "pull_request", true)
	number := f.id(pr.Get("number"), "pull_request.number")
	head := f.str(pr.Get("head.sha"), "pull_request.head.sha")
	repo := top["repository"]
	owner, name := f.repository(repo, "repository")
	repoID := f.optionalID(repo.Get("id"), "repository.id")
	installationID := f.installationID(top["installation"])
	if f.err != nil {
		return f.err
	}
	if !shaPattern.MatchString(head) {
		return &MalformedPayloadError{Event: eventType, Reason: "pull_request.head.sha must be a commit SHA"}
	}
	ctx, logger := repoContext(ctx, installationID, owner, name)
	switch action {
	case "opened", "synchronize", "reopened":
	default:
		logger.Debug().Str("action", action).Msg("Ignoring pull request action")
		return nil
	}
	return h.enqueueWith(ctx, logger, securityaudit.Args{
		Owner: owner, Repo: name, InstallationID: installationID, SHA: head, PullRequest: int(number),
		Trigger: "pull_request", CheckChanges: true,
	}, prTags(repoID, []int64{number}))
}
