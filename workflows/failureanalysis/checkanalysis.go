package failureanalysis

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/workflows/failureanalysis/loganalysis"
)

// analyzeCheckRun analyzes a failed check run of a CI that is not GitHub Actions: its output
// text and annotations are the log. Such checks cannot be re-run by this app.
func (s *session) analyzeCheckRun(ctx context.Context) error {
	a := s.args
	// GET /repos/{owner}/{repo}/check-runs/{check_run_id}
	// https://docs.github.com/en/rest/checks/runs#get-a-check-run
	check, _, err := s.client.Checks.GetCheckRun(ctx, a.Owner, a.Repo, a.CheckRunID)
	if err != nil {
		return fmt.Errorf("failed to get check run %d: %w", a.CheckRunID, err)
	}
	s.out.HeadSHA, s.out.Conclusion = check.GetHeadSHA(), check.GetConclusion()
	if check.GetName() == CheckRunName || check.GetApp().GetSlug() == "github-actions" {
		s.out.Skipped = "check run is the bot's own or belongs to GitHub Actions"
		return nil
	}
	var text strings.Builder
	out := check.GetOutput()
	for _, part := range []string{out.GetTitle(), out.GetSummary(), out.GetText()} {
		if part != "" {
			text.WriteString(part)
			text.WriteString("\n")
		}
	}
	if out.GetAnnotationsCount() > 0 {
		// GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations
		// https://docs.github.com/en/rest/checks/runs#list-check-run-annotations
		anns, _, err := s.client.Checks.ListCheckRunAnnotations(ctx, a.Owner, a.Repo, a.CheckRunID, &github.ListOptions{PerPage: 50})
		if err != nil {
			return fmt.Errorf("failed to list annotations of check run %d: %w", a.CheckRunID, err)
		}
		for _, an := range anns {
			fmt.Fprintf(&text, "%s:%d: %s: %s\n", an.GetPath(), an.GetStartLine(), an.GetAnnotationLevel(), an.GetMessage())
		}
	}
	res := redactResult(loganalysis.AnalyzeText(text.String(), loganalysis.Options{}))
	if res.FailedStep == "" {
		res.FailedStep = check.GetName()
	}
	f := failure{result: res, fingerprint: res.Fingerprint(), jobs: []jobRef{{Name: check.GetName(), URL: check.GetHTMLURL()}}}
	s.out.Failures = []FailureOut{f.output()}
	s.out.Rerun = "no re-run: checks of other CI systems are re-run by their own app"

	var b strings.Builder
	fmt.Fprintf(&b, "### ❌ %s — [check run](%s)\n\n", plain(check.GetName()), check.GetHTMLURL())
	writeFailure(&b, f)
	b.WriteString("**What the bot did:** reported only; this check belongs to another CI system.\n")
	sec := section{
		Key: "check:" + check.GetName(), Workflow: check.GetName(), RunID: check.GetID(), Attempt: 1,
		Headline: fmt.Sprintf("%s failed: %s", plain(check.GetName()), plain(res.Summary)), Body: b.String(),
	}
	if s.cfg.CheckRun {
		id, err := s.upsertCheckRun(ctx, check.GetHeadSHA(), 0, sec, []failure{f})
		if err != nil {
			return err
		}
		s.out.CheckRunID = id
	}
	var prs []int
	for _, pr := range check.PullRequests {
		if pr.GetHead().GetSHA() == check.GetHeadSHA() {
			prs = append(prs, pr.GetNumber())
		}
	}
	s.out.PullRequests = prs
	if s.cfg.Comment {
		return s.updateComments(ctx, prs, sec)
	}
	return nil
}
