package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReleaseMemoryWhenIdle: memory goes back once the server has been idle long enough, once
// per idle spell; not while a job works or the inbox holds work, nor before any work.
func TestReleaseMemoryWhenIdle(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	cur := activity{}
	set := func(a activity) { mu.Lock(); cur = a; mu.Unlock() }
	snapshot := func() activity { mu.Lock(); defer mu.Unlock(); return cur }
	var releases atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go releaseMemoryWhenIdle(ctx, snapshot, func() { releases.Add(1) }, 5*time.Millisecond, 30*time.Millisecond)

	time.Sleep(100 * time.Millisecond)
	require.Zero(t, releases.Load(), "nothing to give back before any work")

	set(activity{accepted: 10, jobsStarted: 3, jobsEnded: 2}) // a job is working
	time.Sleep(100 * time.Millisecond)
	require.Zero(t, releases.Load())
	set(activity{accepted: 10, jobsStarted: 3, jobsEnded: 3, backlog: 4}) // work waits in the inbox
	time.Sleep(100 * time.Millisecond)
	require.Zero(t, releases.Load())

	set(activity{accepted: 10, jobsStarted: 7, jobsEnded: 7})
	require.Eventually(t, func() bool { return releases.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	require.EqualValues(t, 1, releases.Load(), "once per idle spell")

	set(activity{accepted: 11, jobsStarted: 8, jobsEnded: 8}) // more work, then idle again
	require.Eventually(t, func() bool { return releases.Load() == 2 }, 5*time.Second, time.Millisecond)
}
