package flakiness

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

const testA = "example.com/shop/cart :: TestDiscount"

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// history builds observations the way the collector stores them: run ids
// from 1000, one hour apart, attempts a few minutes apart.
type history struct{ obs []Observation }

func (h *history) add(test, job, sha string, run int64, attempt int, outcome testresults.Outcome) {
	h.obs = append(h.obs, Observation{
		Repo: "acme/shop", Workflow: "CI", Job: job, Suite: "example.com/shop/cart", TestID: test, SHA: sha,
		RunID: run, Attempt: attempt, Outcome: outcome, Duration: 100 * time.Millisecond,
		At:     t0.Add(time.Duration(run-1000)*time.Hour + time.Duration(attempt)*5*time.Minute),
		RunURL: fmt.Sprintf("https://github.com/acme/shop/actions/runs/%d/attempts/%d", run, attempt),
	})
}

// clean adds n passing runs on fresh commits from run id first.
func (h *history) clean(test string, first int64, n int) {
	for i := range int64(n) {
		h.add(test, "test", fmt.Sprintf("sha%d", first+i), first+i, 1, testresults.Passed)
	}
}

func only(t *testing.T, got []TestFlakiness) TestFlakiness {
	t.Helper()
	require.Len(t, got, 1)
	return got[0]
}

func TestFailedThenPassedOnSameSHAIsFlakyWithBothLinks(t *testing.T) {
	t.Parallel()
	var h history
	h.clean(testA, 1000, 10)
	h.add(testA, "test", "abc123", 1010, 1, testresults.Failed)
	h.add(testA, "test", "abc123", 1010, 2, testresults.Passed)
	got := only(t, Analyze(h.obs, Config{}))
	require.Equal(t, Quarantined, got.Status, "1 flaky run in 11 is over 5%")
	require.Equal(t, 11, got.Runs)
	require.Equal(t, 1, got.FlakyRuns)
	require.InDelta(t, 1.0/11, got.Rate, 1e-9)
	require.Equal(t, 1, got.Flips)
	require.Equal(t, 0, got.CleanRuns)
	failedAt := t0.Add(10*time.Hour + 5*time.Minute)
	require.Equal(t, failedAt, got.FirstSeen)
	require.Equal(t, failedAt, got.LastSeen)
	require.Equal(t, []Evidence{{
		SHA: "abc123", Job: "test",
		FailedURL: "https://github.com/acme/shop/actions/runs/1010/attempts/1", FailedAttempt: 1, FailedAt: failedAt,
		PassedURL: "https://github.com/acme/shop/actions/runs/1010/attempts/2", PassedAttempt: 2, PassedAt: failedAt.Add(5 * time.Minute),
	}}, got.Evidence)
}

func TestDeterministicFailureOnNewSHAIsNotFlaky(t *testing.T) {
	t.Parallel()
	var h history
	h.clean(testA, 1000, 5)
	for run := int64(1005); run < 1015; run++ { // broken by commit "bad" and its successors
		h.add(testA, "test", fmt.Sprintf("bad%d", run), run, 1, testresults.Failed)
		h.add(testA, "test", fmt.Sprintf("bad%d", run), run, 2, testresults.Error)
	}
	got := only(t, Analyze(h.obs, Config{}))
	require.Equal(t, Stable, got.Status, "ten failures and no flip")
	require.Zero(t, got.Rate)
	require.Zero(t, got.Flips)
	require.Empty(t, got.Evidence)
	require.True(t, got.FirstSeen.IsZero())
}

func TestSameSHAAcrossWorkflowsButNotAcrossMatrixLegs(t *testing.T) {
	t.Parallel()
	var h history
	h.add(testA, "test", "s1", 1000, 1, testresults.Passed) // push workflow
	h.add(testA, "test", "s1", 1001, 1, testresults.Failed) // merge-queue workflow, same job name
	h.add("windows only", "test (windows)", "s2", 1002, 1, testresults.Failed)
	h.add("windows only", "test (linux)", "s2", 1002, 1, testresults.Passed)
	got := Analyze(h.obs, Config{})
	require.Len(t, got, 2)
	require.Equal(t, testA, got[0].TestID)
	require.Equal(t, Quarantined, got[0].Status)
	require.Equal(t, "https://github.com/acme/shop/actions/runs/1001/attempts/1", got[0].Evidence[0].FailedURL)
	require.Equal(t, "https://github.com/acme/shop/actions/runs/1000/attempts/1", got[0].Evidence[0].PassedURL, "a pass before the failure is evidence too")
	require.Equal(t, Stable, got[1].Status, "a platform-specific failure is not a flip")
}

func TestRecoveryAfterCleanRuns(t *testing.T) {
	t.Parallel()
	var h history
	h.add(testA, "test", "f", 1000, 1, testresults.Failed)
	h.add(testA, "test", "f", 1000, 2, testresults.Passed)
	h.clean(testA, 1001, 19)
	got := only(t, Analyze(h.obs, Config{}))
	require.Equal(t, 19, got.CleanRuns)
	require.Equal(t, 0.05, got.Rate)
	require.Equal(t, Quarantined, got.Status, "19 clean runs are not enough")

	h.clean(testA, 1020, 1)
	got = only(t, Analyze(h.obs, Config{FlakyThreshold: 0.01}))
	require.Equal(t, 20, got.CleanRuns)
	require.Equal(t, Recovered, got.Status, "recovery wins over a rate still above the threshold")
	require.Len(t, got.Evidence, 1, "the evidence stays while the flip is in the window")

	h.add(testA, "test", "g", 1021, 1, testresults.Failed) // a new failure restarts the count
	got = only(t, Analyze(h.obs, Config{}))
	require.Equal(t, 0, got.CleanRuns)
	require.Equal(t, Flaky, got.Status, "1 flaky run in 22 is under 5%")
}

func TestThresholdBoundary(t *testing.T) {
	t.Parallel()
	var h history
	h.clean(testA, 1000, 19)
	h.add(testA, "test", "f", 1019, 1, testresults.Failed)
	h.add(testA, "test", "f", 1019, 2, testresults.Passed)
	got := only(t, Analyze(h.obs, Config{}))
	require.Equal(t, 20, got.Runs)
	require.Equal(t, 0.05, got.Rate)
	require.Equal(t, Quarantined, got.Status, "exactly the threshold quarantines")

	var h2 history
	h2.clean(testA, 1000, 20)
	h2.add(testA, "test", "f", 1020, 1, testresults.Failed)
	h2.add(testA, "test", "f", 1020, 2, testresults.Passed)
	got = only(t, Analyze(h2.obs, Config{}))
	require.Equal(t, 21, got.Runs)
	require.Equal(t, Flaky, got.Status, "1/21 is just under the threshold")

	got = only(t, Analyze(h2.obs, Config{FlakyThreshold: 0.04}))
	require.Equal(t, Quarantined, got.Status)
}

func TestLookbackDropsOldFlips(t *testing.T) {
	t.Parallel()
	var h history
	h.add(testA, "test", "f", 1000, 1, testresults.Failed)
	h.add(testA, "test", "f", 1000, 2, testresults.Passed)
	h.clean(testA, 1001, 10)
	got := only(t, Analyze(h.obs, Config{LookbackRuns: 10}))
	require.Equal(t, Stable, got.Status)
	require.Equal(t, 10, got.Runs)
	got = only(t, Analyze(h.obs, Config{LookbackRuns: 11, RecoveredAfter: 30}))
	require.Equal(t, Quarantined, got.Status)
	require.InDelta(t, 1.0/11, got.Rate, 1e-9)
}

func TestTiesAndEvidenceOrder(t *testing.T) {
	t.Parallel()
	var h history
	for _, test := range []string{"b", "a", "c"} {
		h.clean(test, 1000, 9)
		h.add(test, "test", "x", 1009, 1, testresults.Failed)
		h.add(test, "test", "x", 1009, 2, testresults.Passed)
	}
	h.add("c", "test", "y", 1010, 1, testresults.Failed)
	h.add("c", "test", "y", 1010, 2, testresults.Passed)
	h.add("c", "lint", "y", 1010, 1, testresults.Skipped)
	got := Analyze(h.obs, Config{MaxEvidence: 1})
	require.Len(t, got, 3)
	require.Equal(t, []string{"c", "a", "b"}, []string{got[0].TestID, got[1].TestID, got[2].TestID})
	require.Equal(t, got[1].Rate, got[2].Rate)
	require.Equal(t, 2, got[0].Flips)
	require.Len(t, got[0].Evidence, 1, "bounded by MaxEvidence")
	require.Equal(t, "y", got[0].Evidence[0].SHA, "newest flip first")
	require.Equal(t, 11, got[0].Runs, "a skipped execution is not counted")
}

func TestEmptyInput(t *testing.T) {
	t.Parallel()
	require.Empty(t, Analyze(nil, Config{}))
	skippedOnly := []Observation{{Repo: "r", TestID: "t", RunID: 1, Outcome: testresults.Skipped}}
	require.Empty(t, Analyze(skippedOnly, Config{}))
	rep := Slow(nil, SlowConfig{})
	require.Empty(t, rep.Tests)
	require.Empty(t, rep.Slowest)
	require.Empty(t, rep.Suites)
	require.Empty(t, rep.Slower)
}
