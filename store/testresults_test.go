package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

func TestSaveTestRunOnceAndBounded(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
			run := func(id int64, attempt int) store.TestRun {
				return store.TestRun{Owner: "octo", Repo: "a", RunID: id, Attempt: attempt, Workflow: "ci", HeadSHA: "sha",
					StartedAt: start.Add(time.Duration(id)*time.Hour + time.Duration(attempt)*time.Minute), Source: "artifacts"}
			}
			results := []store.TestResult{{Job: "test", TestID: "pkg.TestA", Outcome: "failed", Duration: 1500 * time.Millisecond}}

			saved, err := st.SaveTestRun(ctx, run(1, 1), results, 2)
			require.NoError(t, err)
			require.True(t, saved)
			// A redelivery or a backfill of the same attempt records nothing twice.
			saved, err = st.SaveTestRun(ctx, run(1, 1), []store.TestResult{{Job: "test", TestID: "pkg.TestB", Outcome: "passed"}}, 2)
			require.NoError(t, err)
			require.False(t, saved)
			got, err := st.TestResults(ctx, "octo", "a", 10)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, "pkg.TestA", got[0].TestID)
			require.Equal(t, 1500*time.Millisecond, got[0].Duration)
			require.Equal(t, int64(1), got[0].Run.RunID)

			_, err = st.SaveTestRun(ctx, run(1, 2), []store.TestResult{{Job: "test", TestID: "pkg.TestA", Outcome: "passed"}}, 2)
			require.NoError(t, err)
			_, err = st.SaveTestRun(ctx, run(2, 1), []store.TestResult{{Job: "test", TestID: "pkg.TestA", Outcome: "passed"}}, 2)
			require.NoError(t, err)

			// Only the two newest attempts keep results; the pruned one stays known as collected.
			got, err = st.TestResults(ctx, "octo", "a", 10)
			require.NoError(t, err)
			require.Len(t, got, 2)
			require.Equal(t, 2, got[0].Run.Attempt)
			require.Equal(t, int64(2), got[1].Run.RunID)
			ok, err := st.TestRunCollected(ctx, "octo", "a", 1, 1)
			require.NoError(t, err)
			require.True(t, ok)
			ok, err = st.TestRunCollected(ctx, "octo", "a", 3, 1)
			require.NoError(t, err)
			require.False(t, ok)

			// The last N runs, oldest first.
			got, err = st.TestResults(ctx, "octo", "a", 1)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, int64(2), got[0].Run.RunID)
		})
	}
}

func TestFlakyTestState(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			now := time.Now().UTC().Truncate(time.Second)
			f := store.FlakyTest{Owner: "octo", Repo: "a", TestID: "pkg.TestA", Status: "flaky", Rate: 0.1, Runs: 10, FlakyRuns: 1, FirstSeen: now, LastSeen: now}
			require.NoError(t, st.SaveFlakyTest(ctx, f))
			f.Status = "quarantined"
			require.NoError(t, st.SaveFlakyTest(ctx, f))
			require.NoError(t, st.SaveFlakyTest(ctx, store.FlakyTest{Owner: "octo", Repo: "a", TestID: "pkg.TestB", Status: "flaky", FirstSeen: now, LastSeen: now}))

			all, err := st.FlakyTests(ctx, "octo", "a")
			require.NoError(t, err)
			require.Len(t, all, 2)
			require.Equal(t, "quarantined", all["pkg.TestA"].Status)
			some, err := st.FlakyTests(ctx, "octo", "a", "pkg.TestB", "pkg.Missing")
			require.NoError(t, err)
			require.Len(t, some, 1)
			require.Contains(t, some, "pkg.TestB")
		})
	}
}

func TestLogFailedTests(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			require.NoError(t, st.SaveLogFailedTests(ctx, "octo", "a", 5, 1, map[string][]string{"test (1)": {"TestA", "TestB"}}))
			require.NoError(t, st.SaveLogFailedTests(ctx, "octo", "a", 5, 1, map[string][]string{"test (1)": {"TestA"}}))
			require.NoError(t, st.SaveLogFailedTests(ctx, "octo", "a", 6, 1, map[string][]string{"lint": {"TestC"}}))
			got, err := st.LogFailedTests(ctx, "octo", "a", 5, 1)
			require.NoError(t, err)
			require.Equal(t, map[string][]string{"test (1)": {"TestA", "TestB"}}, got)
			got, err = st.LogFailedTestsOfJobs(ctx, "octo", "a", []string{"lint", "other"})
			require.NoError(t, err)
			require.Equal(t, map[string][]string{"lint": {"TestC"}}, got)
		})
	}
}
