package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestPerfHistoryIsBoundedPerRepository: the history keeps the most recent runs of each
// repository, a saved run is found with its jobs, and saving it again replaces it.
func TestPerfHistoryIsBoundedPerRepository(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
			run := func(repo string, id int64) store.PerfRun {
				return store.PerfRun{Owner: "octo", Repo: repo, RunID: id, Attempt: 1, WorkflowID: 7, Workflow: "CI",
					Branch: "main", HeadSHA: "abc", Conclusion: "success", StartedAt: start.Add(time.Duration(id) * time.Minute),
					Queue: 3 * time.Second, Duration: time.Duration(id) * time.Second,
					Jobs: []store.PerfJob{{ID: id * 10, Name: "test", Conclusion: "success", Duration: time.Second,
						Steps: []store.PerfStep{{Name: "go test", Conclusion: "success", Duration: 800 * time.Millisecond}}}}}
			}
			var runs []store.PerfRun
			for id := int64(1); id <= 6; id++ {
				runs = append(runs, run("a", id))
			}
			runs = append(runs, run("b", 1))
			require.NoError(t, st.SavePerfRuns(ctx, runs, 4))

			n, err := st.PerfRunCount(ctx, "octo", "a")
			require.NoError(t, err)
			require.Equal(t, 4, n, "only the 4 most recent runs of a are kept")
			n, err = st.PerfRunCount(ctx, "octo", "b")
			require.NoError(t, err)
			require.Equal(t, 1, n, "another repository's runs are not evicted")

			got, err := st.PerfRunsByID(ctx, "octo", "a", []int64{1, 2, 3, 6, 99})
			require.NoError(t, err)
			require.Len(t, got, 2, "runs 1 and 2 were the oldest")
			r := got[[2]int64{6, 1}]
			require.Equal(t, 6*time.Second, r.Duration)
			require.Equal(t, 3*time.Second, r.Queue)
			require.True(t, r.StartedAt.Equal(start.Add(6*time.Minute)))
			require.Equal(t, []store.PerfJob{{ID: 60, Name: "test", Conclusion: "success", Duration: time.Second,
				Steps: []store.PerfStep{{Name: "go test", Conclusion: "success", Duration: 800 * time.Millisecond}}}}, r.Jobs)

			again := run("a", 6)
			again.Duration = time.Minute
			require.NoError(t, st.SavePerfRuns(ctx, []store.PerfRun{again}, 4))
			got, err = st.PerfRunsByID(ctx, "octo", "a", []int64{6})
			require.NoError(t, err)
			require.Equal(t, time.Minute, got[[2]int64{6, 1}].Duration)
			n, err = st.PerfRunCount(ctx, "octo", "a")
			require.NoError(t, err)
			require.Equal(t, 4, n)
		})
	}
}
