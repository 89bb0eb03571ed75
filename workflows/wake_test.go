package workflows_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// wakeArgs is a job whose worker reports when it started.
type wakeArgs struct {
	N int `json:"n"`
}

func (wakeArgs) Kind() string { return "wake_job" }

type wakeWorker struct {
	river.WorkerDefaults[wakeArgs]
	started chan<- time.Time
}

func (w wakeWorker) Work(ctx context.Context, job *river.Job[wakeArgs]) error {
	w.started <- time.Now()
	return nil
}

// newWakeEngine starts an engine whose only poll is an hour away: a job it works promptly was
// started by the insert's wake-up, not by the poll.
func newWakeEngine(t testing.TB, url string) (*workflows.Engine, <-chan time.Time) {
	t.Helper()
	st := workflowstest.OpenStore(t, url)
	started := make(chan time.Time, 1024)
	workers := river.NewWorkers()
	river.AddWorker(workers, wakeWorker{started: started})
	engine, err := workflows.NewEngine(st, workflows.Options{Workers: workers, FetchPollInterval: time.Hour})
	require.NoError(t, err)
	require.NoError(t, engine.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	return engine, started
}

// TestEnqueueWakesWorkers: with the fetch poll an hour away, jobs enqueued after the start (so
// after River's initial fetch) are still worked, because each group commit wakes the producer.
func TestEnqueueWakesWorkers(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			engine, started := newWakeEngine(t, db.URL)
			for n := range 3 {
				ins, err := engine.Enqueue(context.Background(), wakeArgs{N: n}, nil)
				require.NoError(t, err)
				select {
				case <-started:
				case <-time.After(time.Minute):
					t.Fatalf("job %d (execution %d) was not started: the insert did not wake the workers", n, ins.ID)
				}
			}
		})
	}
}

// BenchmarkEnqueueToStart measures one webhook's path from Enqueue (the group commit) to its
// worker starting, one job at a time, with the fetch poll out of the way (an hour): before
// inserts woke the producer this was the poll interval. Reports p50 and p99 in µs.
func BenchmarkEnqueueToStart(b *testing.B) {
	engine, started := newWakeEngine(b, workflowstest.SQLiteURL(b))
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for n := range b.N {
		t0 := time.Now()
		if _, err := engine.Enqueue(context.Background(), wakeArgs{N: n}, nil); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-started:
			latencies = append(latencies, at.Sub(t0))
		case <-time.After(time.Minute):
			b.Fatalf("job %d was not started within a minute", n)
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}
