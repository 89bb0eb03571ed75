package failureanalysis

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/recovery"
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
	switch conclusion {
	case "success", "failure", "timed_out", "startup_failure":
	case "":
		// A run re-triggered while analysis was asked for: its jobs so far are no verdict, and
		// its completion sends its own webhook.
		s.out.Skipped = fmt.Sprintf("attempt %d has not completed yet", attempt)
		return nil
	default:
		s.out.Skipped = fmt.Sprintf("attempt %d did not fail (conclusion %s)", attempt, conclusion)
		return nil
	}
	prs, err := s.pullRequests(ctx, run)
	if err != nil {
		return err
	}
	s.out.PullRequests = append(s.out.PullRequests, prs...)
	previous, err := s.w.deps.Records.RunResults(ctx, a.Owner, a.Repo, a.RunID)
	if err != nil {
		return err
	}
	if conclusion == "success" {
		return s.reportPass(ctx, run, attempt, prs, previous)
	}

	jobs, notAnalyzed, err := s.failedJobs(ctx, attempt)
	if err != nil {
		return err
	}
	s.base = s.newBaselines(run)
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
	if decision.rerun && notAnalyzed > 0 {
		decision = rerunDecision{reason: fmt.Sprintf("%d failed jobs were not analyzed", notAnalyzed)}
	}
	if decision.rerun && !result.RerunRequested && run.GetRunAttempt() == attempt {
		// POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs
		// https://docs.github.com/en/rest/actions/workflow-runs#re-run-failed-jobs-from-a-workflow-run
		if _, err := s.client.Actions.RerunFailedJobsByID(ctx, a.Owner, a.Repo, a.RunID); err != nil {
			refusal, ok := rerunRefused(err)
			if !ok {
				return fmt.Errorf("failed to re-run failed jobs of run %d: %w", a.RunID, err)
			}
			// GitHub will not re-run this run (too old, already running, no permission):
			// retrying cannot change that, and the report must still be made.
			s.logger(ctx).Warn().Err(err).Int("attempt", attempt).Msg("GitHub refused to re-run failed jobs")
			decision = rerunDecision{reason: "GitHub refused the re-run (" + refusal + ")"}
		} else {
			result.RerunRequested = true
			s.logger(ctx).Info().Int("attempt", attempt).Msg("Requested a re-run of failed jobs")
			// Remember it at once: if reporting fails below, the retry must not re-run again.
			if err := s.w.deps.Records.SaveRunResult(ctx, result); err != nil {
				return err
			}
		}
	}
	s.out.Rerun = decision.describe(result.RerunRequested)
	for _, f := range failures {
		s.out.Failures = append(s.out.Failures, f.output())
	}

	section := newFailedSection(run, attempt, failures, notAnalyzed, decision, result.RerunRequested)
	if s.cfg.CheckRun && newerAttemptReported(previous, attempt) {
		// The check run is shared by the run's attempts and tells of a newer one already.
		s.out.CheckRunID = result.CheckRunID
	} else if s.cfg.CheckRun {
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
	if id := latestCheckRun(previous, attempt); s.cfg.CheckRun && id != 0 && result.CheckRunID == 0 && !newerAttemptReported(previous, attempt) {
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

// newerAttemptReported reports whether a later attempt than attempt was analyzed already: its
// report must not be replaced by an older attempt's.
func newerAttemptReported(previous []workflows.RunResult, attempt int) bool {
	for _, p := range previous {
		if p.Attempt > attempt {
			return true
		}
	}
	return false
}

// rerunRefused reports whether GitHub refused a re-run for good (403 without a rate limit: the
// run is too old or the app may not; 409/422: already running or not re-runnable), with
// GitHub's message.
func rerunRefused(err error) (string, bool) {
	var resp *github.ErrorResponse
	if !errors.As(err, &resp) || resp.Response == nil {
		return "", false
	}
	// GitHub: a secondary rate limit is a 403 or 429 with Retry-After, whatever its body says.
	if _, limited := recovery.RetryAfter(err, time.Now()); limited || resp.Response.Header.Get("Retry-After") != "" {
		return "", false
	}
	switch code := resp.Response.StatusCode; code {
	case http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity:
		msg := resp.Message
		if msg == "" {
			msg = http.StatusText(code)
		}
		return fmt.Sprintf("HTTP %d: %s", code, oneLine(msg)), true
	}
	return "", false
}

// failedJobs lists the jobs of the attempt that failed, at most maxJobsAnalyzed of them, and how
// many more failed jobs it saw (at least; it stops paging at the cap).
func (s *session) failedJobs(ctx context.Context, attempt int) ([]*github.WorkflowJob, int, error) {
	var failed []*github.WorkflowJob
	opts := &github.ListOptions{PerPage: 100}
	for {
		// GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs
		// https://docs.github.com/en/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run-attempt
		jobs, resp, err := s.client.Actions.ListWorkflowJobsAttempt(ctx, s.args.Owner, s.args.Repo, s.args.RunID, int64(attempt), opts)
		if err != nil {
			return nil, 0, fmt.Errorf("failed to list jobs of run %d attempt %d: %w", s.args.RunID, attempt, err)
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
	if len(failed) > maxJobsAnalyzed {
		return failed[:maxJobsAnalyzed], len(failed) - maxJobsAnalyzed, nil
	}
	return failed, 0, nil
}

// maxJobsAnalyzed bounds the logs downloaded for one run: a 200-job matrix that failed
// everywhere almost always fails for one reason.
const maxJobsAnalyzed = 20

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
