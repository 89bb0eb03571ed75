package failureanalysis

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// lockRun takes the run's lease (see store.Store.LockRun) and loads what earlier executions
// recorded of the run, read under the lease. It returns a context that ends before the lease
// does, and the release.
func (s *session) lockRun(ctx context.Context, runID int64) (context.Context, func(), []store.RunResult, error) {
	a := s.args
	release, err := s.w.deps.Records.LockRun(ctx, a.Owner, a.Repo, runID, runLease, prreport.LeaseWait)
	if err != nil {
		return nil, nil, nil, err
	}
	leased, cancel := context.WithTimeout(ctx, runLease-runLeaseMargin)
	done := func() { cancel(); release() }
	previous, err := s.w.deps.Records.RunResults(leased, a.Owner, a.Repo, runID)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return leased, done, previous, nil
}

// runLease is how long one execution may hold a run while it decides on the re-run and writes
// the check run (a crashed holder blocks the others that long); runLeaseMargin is kept free of
// GitHub calls at its end.
const (
	runLease       = 30 * time.Second
	runLeaseMargin = 10 * time.Second
)

// checkRunFailed returns the check-run error for the job to retry, or, when retrying cannot
// help (GitHub refused it: 4xx other than a rate limit), records it in the output and returns
// nil.
func (s *session) checkRunFailed(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var resp *github.ErrorResponse
	if _, limited := recovery.RetryAfter(err, time.Now()); !limited && errors.As(err, &resp) && resp.Response != nil {
		switch resp.Response.StatusCode {
		case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity:
			s.out.CheckRunError = markdown.OneLine(fmt.Sprintf("HTTP %d: %s", resp.Response.StatusCode, resp.Message))
			s.logger(ctx).Warn().Err(err).Msg("GitHub refused the check run; the comment was posted")
			return nil
		}
	}
	return err
}

// recordFailure decides on the re-run, writes the check run and records the attempt, under the
// run's lease: two executions of one run (its attempts, a webhook and a command) take turns, so
// there is one check run per run and the newest attempt's report is the last. It returns the
// report's prreport.Section, and the check run's error apart, as the comment is posted regardless.
func (s *session) recordFailure(ctx context.Context, run *github.WorkflowRun, attempt int, failures []failure, notAnalyzed int) (prreport.Section, error, error) {
	a := s.args
	ctx, release, previous, err := s.lockRun(ctx, a.RunID)
	if err != nil {
		return prreport.Section{}, nil, err
	}
	defer release()
	result := store.RunResult{
		Owner: a.Owner, Repo: a.Repo, RunID: a.RunID, Attempt: attempt, HeadSHA: run.GetHeadSHA(),
		Workflow: run.GetName(), Conclusion: s.out.Conclusion, HTMLURL: attemptURL(run, attempt),
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
				return prreport.Section{}, nil, fmt.Errorf("failed to re-run failed jobs of run %d: %w", a.RunID, err)
			}
			// GitHub will not re-run this run (too old, already running, no permission):
			// retrying cannot change that, and the report must still be made.
			s.logger(ctx).Warn().Err(err).Int(workflows.LogKeyRunAttempt, attempt).Msg("GitHub refused to re-run failed jobs")
			decision = rerunDecision{reason: "GitHub refused the re-run (" + refusal + ")"}
		} else {
			result.RerunRequested = true
			s.logger(ctx).Info().Int(workflows.LogKeyRunAttempt, attempt).Msg("Requested a re-run of failed jobs")
			// Remember it at once: if reporting fails below, the retry must not re-run again.
			if err := s.w.deps.Records.SaveRunResult(ctx, result); err != nil {
				return prreport.Section{}, nil, err
			}
		}
	}
	s.out.Rerun = decision.describe(result.RerunRequested)
	for _, f := range failures {
		s.out.Failures = append(s.out.Failures, f.output())
	}

	sec := newFailedSection(run, attempt, failures, notAnalyzed, decision, result.RerunRequested)
	var checkErr error
	if s.cfg.CheckRun && newerAttemptReported(previous, attempt) {
		// The check run is shared by the run's attempts and tells of a newer one already.
		s.out.CheckRunID = result.CheckRunID
	} else if s.cfg.CheckRun {
		id, err := s.upsertCheckRun(ctx, run.GetHeadSHA(), a.RunID, result.CheckRunID, sec, failures)
		if err == nil || id != 0 {
			result.CheckRunID, s.out.CheckRunID = id, id
		}
		checkErr = err
	}
	if err := s.w.deps.Records.SaveRunResult(ctx, result); err != nil {
		return prreport.Section{}, nil, err
	}
	return sec, checkErr, nil
}

// recordPass records a passing attempt and, where the bot's check run of a failed attempt
// would keep telling of a failure, says it passes now, with the evidence of flakiness when the
// same commit failed before. Under the run's lease, as recordFailure.
func (s *session) recordPass(ctx context.Context, run *github.WorkflowRun, attempt int) (prreport.Section, error, error) {
	a := s.args
	ctx, release, previous, err := s.lockRun(ctx, a.RunID)
	if err != nil {
		return prreport.Section{}, nil, err
	}
	defer release()
	result := store.RunResult{
		Owner: a.Owner, Repo: a.Repo, RunID: a.RunID, Attempt: attempt, HeadSHA: run.GetHeadSHA(),
		Workflow: run.GetName(), Conclusion: "success", HTMLURL: attemptURL(run, attempt),
	}
	var failedBefore []store.RunResult
	for _, p := range previous {
		if p.Attempt < attempt && p.Conclusion != "success" && p.HeadSHA == run.GetHeadSHA() {
			failedBefore = append(failedBefore, p)
		}
		if p.Attempt == attempt {
			result.CheckRunID = p.CheckRunID
		}
	}
	sec := newPassedSection(run, attempt, failedBefore)
	var checkErr error
	if id := latestCheckRun(previous, attempt); s.cfg.CheckRun && id != 0 && result.CheckRunID == 0 && !newerAttemptReported(previous, attempt) {
		// The bot's check run of the failed attempt would keep telling of a failure: say it passes.
		var updated int64
		if updated, checkErr = s.upsertCheckRun(ctx, run.GetHeadSHA(), a.RunID, id, sec, nil); checkErr == nil {
			result.CheckRunID, s.out.CheckRunID = updated, updated
		}
	}
	if err := s.w.deps.Records.SaveRunResult(ctx, result); err != nil {
		return prreport.Section{}, nil, err
	}
	return sec, checkErr, nil
}
