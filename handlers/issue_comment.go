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

// Handle implements githubapp.EventHandler.
func (h *IssueCommentHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	top := members(root, "action", "issue", "comment", "repository", "installation")
	f := fields{event: eventType}
	action := f.str(top["action"], "action")
	issue := f.object(top["issue"], "issue", true)
	number := f.id(issue.Get("number"), "issue.number")
	onPR := f.object(issue.Get("pull_request"), "issue.pull_request", false).IsObject()
	comment := f.object(top["comment"], "comment", true)
	commentID := f.id(comment.Get("id"), "comment.id")
	login := f.str(comment.Get("user.login"), "comment.user.login")
	userType := f.optionalString(comment.Get("user.type"), "comment.user.type")
	body := f.optionalString(comment.Get("body"), "comment.body")
	repo := top["repository"]
	owner, name := f.repository(repo, "repository")
	repoID := f.id(repo.Get("id"), "repository.id")
	installationID := f.installationID(top["installation"])
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
