package failureanalysis

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/workflows"
)

// analyzeWorkflowRun analyzes one attempt of a GitHub Actions run and reports it.
func (s *session) analyzeWorkflowRun(ctx context.Context) error {
	a := s.args
	// GET /repos/{owner}/{repo}/actions/runs/{run_id}
	// https://docs.github.com/en/rest/actions/workflow-runs#get-a-workflow-run
	run, _, err := s.client.Actions.GetWorkflowRunByID(ctx, a.Owner, a.Repo, a.RunID)
	if err != nil {
		return fmt.Errorf("failed to get workflow run %d: %w", a.RunID, err)
	}
	attempt := a.RunAttempt
	if attempt == 0 {
		attempt = run.GetRunAttempt()
	}
	s.out.HeadSHA, s.out.Attempt = run.GetHeadSHA(), attempt
	if ignoredWorkflow(s.cfg.IgnoreWorkflows, run) && a.Trigger == "webhook" {
		s.out.Skipped = "workflow is listed in failure_analysis.ignore_workflows"
		return nil
	}
	conclusion := run.GetConclusion()
	if attempt != run.GetRunAttempt() {
		// An older attempt: its own conclusion, not the latest one's.
		// GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}
		// https://docs.github.com/en/rest/actions/workflow-runs#get-a-workflow-run-attempt
		old, _, err := s.client.Actions.GetWorkflowRunAttempt(ctx, a.Owner, a.Repo, a.RunID, attempt, nil)
		if err != nil {
			return fmt.Errorf("failed to get attempt %d of run %d: %w", attempt, a.RunID, err)
		}
		conclusion = old.GetConclusion()
	}
	s.out.Conclusion = conclusion
	prs := currentPullRequests(run)
	s.out.PullRequests = append(s.out.PullRequests, prs...)
	previous, err := s.w.deps.Records.RunResults(ctx, a.Owner, a.Repo, a.RunID)
	if err != nil {
		return err
	}
	if conclusion == "success" {
		return s.reportPass(ctx, run, attempt, prs, previous)
	}

	jobs, err := s.failedJobs(ctx, attempt)
	if err != nil {
		return err
	}
	failures, err := s.analyzeJobs(ctx, jobs)
	if err != nil {
		return err
	}
	result := workflows.RunResult{
		Owner: a.Owner, Repo: a.Repo, RunID: a.RunID, Attempt: attempt, HeadSHA: run.GetHeadSHA(),
		Workflow: run.GetName(), Conclusion: conclusion, HTMLURL: attemptURL(run, attempt),
	}
	for _, f := range failures {
		result.Fingerprints = append(result.Fingerprints, f.fingerprint)
	}
	for _, p := range previous {
		if p.Attempt == attempt {
			result.CheckRunID = p.CheckRunID
			result.RerunRequested = p.RerunRequested
		}
	}
	if result.CheckRunID == 0 {
		// A new attempt updates the check run of the earlier one: one check run per run.
		result.CheckRunID = latestCheckRun(previous, attempt)
	}

	decision := decideRerun(s.cfg, run, attempt, failures, previous)
	if decision.rerun && !result.RerunRequested && run.GetRunAttempt() == attempt {
		// POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs
		// https://docs.github.com/en/rest/actions/workflow-runs#re-run-failed-jobs-from-a-workflow-run
		if _, err := s.client.Actions.RerunFailedJobsByID(ctx, a.Owner, a.Repo, a.RunID); err != nil {
			return fmt.Errorf("failed to re-run failed jobs of run %d: %w", a.RunID, err)
		}
		result.RerunRequested = true
		s.logger(ctx).Info().Int("attempt", attempt).Msg("Requested a re-run of failed jobs")
		// Remember it at once: if reporting fails below, the retry must not re-run again.
		if err := s.w.deps.Records.SaveRunResult(ctx, result); err != nil {
			return err
		}
	}
	s.out.Rerun = decision.describe(result.RerunRequested)
	for _, f := range failures {
		s.out.Failures = append(s.out.Failures, f.output())
	}

	section := newFailedSection(run, attempt, failures, decision, result.RerunRequested)
	if s.cfg.CheckRun {
		id, err := s.upsertCheckRun(ctx, run.GetHeadSHA(), result.CheckRunID, section, failures)
		if err != nil {
			return err
		}
		result.CheckRunID, s.out.CheckRunID = id, id
	}
	if err := s.w.deps.Records.SaveRunResult(ctx, result); err != nil {
		return err
	}
	if s.cfg.Comment {
		return s.updateComments(ctx, prs, section)
	}
	return nil
}

// reportPass records a passing attempt and, where the bot reported a failure of this workflow
// on the pull request, says it passed now, with the evidence of flakiness when the same commit
// failed before.
func (s *session) reportPass(ctx context.Context, run *github.WorkflowRun, attempt int, prs []int, previous []workflows.RunResult) error {
	a := s.args
	result := workflows.RunResult{
		Owner: a.Owner, Repo: a.Repo, RunID: a.RunID, Attempt: attempt, HeadSHA: run.GetHeadSHA(),
		Workflow: run.GetName(), Conclusion: "success", HTMLURL: attemptURL(run, attempt),
	}
	var failedBefore []workflows.RunResult
	for _, p := range previous {
		if p.Attempt < attempt && p.Conclusion != "success" && p.HeadSHA == run.GetHeadSHA() {
			failedBefore = append(failedBefore, p)
		}
		if p.Attempt == attempt {
			result.CheckRunID = p.CheckRunID
		}
	}
	section := newPassedSection(run, attempt, failedBefore)
	if id := latestCheckRun(previous, attempt); s.cfg.CheckRun && id != 0 && result.CheckRunID == 0 {
		// The bot's check run of the failed attempt would keep telling of a failure: say it passes.
		if _, err := s.upsertCheckRun(ctx, run.GetHeadSHA(), id, section, nil); err != nil {
			return err
		}
		result.CheckRunID, s.out.CheckRunID = id, id
	}
	if err := s.w.deps.Records.SaveRunResult(ctx, result); err != nil {
		return err
	}
	if !s.cfg.Comment {
		return nil
	}
	return s.updateComments(ctx, prs, section, onlyIfReported())
}

// latestCheckRun returns the bot's check run of the newest attempt before attempt, or zero.
func latestCheckRun(previous []workflows.RunResult, attempt int) int64 {
	var id int64
	for _, p := range previous { // oldest first
		if p.Attempt < attempt && p.CheckRunID != 0 {
			id = p.CheckRunID
		}
	}
	return id
}

// failedJobs lists the jobs of the attempt that failed.
func (s *session) failedJobs(ctx context.Context, attempt int) ([]*github.WorkflowJob, error) {
	var failed []*github.WorkflowJob
	opts := &github.ListOptions{PerPage: 100}
	for {
		// GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs
		// https://docs.github.com/en/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run-attempt
		jobs, resp, err := s.client.Actions.ListWorkflowJobsAttempt(ctx, s.args.Owner, s.args.Repo, s.args.RunID, int64(attempt), opts)
		if err != nil {
			return nil, fmt.Errorf("failed to list jobs of run %d attempt %d: %w", s.args.RunID, attempt, err)
		}
		for _, j := range jobs.Jobs {
			switch j.GetConclusion() {
			case "failure", "timed_out", "startup_failure":
				failed = append(failed, j)
			}
		}
		if resp.NextPage == 0 || len(failed) >= maxJobsAnalyzed {
			break
		}
		opts.Page = resp.NextPage
	}
	return failed, nil
}

// maxJobsAnalyzed bounds the logs downloaded for one run: a 200-job matrix that failed
// everywhere almost always fails for one reason.
const maxJobsAnalyzed = 20

// currentPullRequests returns the pull requests of the run whose head is still the run's head
// commit: a report about an outdated commit would only mislead.
func currentPullRequests(run *github.WorkflowRun) []int {
	var out []int
	for _, pr := range run.PullRequests {
		if pr.GetHead().GetSHA() == run.GetHeadSHA() && pr.GetNumber() > 0 {
			out = append(out, pr.GetNumber())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ignoredWorkflow matches failure_analysis.ignore_workflows against the workflow's name.
func ignoredWorkflow(ignore []string, run *github.WorkflowRun) bool {
	for _, name := range ignore {
		if strings.EqualFold(name, run.GetName()) {
			return true
		}
	}
	return false
}

// attemptURL links to one attempt of a run.
func attemptURL(run *github.WorkflowRun, attempt int) string {
	return fmt.Sprintf("%s/attempts/%d", strings.TrimSuffix(run.GetHTMLURL(), "/"), attempt)
}
