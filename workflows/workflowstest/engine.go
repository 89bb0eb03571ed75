package workflowstest

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// StartEngine starts a workflow engine over st with the workers, tuned for tests (retries after
// 20 ms, fetches every 10 ms), and stops it when the test ends.
func StartEngine(t testing.TB, st *store.Store, workers *river.Workers) *workflows.Engine {
	t.Helper()
	engine, err := workflows.NewEngine(st, workflows.Options{
		Workers: workers, RetryDelay: 20 * time.Millisecond, FetchPollInterval: 10 * time.Millisecond,
		SoftStopTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, engine.Start(ctx))
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = engine.Stop(stopCtx)
		cancel()
	})
	return engine
}
