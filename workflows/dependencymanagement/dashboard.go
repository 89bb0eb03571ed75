package dependencymanagement

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/store"
)

// DashboardTitle is the title of the one Dependency dashboard issue per repository.
const DashboardTitle = "Dependency dashboard"

// dashboardMarker identifies the bot's dashboard issue in its body.
const dashboardMarker = "<!-- autonomous-ci:dependency-dashboard -->"

// report is what a run tells the dashboard.
type report struct {
	plan        *Plan
	open        map[string]openPR
	prs         []prRef
	pending     []Group
	blocked     []Skipped
	humanEdited []Group
}

type prRef struct {
	group  Group
	number int
	url    string
}

// DashboardBody renders the dashboard: open, pending, blocked, ignored and major updates and
// the open advisories.
func DashboardBody(r *report) string {
	var b strings.Builder
	b.WriteString(dashboardMarker + "\n")
	b.WriteString("This issue lists the dependency updates the bot found and what it did with them. It is edited in place on every run.\n")
	section := func(title string, lines []string) {
		b.WriteString("\n## " + title + "\n\n")
		if len(lines) == 0 {
			b.WriteString("None.\n")
			return
		}
		for _, l := range lines {
			b.WriteString("- " + l + "\n")
		}
	}
	var open []string
	for _, p := range r.prs {
		open = append(open, fmt.Sprintf("#%d %s", p.number, markdown.Text(p.group.Title)))
	}
	section("Open update pull requests", open)
	var pending []string
	for _, g := range r.pending {
		pending = append(pending, markdown.Text(g.Title)+" (waiting: the open pull request limit is reached)")
	}
	for _, u := range r.plan.Majors {
		pending = append(pending, fmt.Sprintf("%s %s → %s (major: listed, not opened under this update strategy)",
			markdown.Code(u.Name), markdown.Code(u.From), markdown.Code(u.To)))
	}
	section("Pending", pending)
	var blocked []string
	for _, s := range r.blocked {
		blocked = append(blocked, fmt.Sprintf("%s %s → %s: %s", markdown.Code(s.Update.Name), markdown.Code(s.Update.From), markdown.Code(s.Update.To), markdown.Plain(s.Reason)))
	}
	for _, g := range r.humanEdited {
		blocked = append(blocked, fmt.Sprintf("%s: a person pushed to %s, so the bot no longer updates it", markdown.Text(g.Title), markdown.Code(g.Branch())))
	}
	for _, p := range r.plan.Problems {
		blocked = append(blocked, markdown.Plain(p))
	}
	section("Blocked", blocked)
	var ignored []string
	for _, u := range r.plan.Ignored {
		ignored = append(ignored, fmt.Sprintf("%s %s → %s", markdown.Code(u.Name), markdown.Code(u.From), markdown.Code(u.To)))
	}
	section("Ignored (dependency_management.ignore)", ignored)
	var advs []string
	for _, f := range r.plan.Findings {
		for _, a := range f.Advisories {
			advs = append(advs, fmt.Sprintf("[%s](%s) %s in %s %s (%s): %s", markdown.Text(a.ID),
				markdown.SafeURL("https://osv.dev/vulnerability/"+url.PathEscape(a.ID)), a.Severity,
				markdown.Code(f.Name), markdown.Code(f.Version), markdown.Code(f.Manifest), markdown.Plain(a.Summary)))
		}
	}
	section("Open advisories", advs)
	return b.String()
}

// upsertDashboard edits the dashboard issue in place, creating it once: the open issues are
// looked through (uncached) for the marker before a create, and the create is recorded
// (store.Store.CreateOnce) so a retry after a lost answer finds it.
func (w *Worker) upsertDashboard(ctx context.Context, client *github.Client, owner, repo string, r *report) (int64, error) {
	return w.upsertDashboardOnce(ctx, client, owner, repo, r, false)
}

// gone tells whether GitHub answered that the issue is not there (404) or was deleted (410).
func gone(err error) bool { return ghapp.IsNotFound(err) || ghapp.HasStatus(err, http.StatusGone) }

// upsertDashboardOnce is upsertDashboard; retried is set on its second try, after the
// recorded dashboard was found deleted.
func (w *Worker) upsertDashboardOnce(ctx context.Context, client *github.Client, owner, repo string, r *report, retried bool) (int64, error) {
	body := DashboardBody(r)
	find := func(ctx context.Context) (int64, error) {
		var found int64
		err := ghapp.EachFresh(ctx, client, fmt.Sprintf("repos/%s/%s/issues", url.PathEscape(owner), url.PathEscape(repo)),
			url.Values{"state": {"open"}}, 20, func(page []*github.Issue) bool {
				for _, is := range page {
					if !is.IsPullRequest() && strings.Contains(is.GetBody(), dashboardMarker) {
						found = int64(is.GetNumber())
						return true
					}
				}
				return false
			})
		if err != nil {
			return 0, fmt.Errorf("failed to look for the dependency dashboard: %w", err)
		}
		return found, nil
	}
	key := fmt.Sprintf("deps-dashboard:%s/%s", strings.ToLower(owner), strings.ToLower(repo))
	number, created, err := w.deps.Records.CreateOnce(ctx, store.Effect{
		Key: key, Find: find, FindFirst: true,
		Create: func(ctx context.Context) (int64, error) {
			is, _, err := client.Issues.Create(ctx, owner, repo, &github.IssueRequest{Title: github.String(DashboardTitle), Body: github.String(body)})
			if err != nil {
				return 0, fmt.Errorf("failed to create the dependency dashboard: %w", err)
			}
			return int64(is.GetNumber()), nil
		},
	})
	if err != nil || created {
		return number, err
	}
	// GET /repos/{owner}/{repo}/issues/{issue_number} — https://docs.github.com/en/rest/issues/issues#get-an-issue
	is, _, err := client.Issues.Get(ctx, owner, repo, int(number))
	if gone(err) && !retried {
		// Deleted by a person (404, or 410 Gone): forget it, and look for or make a new one.
		if err := w.deps.Records.ForgetEffect(ctx, key, number); err != nil {
			return 0, err
		}
		return w.upsertDashboardOnce(ctx, client, owner, repo, r, true)
	}
	if err != nil {
		return 0, fmt.Errorf("failed to read the dependency dashboard #%d: %w", number, err)
	}
	if is.GetState() != "open" {
		// Closed by a person: a closed dashboard is not reopened behind their back. Look for an
		// open one next time (the recorded create names the closed one).
		return number, nil
	}
	if is.GetBody() == body {
		return number, nil
	}
	if _, _, err := client.Issues.Edit(ctx, owner, repo, int(number), &github.IssueRequest{Body: github.String(body)}); err != nil {
		return 0, fmt.Errorf("failed to edit the dependency dashboard #%d: %w", number, err)
	}
	return number, nil
}

// note comments on an update PR once per head and kind ("failed", "blocked").
func (w *Worker) note(ctx context.Context, client *github.Client, a Args, number int, sha, kind, text string) error {
	marker := fmt.Sprintf("<!-- autonomous-ci:deps-note %s %s -->", kind, sha)
	body := text + "\n\n" + marker
	_, _, err := w.deps.Records.CreateOnce(ctx, store.Effect{
		Key: fmt.Sprintf("deps-note:%s/%s#%d:%s:%s", strings.ToLower(a.Owner), strings.ToLower(a.Repo), number, kind, sha),
		Find: func(ctx context.Context) (int64, error) {
			var found int64
			err := ghapp.EachFresh(ctx, client, fmt.Sprintf("repos/%s/%s/issues/%d/comments", url.PathEscape(a.Owner), url.PathEscape(a.Repo), number),
				nil, 20, func(page []*github.IssueComment) bool {
					for _, c := range page {
						if strings.Contains(c.GetBody(), marker) {
							found = c.GetID()
							return true
						}
					}
					return false
				})
			return found, err
		},
		FindFirst: true,
		Create: func(ctx context.Context) (int64, error) {
			c, _, err := client.Issues.CreateComment(ctx, a.Owner, a.Repo, number, &github.IssueComment{Body: github.String(body)})
			if err != nil {
				return 0, fmt.Errorf("failed to comment on #%d: %w", number, err)
			}
			return c.GetID(), nil
		},
	})
	return err
}
