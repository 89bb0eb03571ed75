package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/failureanalysis/redact"
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
	fmt.Fprintf(&b, "@%s, results of [your comment](%s):\n", s.author, safeURL(s.comment.GetHTMLURL()))
	if s.cfgErr != nil {
		b.WriteString("\n> [!WARNING]\n> The repository configuration could not be used, so the defaults apply:\n\n")
		b.WriteString(codeBlock(s.cfgErr.Error()) + "\n")
	}
	for _, r := range results {
		fmt.Fprintf(&b, "\n%s %s\n\n%s\n", statusIcons[r.Outcome.Status], codeSpan(r.Command.Text(s.prefix)), r.Outcome.Text)
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
// (workflows.Store.CreateOnce). It returns the reply's id.
func (s *session) upsertReply(ctx context.Context, body string) (int64, error) {
	key := fmt.Sprintf("reply:%s/%s:%d", s.args.Owner, s.args.Repo, s.args.CommentID)
	id, created, err := s.w.deps.Store.CreateOnce(ctx, workflows.Effect{
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
		if isStatus(err, http.StatusNotFound) {
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
	query := url.Values{"per_page": {"100"}}
	if created := s.comment.GetCreatedAt(); !created.IsZero() {
		query.Set("since", created.UTC().Format(time.RFC3339))
	}
	path := fmt.Sprintf("repos/%s/%s/issues/%d/comments", url.PathEscape(s.args.Owner), url.PathEscape(s.args.Repo), s.args.Number)
	for page := 1; ; page++ {
		query.Set("page", strconv.Itoa(page))
		var list []*github.IssueComment
		// GET /repos/{owner}/{repo}/issues/{issue_number}/comments
		// https://docs.github.com/rest/issues/comments#list-issue-comments
		resp, err := workflows.GetFresh(ctx, s.client, path, query, &list)
		if err != nil {
			return 0, fmt.Errorf("failed to list pull request comments: %w", err)
		}
		for _, c := range list {
			if strings.Contains(c.GetBody(), marker) && s.isOwnComment(c) {
				return c.GetID(), nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return 0, nil
		}
	}
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

// codeSpan renders untrusted text as an inline code span, in which neither Markdown nor HTML
// is interpreted: the delimiter is one backtick longer than any run inside, and line breaks
// become spaces.
func codeSpan(text string) string {
	text = strings.NewReplacer("\r", " ", "\n", " ").Replace(text)
	fence := strings.Repeat("`", longestRun(text, '`')+1)
	if strings.HasPrefix(text, "`") || strings.HasSuffix(text, "`") || text == "" {
		text = " " + text + " "
	}
	return fence + text + fence
}

// codeBlock renders untrusted multi-line text as a fenced code block.
func codeBlock(text string) string {
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	return fence + "text\n" + strings.TrimRight(text, "\n") + "\n" + fence
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// escapeText escapes Markdown and HTML in short untrusted text shown outside code (workflow
// names in link text).
func escapeText(s string) string {
	var b strings.Builder
	for _, r := range redact.String(s) {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '!', '|', '~', '>', '<', '&', '@', ':':
			fmt.Fprintf(&b, "&#%d;", r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// safeURL keeps an https URL given by GitHub and drops anything else.
func safeURL(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
	}
	return "#"
}

// runLink links a workflow run by its escaped name and number.
func runLink(run *github.WorkflowRun) string {
	name := escapeText(run.GetName())
	if name == "" {
		name = "workflow run"
	}
	text := fmt.Sprintf("%s #%d", name, run.GetRunNumber())
	if u := run.GetHTMLURL(); u != "" {
		return fmt.Sprintf("[%s](%s)", text, safeURL(u))
	}
	return fmt.Sprintf("%s (run %d)", text, run.GetID())
}

// short abbreviates a commit SHA.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
