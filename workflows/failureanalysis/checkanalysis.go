package failureanalysis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/store"
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
	if a.Trigger == "webhook" && slices.ContainsFunc(s.cfg.IgnoreWorkflows, func(n string) bool { return strings.EqualFold(n, check.GetName()) }) {
		s.out.Skipped = "check is listed in failure_analysis.ignore_workflows"
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
	fmt.Fprintf(&b, "### ❌ %s — [check run](%s)\n\n", markdown.Plain(check.GetName()), check.GetHTMLURL())
	writeFailure(&b, f, true)
	b.WriteString("**What the bot did:** reported only; this check belongs to another CI system.\n")
	sec := prreport.Section{
		Key: "check:" + check.GetName(), Workflow: check.GetName(), RunID: check.GetID(), Attempt: 1,
		Headline: fmt.Sprintf("%s failed: %s", markdown.Plain(check.GetName()), markdown.Plain(res.Summary)), Body: b.String(),
		Title: markdown.OneLine(check.GetName() + " failed: " + res.Summary),
		Short: fmt.Sprintf("### ❌ %s — [check run](%s)\n\n**%s**\n\n", markdown.Plain(check.GetName()), check.GetHTMLURL(), markdown.Plain(res.Summary)),
	}
	// The analysis is recorded as a run result under the negated check run id (workflow run ids
	// are positive, so the two never meet): a retried job then updates the check run it created
	// instead of adding a second one.
	result := store.RunResult{
		Owner: a.Owner, Repo: a.Repo, RunID: -check.GetID(), Attempt: 1, HeadSHA: check.GetHeadSHA(),
		Workflow: check.GetName(), Conclusion: check.GetConclusion(), Fingerprints: []string{f.fingerprint},
		HTMLURL: check.GetHTMLURL(),
	}
	checkErr, err := s.recordCheck(ctx, result, sec, f)
	if err != nil {
		return err
	}
	var prs []int
	for _, pr := range check.PullRequests {
		if pr.GetHead().GetSHA() == check.GetHeadSHA() {
			prs = append(prs, pr.GetNumber())
		}
	}
	if len(prs) == 0 && s.cfg.Comment {
		// A check run lists no pull requests when the head is in a fork: ask which open pull
		// requests have the commit as their head.
		if prs, err = s.pullRequestsWithHead(ctx, check.GetHeadSHA()); err != nil {
			return err
		}
	}
	if prs, err = s.withoutSkipped(ctx, prs); err != nil {
		return err
	}
	s.out.PullRequests = prs
	var commentErr error
	if s.cfg.Comment {
		commentErr = s.updateComments(ctx, prs, sec)
	}
	return errors.Join(commentErr, s.checkRunFailed(ctx, checkErr))
}

// recordCheck writes the bot's check run for a third-party check and records the analysis,
// under the run's lease (see recordFailure). The check run's error is returned apart.
func (s *session) recordCheck(ctx context.Context, result store.RunResult, sec prreport.Section, f failure) (error, error) {
	ctx, release, previous, err := s.lockRun(ctx, result.RunID)
	if err != nil {
		return nil, err
	}
	defer release()
	for _, p := range previous {
		result.CheckRunID = p.CheckRunID
	}
	var checkErr error
	if s.cfg.CheckRun {
		id, err := s.upsertCheckRun(ctx, result.HeadSHA, result.RunID, result.CheckRunID, sec, []failure{f})
		if err == nil || id != 0 {
			result.CheckRunID, s.out.CheckRunID = id, id
		}
		checkErr = err
	}
	return checkErr, s.w.deps.Records.SaveRunResult(ctx, result)
}
