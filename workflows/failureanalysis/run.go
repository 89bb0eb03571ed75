package failureanalysis

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
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
)

// analyzeWorkflowRun analyzes one attempt of a GitHub Actions run and reports it.
func (s *session) analyzeWorkflowRun(ctx context.Context) error {
	a := s.args
	// GET /repos/{owner}/{repo}/actions/runs/{run_id}
	// https://docs.github.com/en/rest/actions/workflow-runs#get-a-workflow-run
	// Fresh, not from the HTTP cache: the run's latest attempt decides on re-runs and reports.
	run := new(github.WorkflowRun)
	_, err := ghapp.GetFresh(ctx, s.client, fmt.Sprintf("repos/%s/%s/actions/runs/%d",
		url.PathEscape(a.Owner), url.PathEscape(a.Repo), a.RunID), nil, run)
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
	if conclusion == "success" && attempt == 1 && onDefaultBranch(run) && len(run.PullRequests) == 0 {
		// A first-attempt pass of the default branch: nothing was reported for it on a pull
		// request, and no earlier attempt can make it flaky; only a red-branch alert clears.
		s.tellDefaultBranch(ctx, run, attempt, nil)
		s.out.Skipped = "the default branch passes"
		return nil
	}
	prs, err := s.pullRequests(ctx, run)
	if err != nil {
		return err
	}
	all := len(prs)
	if prs, err = s.withoutSkipped(ctx, prs); err != nil {
		return err
	}
	if all > 0 && len(prs) == 0 {
		s.out.Skipped = "every pull request of the run is labelled " + SkipLabel
		return nil
	}
	s.out.PullRequests = append(s.out.PullRequests, prs...)
	if conclusion == "success" {
		s.tellDefaultBranch(ctx, run, attempt, nil)
		sec, checkErr, err := s.recordPass(ctx, run, attempt)
		if err != nil || !s.cfg.Comment {
			return errors.Join(err, s.checkRunFailed(ctx, checkErr), s.considerFixAfter(ctx, err, run, attempt, prs, nil))
		}
		err = s.updateComments(ctx, prs, sec, onlyIfReported())
		return errors.Join(err, s.checkRunFailed(ctx, checkErr), s.considerFixAfter(ctx, err, run, attempt, prs, nil))
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
	s.recordFailedTests(ctx, attempt, failures)
	s.markKnownFlaky(ctx, failures)
	sec, checkErr, err := s.recordFailure(ctx, run, attempt, failures, notAnalyzed)
	if err != nil {
		return err
	}
	s.tellDefaultBranch(ctx, run, attempt, append([]failure{}, failures...))
	// A check run GitHub refused (or has not confirmed) never costs the pull request its report.
	var commentErr error
	if s.cfg.Comment {
		commentErr = s.updateComments(ctx, prs, sec)
	}
	return errors.Join(commentErr, s.checkRunFailed(ctx, checkErr), s.considerFixAfter(ctx, commentErr, run, attempt, prs, failures))
}

// latestCheckRun returns the bot's check run of the newest attempt before attempt, or zero.
func latestCheckRun(previous []store.RunResult, attempt int) int64 {
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
func newerAttemptReported(previous []store.RunResult, attempt int) bool {
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
		return fmt.Sprintf("HTTP %d: %s", code, markdown.OneLine(msg)), true
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
