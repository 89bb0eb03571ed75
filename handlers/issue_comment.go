package handlers

import (
	"context"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/commands"
)

// IssueCommentHandler turns slash commands in pull-request comments into one slash_command job
// per comment. It ignores edited and deleted comments, comments on issues, and comments by bots
// (the app itself included).
type IssueCommentHandler struct {
	Base
	// AppSlug is the app's slug: "@<slug> <command>" is a command, and "<slug>[bot]" is the app.
	AppSlug string
}

var _ githubapp.EventHandler = (*IssueCommentHandler)(nil)

// Handles implements githubapp.EventHandler.
func (h *IssueCommentHandler) Handles() []string { return []string{"issue_comment"} }

// The paths the issue_comment handler reads.
var (
	issueCommentPaths = newPathSet()
	icAction          = issueCommentPaths.add("action")
	icIssue           = issueCommentPaths.add("issue")
	icNumber          = issueCommentPaths.add("issue.number")
	icPullRequest     = issueCommentPaths.add("issue.pull_request")
	icComment         = issueCommentPaths.add("comment")
	icCommentID       = issueCommentPaths.add("comment.id")
	icLogin           = issueCommentPaths.add("comment.user.login")
	icUserType        = issueCommentPaths.add("comment.user.type")
	icBody            = issueCommentPaths.add("comment.body")
	icRepo            = issueCommentPaths.add("repository")
	icRepoName        = issueCommentPaths.add("repository.name")
	icRepoOwner       = issueCommentPaths.add("repository.owner.login")
	icRepoID          = issueCommentPaths.add("repository.id")
	icInstallation    = issueCommentPaths.add("installation")
	icInstallationID  = issueCommentPaths.add("installation.id")
)

// Handle implements githubapp.EventHandler.
func (h *IssueCommentHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	r, err := extract(eventType, payload, issueCommentPaths)
	if err != nil {
		return err
	}
	f := fields{event: eventType}
	action := f.str(r[icAction], "action")
	f.object(r[icIssue], "issue", true)
	number := f.id(r[icNumber], "issue.number")
	onPR := f.object(r[icPullRequest], "issue.pull_request", false).IsObject()
	f.object(r[icComment], "comment", true)
	commentID := f.id(r[icCommentID], "comment.id")
	login := f.str(r[icLogin], "comment.user.login")
	userType := f.optionalString(r[icUserType], "comment.user.type")
	body := f.optionalString(r[icBody], "comment.body")
	owner, name := f.repository(r[icRepo], r[icRepoName], r[icRepoOwner], "repository")
	repoID := f.id(r[icRepoID], "repository.id")
	installationID := f.installationID(r[icInstallation], r[icInstallationID])
	if f.err != nil {
		return f.err
	}
	ctx, logger := repoContext(ctx, installationID, owner, name)
	logger = logger.With().Int64(githubapp.LogKeyPRNum, number).Int64(workflows.LogKeyCommentID, commentID).Logger()

	switch {
	case action != "created":
		logger.Debug().Str("action", action).Msg("Ignoring comment action")
		return nil
	case !onPR:
		logger.Debug().Msg("Ignoring comment on an issue")
		return nil
	case commands.IsBot(login, userType, h.AppSlug):
		logger.Debug().Msg("Ignoring comment by a bot")
		return nil
	}
	if !mayHoldCommand(body, h.AppSlug) {
		logger.Debug().Msg("Ignoring comment without command")
		return nil
	}
	return h.enqueue(ctx, logger, commands.Args{
		Owner: owner, Repo: name, InstallationID: installationID, RepoID: repoID,
		Number: int(number), CommentID: commentID, Author: login, BodyHash: commands.BodyHash(body),
	})
}
