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

// The paths the pull_request handler reads.
var (
	pullRequestPaths = newPathSet()
	prAction         = pullRequestPaths.add("action")
	prPullRequest    = pullRequestPaths.add("pull_request")
	prNumber         = pullRequestPaths.add("pull_request.number")
	prHeadSHA        = pullRequestPaths.add("pull_request.head.sha")
	prRepo           = pullRequestPaths.add("repository")
	prRepoName       = pullRequestPaths.add("repository.name")
	prRepoOwner      = pullRequestPaths.add("repository.owner.login")
	prRepoID         = pullRequestPaths.add("repository.id")
	prInstallation   = pullRequestPaths.add("installation")
	prInstallationID = pullRequestPaths.add("installation.id")
)

// Handle implements githubapp.EventHandler.
func (h *PullRequestHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	r, err := extract(eventType, payload, pullRequestPaths)
	if err != nil {
		return err
	}
	f := fields{event: eventType}
	action := f.str(r[prAction], "action")
	f.object(r[prPullRequest], "pull_request", true)
	number := f.id(r[prNumber], "pull_request.number")
	head := f.str(r[prHeadSHA], "pull_request.head.sha")
	owner, name := f.repository(r[prRepo], r[prRepoName], r[prRepoOwner], "repository")
	repoID := f.optionalID(r[prRepoID], "repository.id")
	installationID := f.installationID(r[prInstallation], r[prInstallationID])
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
