package workflows

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestThrottleOneJobWhileCongested: while the inbox holds more than a batch, jobs work one at a
// time; once it is back under, the waiting ones start.
func TestThrottleOneJobWhileCongested(t *testing.T) {
	t.Parallel()
	ib := &Inbox{slot: make(chan struct{}, 1)}
	ib.backlog.Store(pumpBatch + 1)
	var running, most atomic.Int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = ib.throttle(context.Background(), func(context.Context) error {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-release
				running.Add(-1)
				return nil
			})
		}()
	}
	require.Eventually(t, func() bool { return running.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(250 * time.Millisecond) // the others look again every 100 ms and must still wait
	require.EqualValues(t, 1, most.Load())

	ib.backlog.Store(0)
	require.Eventually(t, func() bool { return running.Load() == 3 }, 5*time.Second, time.Millisecond,
		"once the inbox is no longer congested every job works")
	close(release)
	wg.Wait()
}

// TestThrottleGivesUpWithTheJob: a job waiting for the slot ends with its context.
func TestThrottleGivesUpWithTheJob(t *testing.T) {
	t.Parallel()
	ib := &Inbox{slot: make(chan struct{}, 1)}
	ib.backlog.Store(pumpBatch + 1)
	ib.slot <- struct{}{} // another job holds it
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := ib.throttle(ctx, func(context.Context) error { t.Fatal("must not work"); return nil })
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
