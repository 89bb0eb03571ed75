package testoptimization

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/testoptimization/flakiness"
)

// healthMarker identifies the repository's CI health issue; it is found by this marker and
// edited in place.
const healthMarker = "<!-- autonomous-ci:ci-health -->"

// healthTitle is the CI health issue's title.
const healthTitle = "Autonomous CI: CI health (flaky and slow tests)"

// maxIssueBytes keeps the issue body well under GitHub's 65,536 characters.
const maxIssueBytes = 60000

// updateHealthIssue creates the repository's CI health issue once and edits it in place.
func (s *session) updateHealthIssue(ctx context.Context, rep Report) (int, error) {
	return s.updateHealthIssueOnce(ctx, rep, false)
}

// updateHealthIssueOnce is updateHealthIssue; retried is set on its second try, after the
// recorded issue was found deleted.
func (s *session) updateHealthIssueOnce(ctx context.Context, rep Report, retried bool) (int, error) {
	a := s.args
	body := healthBody(rep, time.Now().UTC())
	key := fmt.Sprintf("ci-health-issue:%s/%s", lower(a.Owner), lower(a.Repo))
	id, created, err := s.w.deps.Store.CreateOnce(ctx, store.Effect{
		Key:       key,
		FindFirst: true,
		Find:      func(ctx context.Context) (int64, error) { return s.findHealthIssue(ctx) },
		Create: func(ctx context.Context) (int64, error) {
			// POST /repos/{owner}/{repo}/issues — https://docs.github.com/en/rest/issues/issues#create-an-issue
			issue, _, err := s.client.Issues.Create(ctx, a.Owner, a.Repo, &github.IssueRequest{
				Title: github.String(healthTitle), Body: github.String(body),
			})
			if err != nil {
				return 0, fmt.Errorf("failed to create the CI health issue: %w", err)
			}
			return int64(issue.GetNumber()), nil
		},
	})
	if err != nil || created {
		return int(id), err
	}
	// PATCH /repos/{owner}/{repo}/issues/{issue_number}
	// https://docs.github.com/en/rest/issues/issues#update-an-issue
	_, _, err = s.client.Issues.Edit(ctx, a.Owner, a.Repo, int(id), &github.IssueRequest{Body: github.String(body)})
	if (ghapp.IsNotFound(err) || ghapp.HasStatus(err, http.StatusGone)) && !retried {
		// Deleted by a person (404, or 410 Gone): forget it, and look for or make a new one.
		if err := s.w.deps.Store.ForgetEffect(ctx, key, id); err != nil {
			return 0, err
		}
		return s.updateHealthIssueOnce(ctx, rep, true)
	}
	if err != nil {
		return int(id), fmt.Errorf("failed to update the CI health issue #%d: %w", id, err)
	}
	return int(id), nil
}

// findHealthIssue looks for the issue by its marker among the bot's open and closed issues.
func (s *session) findHealthIssue(ctx context.Context) (int64, error) {
	a := s.args
	opts := &github.IssueListByRepoOptions{State: "all", ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < 5; page++ {
		// GET /repos/{owner}/{repo}/issues — https://docs.github.com/en/rest/issues/issues#list-repository-issues
		issues, resp, err := s.client.Issues.ListByRepo(ctx, a.Owner, a.Repo, opts)
		if err != nil {
			return 0, fmt.Errorf("failed to look for the CI health issue: %w", err)
		}
		for _, is := range issues {
			if !is.IsPullRequest() && strings.Contains(is.GetBody(), healthMarker) {
				return int64(is.GetNumber()), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return 0, nil
}

// healthBody renders the CI health issue: flaky tests with rates and evidence, the slowest
// tests, and the tests that got slower.
func healthBody(rep Report, now time.Time) string {
	var b strings.Builder
	b.WriteString(healthMarker + "\n")
	fmt.Fprintf(&b, "Kept up to date by Autonomous CI from the last %d run attempts it collected (%d with test results). Last update: %s.\n\n",
		rep.LookbackRuns, rep.RunsAnalyzed, now.Format(time.RFC3339))
	b.WriteString("## Flaky tests\n\n")
	flaky := 0
	for _, f := range rep.Flaky {
		if f.Status == flakiness.Flaky || f.Status == flakiness.Quarantined {
			flaky++
		}
	}
	if flaky == 0 {
		b.WriteString("No test both failed and passed on the same commit.\n\n")
	} else {
		b.WriteString("A test is flaky when the same commit both failed and passed it. Quarantined tests (flake rate at or above the threshold) are re-run and reported as known flaky on pull requests.\n\n")
		b.WriteString("| test | status | flake rate | first seen | last seen | evidence |\n|---|---|---|---|---|---|\n")
		for _, f := range rep.Flaky {
			if f.Status != flakiness.Flaky && f.Status != flakiness.Quarantined {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.1f%% of %d runs | %s | %s | %s |\n", cell(f.TestID), f.Status, f.Rate*100, f.Runs,
				f.FirstSeen.UTC().Format(time.DateOnly), f.LastSeen.UTC().Format(time.DateOnly), evidenceLinks(f.Evidence))
			if b.Len() > maxIssueBytes/2 {
				b.WriteString("| … | | | | | |\n")
				break
			}
		}
		b.WriteString("\n")
	}
	var recovered []string
	for _, f := range rep.Flaky {
		if f.Status == flakiness.Recovered {
			recovered = append(recovered, cell(f.TestID))
		}
	}
	if len(recovered) > 0 {
		fmt.Fprintf(&b, "Recovered (clean since their last flip): %s\n\n", strings.Join(recovered, ", "))
	}
	b.WriteString("## Slowest tests\n\n")
	if len(rep.Slowest) == 0 {
		b.WriteString("No passing test durations yet.\n\n")
	} else {
		b.WriteString("| test | p50 | p90 | samples |\n|---|---|---|---|\n")
		for _, t := range rep.Slowest {
			fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", cell(t.TestID), round(t.P50), round(t.P90), t.Samples)
		}
		b.WriteString("\n")
	}
	if len(rep.Slower) > 0 {
		b.WriteString("## Tests that got slower\n\n| test | p90 before | p90 now |\n|---|---|---|\n")
		for _, t := range rep.Slower {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(t.TestID), round(t.Previous), round(t.Last))
		}
		b.WriteString("\n")
	}
	out := b.String()
	if len(out) > maxIssueBytes {
		out = markdown.Truncate(out, maxIssueBytes)
	}
	return out
}

func evidenceLinks(ev []flakiness.Evidence) string {
	var links []string
	for i, e := range ev {
		if i == 2 {
			break
		}
		if e.FailedURL != "" && e.PassedURL != "" {
			links = append(links, fmt.Sprintf("%s: [failed](%s), [passed](%s)", markdown.Code(short(e.SHA)), markdown.SafeURL(e.FailedURL), markdown.SafeURL(e.PassedURL)))
		}
	}
	return strings.Join(links, "; ")
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.String()
}

// cell renders a test id as code inside a table cell (a pipe would end the cell).
func cell(id string) string { return markdown.Code(strings.ReplaceAll(id, "|", "\\|")) }
