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

// TestPacerFeedsTheWorkersDuringABurst: outside a burst every look moves; during one, a move is
// due once the workers have ended half of what the last move inserted, or pumpPoll after it.
func TestPacerFeedsTheWorkersDuringABurst(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	p := pacer{since: start}
	p.observe(start.Add(burstWindow/2), 10_000) // the window is not over: no judgement yet
	require.False(t, p.burst)
	require.True(t, p.due(start, 0))

	at := start.Add(burstWindow)
	p.observe(at, burstRate*burstWindow.Milliseconds()/1000) // exactly burstRate
	require.True(t, p.burst)
	p.moved(at, 40, 256)
	require.False(t, p.due(at.Add(burstGather), 40), "nothing worked since the move")
	require.False(t, p.due(at.Add(burstGather), 40+127), "not yet half")
	require.True(t, p.due(at.Add(burstGather), 40+128), "half of the batch worked")
	require.True(t, p.due(at.Add(pumpPoll), 40), "a pumpPoll after the last move")

	p.moved(at, 50, 0) // only duplicates: the workers still want work
	require.True(t, p.due(at, 50))

	half := at.Add(2 * burstWindow)
	p.observe(half, p.accepted+burstRate*2*burstWindow.Milliseconds()/1000/2) // half the rate: still a burst
	require.True(t, p.burst, "a burst ends under half of burstRate")

	later := half.Add(burstWindow)
	p.observe(later, p.accepted+1) // the burst is over
	require.False(t, p.burst)
	p.moved(later, 60, 256)
	require.True(t, p.due(later, 60), "outside a burst every look moves")
}
