package healthcheck_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/healthcheck"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestQueueAge checks the backlog's age on both databases: River's scheduler makes jobs available
// up to its interval before their scheduled_at (and replicas' clocks differ), so an available
// job can be scheduled in the future; its wait is zero, never negative. A job that has waited
// two minutes reads as two minutes whatever the process's time zone.
func TestQueueAge(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			engine, err := workflows.NewEngine(st, workflows.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = engine.Stop(context.Background()) })
			ins, err := engine.Enqueue(ctx, healthcheck.Args{Trigger: "cli"}, nil)
			require.NoError(t, err)
			shift := func(seconds int) {
				q := fmt.Sprintf(`UPDATE river_job SET scheduled_at = strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '%+d seconds') WHERE id = ?`, seconds)
				if st.Dialect != store.SQLite {
					q = fmt.Sprintf(`UPDATE river_job SET scheduled_at = now() + interval '%d seconds' WHERE id = $1`, seconds)
				}
				_, err := st.DB.ExecContext(ctx, q, ins.ID)
				require.NoError(t, err)
			}

			shift(5) // the scheduler's look-ahead
			report := (&monitor.Checker{Engine: engine}).Check(ctx)
			require.Equal(t, 1, report.QueueDepth)
			require.Zero(t, report.OldestAvailableSeconds)
			river, ok := report.Component(monitor.ComponentRiver)
			require.True(t, ok)
			require.Contains(t, river.Message, "1 jobs waiting, oldest 0.0 s")
			require.Equal(t, 1, report.QueueDepthByKind["health_check"])

			shift(-120)
			report = (&monitor.Checker{Engine: engine}).Check(ctx)
			require.InDelta(t, 120, report.OldestAvailableSeconds, 60)
		})
	}
}
