package failureanalysis

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/failureanalysis/loganalysis"
)

func TestWorkerCommentsOnForkPullRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := singleJobRun(networkErrorLog, 1)
	run.ForkOwner = "mallory"
	h.gh.addRun(run)

	out := h.analyze(t, webhookArgs(runID, 1))
	require.Equal(t, []int{7}, out.PullRequests)
	require.Len(t, h.gh.Comments(7), 1)
	require.Len(t, h.gh.requestsTo("GET", "/pulls"), 1)

	// The re-run passes: the fork's pull request hears of it too.
	h.gh.mu.Lock()
	run.Attempts = append(run.Attempts, fakeAttempt{Conclusion: "success"})
	h.gh.mu.Unlock()
	passed := h.analyze(t, webhookArgs(runID, 2))
	require.Equal(t, out.CommentIDs, passed.CommentIDs)
	require.Contains(t, h.gh.Comments(7)[0].Body, "**Flaky:**")
}

func TestWorkerIgnoresForkPullRequestThatMovedOn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := failedRun()
	run.ForkOwner = "mallory"
	run.PRHeadSHA = "ffffffffffffffffffffffffffffffffffffffff"
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Empty(t, out.PullRequests)
	require.Empty(t, h.gh.Comments(7))
}

func TestWorkerReportsWhenGitHubRefusesTheRerun(t *testing.T) {
	t.Parallel()
	rerunPath := fmt.Sprintf("/repos/acme/widgets/actions/runs/%d/rerun-failed-jobs", runID)
	for _, tc := range []struct {
		name    string
		failure apiFailure
	}{
		{"403 run too old", apiFailure{Status: 403, Body: `{"message":"Unable to retry this workflow run because it was created over a month ago"}`}},
		{"422 already running", apiFailure{Status: 422, Body: `{"message":"This workflow is already running"}`}},
		{"409 conflict", apiFailure{Status: 409, Body: `{"message":"Conflict"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.gh.addRun(singleJobRun(networkErrorLog, 1))
			h.gh.fail("POST", rerunPath, tc.failure)
			x := h.wait(t, h.enqueue(t, webhookArgs(runID, 1)).ID)
			require.Equal(t, "completed", x.State, "errors: %v", x.Errors)
			require.Equal(t, 1, x.Attempt, "a refused re-run is not retried")
			require.Len(t, h.gh.requestsTo("POST", "/rerun-failed-jobs"), 1)
			require.Empty(t, h.gh.Reruns())
			body := h.gh.Comments(7)[0].Body
			require.Contains(t, body, "GitHub refused the re-run")
			require.Len(t, h.gh.BotCheckRuns(), 1)
		})
	}

	t.Run("a 403 with Retry-After is retried, not taken for a refusal", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addRun(singleJobRun(networkErrorLog, 1))
		// GitHub: a secondary rate limit is a 403 or 429 with Retry-After, whatever its body says.
		h.gh.fail("POST", rerunPath, apiFailure{Status: 403, Headers: map[string]string{"Retry-After": "30"},
			Body: `{"message":"You have exceeded a secondary rate limit."}`})
		err := h.workDirect(webhookArgs(runID, 1))
		require.Error(t, err)
		var cancel *river.JobCancelError
		require.False(t, errors.As(err, &cancel))
		require.Empty(t, h.gh.Comments(7), "the execution is retried before reporting")
	})

	t.Run("secondary rate limit on the re-run snoozes", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addRun(singleJobRun(networkErrorLog, 1))
		h.gh.fail("POST", rerunPath, apiFailure{Status: 403, Headers: map[string]string{"Retry-After": "30"},
			Body: `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, h.workDirect(webhookArgs(runID, 1)), &snooze)
	})
}

func TestWorkerNeverLetsAnOlderAttemptOverwriteTheCheckRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := failedRun()
	h.gh.addRun(run)
	first := h.analyze(t, webhookArgs(runID, 1))
	h.gh.mu.Lock()
	run.Attempts = append(run.Attempts, fakeAttempt{Conclusion: "failure", Jobs: []fakeJob{
		{ID: 399444600, Name: "build", Conclusion: "failure", FailedStep: "Run go build ./...", Log: buildErrorLog},
	}})
	h.gh.logs[399444600] = buildErrorLog
	h.gh.mu.Unlock()
	h.analyze(t, webhookArgs(runID, 2))

	// A late analysis of attempt 1 (redelivery, `/ci analyze` queued before the re-run).
	h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, RunAttempt: 1, Trigger: "comment:4"})
	_, summary, _ := checkRunOutput(t, h.gh.BotCheckRuns()[first.CheckRunID])
	require.Contains(t, summary, "[attempt 2](")
	require.Len(t, h.gh.BotCheckRuns(), 1)
}

func TestWorkerSkipsAttemptsThatDidNotFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, status, conclusion, skipped string
	}{
		{"re-run still in progress", "in_progress", "", "has not completed"},
		{"cancelled", "completed", "cancelled", "did not fail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			run := singleJobRun(networkErrorLog, 2)
			run.Status = tc.status
			run.Attempts[1].Conclusion = tc.conclusion
			h.gh.addRun(run)
			// `autonomous execute failure_analysis --param workflow_run_id=…` names no attempt.
			out := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, Trigger: "cli:1"})
			require.Contains(t, out.Skipped, tc.skipped)
			require.Empty(t, h.gh.Comments(7))
			require.Empty(t, h.gh.BotCheckRuns())
			require.Empty(t, h.gh.Reruns())
		})
	}
}

func TestWorkerWaitsForALogNotStoredYet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := singleJobRun(testFailureLog, 1)
	run.Attempts[0].Jobs[0].CompletedAt = time.Now().Add(-10 * time.Second)
	h.gh.addRun(run)
	logPath := fmt.Sprintf("/repos/acme/widgets/actions/jobs/%d/logs", run.Attempts[0].Jobs[0].ID)
	h.gh.fail("GET", logPath, apiFailure{Status: 404, Body: `{"message":"Not Found"}`})

	err := h.workDirect(webhookArgs(runID, 1))
	require.Error(t, err)
	var cancel *river.JobCancelError
	require.False(t, errors.As(err, &cancel), "a log not stored yet must be retried, not cancelled: %v", err)
	require.Empty(t, h.gh.Comments(7))

	// Long after completion a missing log is gone for good: report without it.
	h2 := newHarness(t)
	old := singleJobRun(testFailureLog, 1)
	h2.gh.addRun(old)
	h2.gh.fail("GET", logPath, apiFailure{Status: 410, Body: `{"message":"Gone"}`})
	out := h2.analyze(t, webhookArgs(runID, 1))
	require.Len(t, out.Failures, 1)
	require.Contains(t, h2.gh.Comments(7)[0].Body, "no longer available")
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection reset by peer")
}

func TestWorkerNeverRecordsTheSignedLogAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(singleJobRun(testFailureLog, 1))
	h.worker.deps.LogClient = &http.Client{Transport: failingTransport{}}
	err := h.workDirect(webhookArgs(runID, 1))
	require.Error(t, err)
	require.Contains(t, err.Error(), "connection reset by peer")
	require.NotContains(t, err.Error(), "sig=")
	require.NotContains(t, err.Error(), "signed")
}

func TestWorkerBoundsTheJobsAnalyzed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := &fakeRun{ID: runID, Name: "CI", WorkflowID: 159038, HeadSHA: headSHA, Status: "completed", PullNumbers: []int{7}}
	var jobs []fakeJob
	for i := range 25 {
		jobs = append(jobs, fakeJob{ID: 399444000 + int64(i), Name: fmt.Sprintf("shard %d", i), Conclusion: "failure",
			FailedStep: "Run go mod download", Log: networkErrorLog})
	}
	run.Attempts = []fakeAttempt{{Conclusion: "failure", Jobs: jobs}}
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Len(t, h.gh.BlobRanges(), maxJobsAnalyzed)
	require.Len(t, h.gh.requestsTo("GET", "/logs"), maxJobsAnalyzed)
	require.Contains(t, out.Rerun, "5 failed jobs were not analyzed")
	require.Empty(t, h.gh.Reruns(), "unanalyzed failures may not be transient")
	require.Contains(t, h.gh.Comments(7)[0].Body, "5 more failed jobs were not analyzed")
}

// hugeFailure is a distinct failure whose excerpt is as large as the analyzer makes them.
func hugeFailure(i int) failure {
	f := failure{fingerprint: fmt.Sprintf("fp%d", i), result: loganalysis.Result{
		Classification: loganalysis.ClassBuildError, Summary: fmt.Sprintf("error %d: %s", i, strings.Repeat("x", 300)),
		FailedStep: "Run make", FailedTests: []string{"TestA"},
	}, jobs: []jobRef{{Name: fmt.Sprintf("job %d", i), URL: "https://github.com/acme/widgets/actions/runs/1/job/2", StepNumber: 4}}}
	for n := range loganalysis.DefaultMaxExcerptLines {
		f.result.Excerpt = append(f.result.Excerpt, loganalysis.Line{Line: n + 1, Text: strings.Repeat("é", 512)})
	}
	return f
}

func TestReportStaysWithinGitHubLimits(t *testing.T) {
	t.Parallel()
	var failures []failure
	for i := range maxJobsAnalyzed {
		failures = append(failures, hugeFailure(i))
	}
	sections := map[string]prreport.Section{}
	for w := range 6 {
		run := &github.WorkflowRun{ID: github.Int64(int64(w + 1)), Name: github.String(fmt.Sprintf("Workflow %d", w)), WorkflowID: github.Int64(int64(w + 1)),
			HeadSHA: github.String(headSHA), HTMLURL: github.String("https://github.com/acme/widgets/actions/runs/1")}
		sec := newFailedSection(run, 1, failures, 3, rerunDecision{reason: "a build_error failure is not something a re-run fixes"}, false)
		require.LessOrEqual(t, len(sec.Body), prreport.MaxSectionBytes, "a prreport.Section is also a check run summary")
		require.True(t, utf8.ValidString(sec.Body))
		require.Contains(t, sec.Body, "more distinct failures did not fit")
		require.Contains(t, sec.Body, "**What the bot did:**")
		require.Positive(t, strings.Count(sec.Body, "```text"), "the first failures keep their excerpt")
		sections[sec.Key] = sec
	}
	body := prreport.Render(sections, "")
	require.LessOrEqual(t, utf8.RuneCountInString(body), 65536)
	require.LessOrEqual(t, len(body), prreport.MaxCommentBytes)
	require.True(t, utf8.ValidString(body))
	require.Contains(t, body, "## ❌ Autonomous CI: 6 workflows failed")
	for w := range 6 {
		require.Contains(t, body, fmt.Sprintf("Workflow %d", w), "every workflow is at least named")
	}
	require.True(t, strings.HasSuffix(body, "</sub>\n"))

	// Sections recorded before Short existed still shorten.
	old := map[string]prreport.Section{}
	for k, s := range sections {
		s.Short = ""
		old[k] = s
	}
	require.LessOrEqual(t, len(prreport.Render(old, "")), prreport.MaxCommentBytes)
}

func TestWorkerPostsABoundedCommentForManyDistinctFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := &fakeRun{ID: runID, Name: "CI", WorkflowID: 159038, HeadSHA: headSHA, Status: "completed", PullNumbers: []int{7}}
	var jobs []fakeJob
	for i := range 12 {
		var lines []string
		for n := range 60 {
			name := strings.Repeat(string(rune('A'+i)), 3)
			lines = append(lines, fmt.Sprintf("pkg%s/file%d.go:%d:2: undefined: Thing%s_%s", name, n, n+1, name, strings.Repeat("y", 900)))
		}
		jobs = append(jobs, fakeJob{ID: 399445000 + int64(i), Name: fmt.Sprintf("build %d", i), Conclusion: "failure",
			FailedStep: "Run go build ./...", Log: actionsLog("go build ./...", lines...)})
	}
	run.Attempts = []fakeAttempt{{Conclusion: "failure", Jobs: jobs}}
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Greater(t, len(out.Failures), 2)
	body := h.gh.Comments(7)[0].Body
	require.LessOrEqual(t, utf8.RuneCountInString(body), 65536)
	_, summary, _ := checkRunOutput(t, h.gh.BotCheckRuns()[out.CheckRunID])
	require.LessOrEqual(t, utf8.RuneCountInString(summary), 65535)
}

// deadlineRecords records whether the report is saved with a deadline inside the lease.
type deadlineRecords struct {
	Records
	lease    time.Duration
	leasedAt time.Time
	saves    []time.Duration
}

func (r *deadlineRecords) LockPRReport(ctx context.Context, owner, repo string, number int, ttl, wait time.Duration) (func(), error) {
	r.lease, r.leasedAt = ttl, time.Now()
	return r.Records.LockPRReport(ctx, owner, repo, number, ttl, wait)
}

func (r *deadlineRecords) SavePRReport(ctx context.Context, rec store.PRReport) error {
	d, ok := ctx.Deadline()
	if !ok {
		r.saves = append(r.saves, -1)
	} else {
		r.saves = append(r.saves, d.Sub(r.leasedAt))
	}
	return r.Records.SavePRReport(ctx, rec)
}

func TestWorkerFinishesTheReportWithinItsLease(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(failedRun())
	rec := &deadlineRecords{Records: h.store}
	h.worker.deps.Records = rec
	_, err := h.worker.work(t.Context(), webhookArgs(runID, 1))
	require.NoError(t, err)
	require.NotEmpty(t, rec.saves)
	for _, d := range rec.saves {
		require.Positive(t, d, "the report is written without a deadline")
		require.Less(t, d, rec.lease, "the report may be written after the lease expired")
	}
}
