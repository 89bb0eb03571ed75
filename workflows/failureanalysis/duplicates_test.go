package failureanalysis

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// Every effect on GitHub happens once, whatever fails between the effect and its record.

// crashAfterCheckRun fails the first save of a run result that names a check run, as a process
// killed between creating the check run and saving its id would.
type crashAfterCheckRun struct {
	Records
	mu      sync.Mutex
	crashed bool
}

var errCrashed = errors.New("the process died")

func (r *crashAfterCheckRun) SaveRunResult(ctx context.Context, res store.RunResult) error {
	r.mu.Lock()
	crash := res.CheckRunID != 0 && !r.crashed
	r.crashed = r.crashed || crash
	r.mu.Unlock()
	if crash {
		return errCrashed
	}
	return r.Records.SaveRunResult(ctx, res)
}

func TestWorkerFindsTheCheckRunItCreatedBeforeACrash(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(failedRun())
	h.worker.deps.Records = &crashAfterCheckRun{Records: h.store}
	x := h.wait(t, h.enqueue(t, webhookArgs(runID, 1)).ID)
	require.Equal(t, "completed", x.State, "errors: %v", x.Errors)
	require.Equal(t, 2, x.Attempt, "the job is retried after the crash")
	require.Len(t, h.gh.BotCheckRuns(), 1, "the retry updates the check run the crashed attempt created")
	require.Len(t, h.gh.requestsTo("POST", "/check-runs"), 1)
	require.Len(t, h.gh.Comments(7), 1)
}

// twoAttemptRun is a run whose two attempts both failed, on its own commit.
func twoAttemptRun(id int64, sha string) *fakeRun {
	run := singleJobRun(networkErrorLog, 2)
	run.ID, run.HeadSHA = id, sha
	for i := range run.Attempts {
		for j := range run.Attempts[i].Jobs {
			run.Attempts[i].Jobs[j].ID = id*10 + int64(i)
		}
	}
	return run
}

func TestWorkerAnalyzesConcurrentAttemptsIntoOneCheckRun(t *testing.T) {
	t.Parallel()
	const trials = 20
	h := newHarness(t)
	// GitHub takes a moment to create a check run: long enough for the other attempt to get
	// there too, were the two not serialised.
	h.gh.slowDown("POST", "/repos/acme/widgets/check-runs", apiSlow{Delay: 150 * time.Millisecond})
	duplicated := 0
	for trial := range trials {
		id := runID + int64(trial)
		sha := strings.Repeat(string(rune('a'+trial)), 40)
		run := twoAttemptRun(id, sha)
		run.PullNumbers = []int{100 + trial}
		h.gh.addRun(run)
		first := h.enqueue(t, webhookArgs(id, 1))
		second := h.enqueue(t, webhookArgs(id, 2))
		for _, ins := range []workflows.Inserted{first, second} {
			x := h.wait(t, ins.ID)
			require.Equal(t, "completed", x.State, "trial %d errors: %v", trial, x.Errors)
		}
		var checks []map[string]any
		for _, c := range h.gh.BotCheckRuns() {
			if c["head_sha"] == sha {
				checks = append(checks, c)
			}
		}
		if len(checks) != 1 {
			duplicated++
			continue
		}
		_, summary, _ := checkRunOutput(t, checks[0])
		require.Contains(t, summary, "/attempts/2", "trial %d: the check run tells of the newer attempt", trial)
		require.Len(t, h.gh.Comments(100+trial), 1)
	}
	require.Zero(t, duplicated, "trials with more than one check run for one run, of %d", trials)
}

func TestWorkerLooksBeforeCreatingAgainAfterASlowComment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(failedRun())
	h.gh.mu.Lock()
	h.gh.clientTimeout = 300 * time.Millisecond
	h.gh.mu.Unlock()
	h.worker.deps.CreateSettle = 2500 * time.Millisecond
	// GitHub creates the comment 1.5 s after it was asked: after the client gave up.
	h.gh.slowDown("POST", "/repos/acme/widgets/issues/7/comments", apiSlow{Delay: 1500 * time.Millisecond, Times: 1})
	x := h.wait(t, h.enqueue(t, webhookArgs(runID, 1)).ID)
	require.Equal(t, "completed", x.State, "errors: %v", x.Errors)
	require.Greater(t, x.Attempt, 1, "the timed-out attempt failed")
	time.Sleep(1600 * time.Millisecond) // any create still in flight lands
	comments := h.gh.Comments(7)
	require.Len(t, comments, 1, "one sticky comment")
	require.Contains(t, comments[0].Body, "Failure 1 of 2")
}

func TestWorkerPostsTheCommentWhenTheCheckRunIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(failedRun())
	h.gh.fail("POST", "/repos/acme/widgets/check-runs", apiFailure{Status: 422,
		Body: `{"message":"Invalid request.","errors":[{"resource":"CheckRun","code":"invalid","field":"annotations"}]}`})
	x := h.wait(t, h.enqueue(t, webhookArgs(runID, 1)).ID)
	require.Equal(t, "completed", x.State, "errors: %v", x.Errors)
	require.Len(t, h.gh.Comments(7), 1, "the comment is posted although the check run was refused")
	require.Contains(t, string(x.Output), `"check_run_error"`)
	require.Contains(t, string(x.Output), "422")
	require.Empty(t, h.gh.BotCheckRuns())
}

func TestWorkerSnoozesWhileAnotherHoldsTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(failedRun())
	// A crashed execution's lease: it expires by itself. A job with little time left (River's
	// job timeout) snoozes rather than spend its attempt waiting.
	_, err := h.store.LockRun(t.Context(), fakeOwner, fakeRepo, runID, time.Minute, 0)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	err = h.worker.Work(ctx, &river.Job[Args]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: webhookArgs(runID, 1)})
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Positive(t, snooze.Duration)
	require.LessOrEqual(t, snooze.Duration, 5*time.Second)
	require.Empty(t, h.gh.BotCheckRuns())
}
