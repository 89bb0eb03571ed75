package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/store"
)

// ReplyMarker is the hidden marker identifying the bot's reply to a comment, so a retried job
// edits its earlier reply instead of adding one.
func ReplyMarker(commentID int64) string {
	return fmt.Sprintf("<!-- autonomous-ci:reply:%d -->", commentID)
}

// maxReplyBytes stays under GitHub's 65536-character comment limit.
const maxReplyBytes = 60000

var statusIcons = map[outcomeStatus]string{
	statusDone: "✅", statusInfo: "ℹ️", statusRefused: "⛔", statusFailed: "❌",
}

// render writes the one reply of a comment: each command quoted as code, then its answer.
func (s *session) render(results []result) string {
	var b strings.Builder
	b.WriteString(ReplyMarker(s.args.CommentID) + "\n")
	fmt.Fprintf(&b, "@%s, results of [your comment](%s):\n", s.author, markdown.SafeURL(s.comment.GetHTMLURL()))
	if s.cfgErr != nil {
		b.WriteString("\n> [!WARNING]\n> The repository configuration could not be used, so the defaults apply:\n\n")
		b.WriteString(markdown.CodeBlock(s.cfgErr.Error(), "text") + "\n")
	}
	for _, r := range results {
		fmt.Fprintf(&b, "\n%s %s\n\n%s\n", statusIcons[r.Outcome.Status], markdown.Code(r.Command.Text(s.prefix)), r.Outcome.Text)
	}
	out := b.String()
	if len(out) > maxReplyBytes {
		out = strings.ToValidUTF8(out[:maxReplyBytes], "") + "\n\n_(truncated)_"
	}
	return out
}

// upsertReply edits the bot's earlier reply to this comment, or creates it, once: the reply is
// found by its marker among the comments made since, as GitHub has them now (not as the HTTP
// cache does), and a create whose answer was lost is looked up before another is made
// (store.Store.CreateOnce). It returns the reply's id.
func (s *session) upsertReply(ctx context.Context, body string) (int64, error) {
	key := fmt.Sprintf("reply:%s/%s:%d", s.args.Owner, s.args.Repo, s.args.CommentID)
	id, created, err := s.w.deps.Store.CreateOnce(ctx, store.Effect{
		Key: key, FindFirst: true, Settle: s.w.deps.CreateSettle, Find: s.findReply,
		Create: func(ctx context.Context) (int64, error) {
			// POST /repos/{owner}/{repo}/issues/{issue_number}/comments
			// https://docs.github.com/rest/issues/comments#create-an-issue-comment
			c, _, err := s.client.Issues.CreateComment(ctx, s.args.Owner, s.args.Repo, s.args.Number, &github.IssueComment{Body: &body})
			if err != nil {
				return 0, fmt.Errorf("failed to create the reply: %w", err)
			}
			return c.GetID(), nil
		},
	})
	if err != nil || created {
		return id, err
	}
	// PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
	// https://docs.github.com/rest/issues/comments#update-an-issue-comment
	if _, _, err := s.client.Issues.EditComment(ctx, s.args.Owner, s.args.Repo, id, &github.IssueComment{Body: &body}); err != nil {
		if ghapp.HasStatus(err, http.StatusNotFound) {
			// Someone deleted the reply: the retry writes a new one.
			err = errors.Join(err, s.w.deps.Store.ForgetEffect(ctx, key, id))
		}
		return 0, fmt.Errorf("failed to edit the reply: %w", err)
	}
	return id, nil
}

// findReply returns the id of the bot's reply to this comment, or zero.
func (s *session) findReply(ctx context.Context) (int64, error) {
	marker := ReplyMarker(s.args.CommentID)
	query := url.Values{}
	if created := s.comment.GetCreatedAt(); !created.IsZero() {
		query.Set("since", created.UTC().Format(time.RFC3339))
	}
	path := fmt.Sprintf("repos/%s/%s/issues/%d/comments", url.PathEscape(s.args.Owner), url.PathEscape(s.args.Repo), s.args.Number)
	var id int64
	// GET /repos/{owner}/{repo}/issues/{issue_number}/comments
	// https://docs.github.com/rest/issues/comments#list-issue-comments
	err := ghapp.EachFresh(ctx, s.client, path, query, 0, func(list []*github.IssueComment) bool {
		for _, c := range list {
			if strings.Contains(c.GetBody(), marker) && s.isOwnComment(c) {
				id = c.GetID()
				return true
			}
		}
		return false
	})
	if err != nil {
		return 0, fmt.Errorf("failed to list pull request comments: %w", err)
	}
	return id, nil
}

// isOwnComment reports whether c was written by this app ("<slug>[bot]"); without a slug, by
// any bot. Another bot's comment quoting the marker cannot be edited (403) and is not the reply.
func (s *session) isOwnComment(c *github.IssueComment) bool {
	login := c.GetUser().GetLogin()
	if slug := s.w.deps.AppSlug; slug != "" {
		return strings.EqualFold(login, slug+"[bot]")
	}
	return IsBot(login, c.GetUser().GetType(), "")
}

// runLink links a workflow run by its escaped name and number.
func runLink(run *github.WorkflowRun) string {
	name := markdown.Text(run.GetName())
	if name == "" {
		name = "workflow run"
	}
	text := fmt.Sprintf("%s #%d", name, run.GetRunNumber())
	if u := run.GetHTMLURL(); u != "" {
		return fmt.Sprintf("[%s](%s)", text, markdown.SafeURL(u))
	}
	return fmt.Sprintf("%s (run %d)", text, run.GetID())
}
