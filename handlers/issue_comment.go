package handlers

import (
	"context"

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

// Handles implements githubapp.EventHandler.
func (h *IssueCommentHandler) Handles() []string { return []string{"issue_comment"} }

// Handle implements githubapp.EventHandler.
func (h *IssueCommentHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	f, err := required(eventType, root, "action", "issue.number", "comment.id", "comment.user.login",
		"repository.id", "repository.name", "repository.owner.login")
	if err != nil {
		return err
	}
	action, number, commentID, login := f[0].String(), int(f[1].Int()), f[2].Int(), f[3].String()
	repoID, name, owner := f[4].Int(), f[5].String(), f[6].String()
	installationID := root.Get("installation.id").Int()
	ctx, logger := repoContext(ctx, installationID, owner, name)
	logger = logger.With().Int("github_pr_num", number).Int64("comment_id", commentID).Logger()

	switch {
	case action != "created":
		logger.Debug().Str("action", action).Msg("Ignoring comment action")
		return nil
	case !root.Get("issue.pull_request").Exists():
		logger.Debug().Msg("Ignoring comment on an issue")
		return nil
	case commands.IsBot(login, root.Get("comment.user.type").String(), h.AppSlug):
		logger.Debug().Msg("Ignoring comment by a bot")
		return nil
	}
	body := root.Get("comment.body").String()
	if !mayHoldCommand(body, h.AppSlug) {
		logger.Debug().Msg("Ignoring comment without command")
		return nil
	}
	return h.enqueue(ctx, logger, commands.Args{
		Owner: owner, Repo: name, InstallationID: installationID, RepoID: repoID,
		Number: number, CommentID: commentID, Author: login, BodyHash: commands.BodyHash(body),
	})
}
