package recovery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeEngine is an engine whose queue the test sets.
type fakeEngine struct {
	mu       sync.Mutex
	running  bool
	depth    int
	oldest   time.Duration
	restarts int
}

func (f *fakeEngine) Running() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.running }

func (f *fakeEngine) Backlog(context.Context) (int, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.depth, f.oldest, nil
}

func (f *fakeEngine) Restart(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restarts++
	f.depth, f.oldest = 0, 0
	return nil
}

type quietProbe struct{}

func (quietProbe) Sample(context.Context) (Resources, error) { return Resources{}, nil }

// TestStuckWhenJobsWaitAndNoneStarts: a running client with jobs available for longer than
// StuckAfter and no job started for as long is stuck; busy workers or a recent start are not.
func TestStuckWhenJobsWaitAndNoneStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	m := NewManager(st, Options{Enabled: true, AutoRestart: true, MaxWorkers: 2, StuckAfter: time.Minute, Probe: quietProbe{}})
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	m.lastStart = now
	e := &fakeEngine{running: true, depth: 3, oldest: 5 * time.Minute}
	m.Attach(e)

	stuck, _, err := m.Stuck(ctx)
	require.NoError(t, err)
	require.False(t, stuck, "a job started just now")

	now = now.Add(2 * time.Minute)
	m.inFlight = 2
	stuck, _, err = m.Stuck(ctx)
	require.NoError(t, err)
	require.False(t, stuck, "every worker is busy with a long job")

	m.inFlight = 0
	stuck, why, err := m.Stuck(ctx)
	require.NoError(t, err)
	require.True(t, stuck)
	require.Contains(t, why, "3 jobs available")

	require.NoError(t, m.Heal(ctx, monitor.Report{Score: 55}))
	require.Equal(t, 1, e.restarts)
	list, err := m.Recent(ctx, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, ActionRestartEngine, list[0].Action)
	require.Equal(t, OutcomeOK, list[0].Outcome)
	require.Contains(t, list[0].Reason, "health check (score 55)")

	// Stuck again at once: the restart moments ago gets its time first.
	e.mu.Lock()
	e.depth, e.oldest, e.running = 1, 10*time.Minute, false
	e.mu.Unlock()
	restarted, err := m.restartIfStuck(ctx, "watchdog", false)
	require.NoError(t, err)
	require.False(t, restarted)
	require.Equal(t, 1, e.restarts)
	now = now.Add(2 * time.Minute)
	restarted, err = m.restartIfStuck(ctx, "watchdog", false)
	require.NoError(t, err)
	require.True(t, restarted)
	require.Equal(t, 2, e.restarts)
}

// TestWatchRestartsAStoppedClientAndPrunes runs the watchdog against an engine whose client
// stopped: it restarts it once, and old records are pruned.
func TestWatchRestartsAStoppedClientAndPrunes(t *testing.T) {
	t.Parallel()
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	m := NewManager(st, Options{Enabled: true, AutoRestart: true, CheckEvery: 5 * time.Millisecond, StuckAfter: time.Hour, Probe: quietProbe{}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, m.records.Save(ctx, Action{At: time.Now().Add(-Retention - time.Hour), Action: ActionRetry, Outcome: OutcomeOK}))
	e := &fakeEngine{running: false}
	m.Attach(e)
	done := make(chan struct{})
	go func() { m.Watch(ctx); close(done) }()
	require.Eventually(t, func() bool {
		list, err := m.Recent(context.Background(), 10)
		require.NoError(t, err)
		return len(list) == 1 && list[0].Action == ActionRestartEngine
	}, 30*time.Second, 5*time.Millisecond, "restarted, and the old record pruned")
	cancel()
	<-done
	e.mu.Lock()
	defer e.mu.Unlock()
	require.Equal(t, 1, e.restarts, "a restart moments ago is given StuckAfter")
}
