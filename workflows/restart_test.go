package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestEngineRestartsAStuckClient stops River's client behind the engine's back (as a stuck or
// crashed client would be): jobs wait, Restart starts it again with the same context, the
// waiting job and later ones run.
func TestEngineRestartsAStuckClient(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			engine := newEngine(t, db.URL, true)
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			require.NoError(t, engine.Client().Stop(stopCtx))
			require.False(t, engine.Running())

			waiting, err := engine.Enqueue(ctx, testArgs{Owner: "octo", Repo: "app", N: 1}, nil)
			require.NoError(t, err)
			depth, _, err := engine.Backlog(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, depth, "the job waits while River is stopped")

			require.NoError(t, engine.Restart(stopCtx))
			require.True(t, engine.Running())
			require.Equal(t, int64(1), engine.Restarts())
			waitState(t, engine, waiting.ID, "completed")
			later, err := engine.Enqueue(ctx, testArgs{Owner: "octo", Repo: "app", N: 2}, nil)
			require.NoError(t, err)
			waitState(t, engine, later.ID, "completed")
			depth, oldest, err := engine.Backlog(ctx)
			require.NoError(t, err)
			require.Zero(t, depth)
			require.Zero(t, oldest)

			// A running client restarts too (stop, then start).
			require.NoError(t, engine.Restart(stopCtx))
			require.True(t, engine.Running())
			again, err := engine.Enqueue(ctx, testArgs{Owner: "octo", Repo: "app", N: 3}, nil)
			require.NoError(t, err)
			waitState(t, engine, again.ID, "completed")
			require.Equal(t, int64(2), engine.Restarts())
		})
	}
}

func TestEngineRestartNeedsAStartedEngine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	idle := newEngine(t, workflowstest.SQLiteURL(t), false)
	require.ErrorIs(t, idle.Restart(ctx), workflows.ErrNotStarted)

	engine := newEngine(t, workflowstest.SQLiteURL(t), true)
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, engine.Stop(stopCtx))
	require.ErrorIs(t, engine.Restart(ctx), workflows.ErrNotStarted, "a stopped engine is never started again")
	require.False(t, engine.Running())
}
