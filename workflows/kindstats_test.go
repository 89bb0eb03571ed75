package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestKindStats runs real executions, three completing and two failing (one attempt each, so
// discarded), and reads their per-kind figures and the discarded count back from River's table.
func TestKindStats(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			engine := newEngine(t, db.URL, true)
			start := time.Now().Add(-time.Minute)
			for n, fail := range []bool{false, true, false, true, false} {
				ins, err := engine.Enqueue(ctx, testArgs{Owner: "o", Repo: "stats", N: n, Fail: fail}, nil)
				require.NoError(t, err)
				state := "completed"
				if fail {
					state = "discarded"
				}
				waitState(t, engine, ins.ID, state)
			}

			stats, err := engine.KindStats(ctx, []string{"test_job", "never_ran"}, 1000)
			require.NoError(t, err)
			require.Len(t, stats, 2)
			require.Equal(t, workflows.KindStats{Kind: "never_ran"}, stats[0], "sorted by kind, zero figures")
			s := stats[1]
			require.Equal(t, "test_job", s.Kind)
			require.Equal(t, 5, s.Finished)
			require.Equal(t, 3, s.Completed)
			require.Equal(t, 2, s.Discarded)
			require.Equal(t, 2, s.FailedAttempts)
			require.InDelta(t, 0.6, s.SuccessRate, 1e-9)
			require.InDelta(t, 40, s.ErrorRatePercent, 1e-9)
			require.GreaterOrEqual(t, s.DurationP95MS, s.DurationP50MS)

			// The history is the last N finished executions.
			stats, err = engine.KindStats(ctx, []string{"test_job"}, 2)
			require.NoError(t, err)
			require.Equal(t, 2, stats[0].Finished)

			n, err := engine.DiscardedSince(ctx, start)
			require.NoError(t, err)
			require.Equal(t, 2, n)
			for page := 1; page <= 3; page++ {
				n, err = engine.DiscardedSincePaged(ctx, start, page)
				require.NoError(t, err)
				require.Equal(t, 2, n, "page size %d", page)
			}
			n, err = engine.DiscardedSince(ctx, time.Now().Add(time.Hour))
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}
}
