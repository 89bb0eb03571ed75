package main

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
)

// TestReleaseMemoryWhenIdle: memory goes back once the server has been idle long enough, once
// per idle spell (the first after the start); not while a job works or the inbox holds work; and
// the GC's target comes back (resume) as soon as work does.
func TestReleaseMemoryWhenIdle(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	cur := activity{}
	set := func(a activity) { mu.Lock(); cur = a; mu.Unlock() }
	snapshot := func() activity { mu.Lock(); defer mu.Unlock(); return cur }
	var releases, resumes atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go releaseMemoryWhenIdle(ctx, snapshot, func() { releases.Add(1) }, func() { resumes.Add(1) }, 5*time.Millisecond, 30*time.Millisecond)

	require.Eventually(t, func() bool { return releases.Load() == 1 }, 5*time.Second, time.Millisecond,
		"the start's garbage goes back once idle")
	require.Zero(t, resumes.Load())

	set(activity{accepted: 10, jobsStarted: 3, jobsEnded: 2}) // a job is working
	require.Eventually(t, func() bool { return resumes.Load() == 1 }, 5*time.Second, time.Millisecond, "work resumes the GC's target")
	time.Sleep(100 * time.Millisecond)
	require.EqualValues(t, 1, releases.Load())
	set(activity{accepted: 10, jobsStarted: 3, jobsEnded: 3, backlog: 4}) // work waits in the inbox
	time.Sleep(100 * time.Millisecond)
	require.EqualValues(t, 1, releases.Load())

	set(activity{accepted: 10, jobsStarted: 7, jobsEnded: 7})
	require.Eventually(t, func() bool { return releases.Load() == 2 }, 5*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	require.EqualValues(t, 2, releases.Load(), "once per idle spell")
	require.EqualValues(t, 1, resumes.Load(), "one resume per release")

	set(activity{accepted: 11, jobsStarted: 8, jobsEnded: 8}) // more work, then idle again
	require.Eventually(t, func() bool { return releases.Load() == 3 }, 5*time.Second, time.Millisecond)
	require.EqualValues(t, 2, resumes.Load())
}

// TestReleaseAndResumeMemory: an idle server's GC keeps the heap near its live size
// (idleGCPercent), and the target before comes back with the work.
func TestReleaseAndResumeMemory(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	a := newTestAppForMemory(t)
	a.releaseMemory()
	require.Equal(t, idleGCPercent, debug.SetGCPercent(idleGCPercent))
	a.releaseMemory() // twice idle: the target to come back to is still 100
	a.resumeMemory()
	require.Equal(t, 100, debug.SetGCPercent(100))
	a.resumeMemory() // nothing to resume
	require.Equal(t, 100, debug.SetGCPercent(100))
}

// newTestAppForMemory is an App with the stores releaseMemory releases: a SQLite database and
// its inbox in a temporary directory.
func newTestAppForMemory(t *testing.T) *App {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "autonomous.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	inbox, err := store.OpenInbox(ctx, st)
	require.NoError(t, err)
	t.Cleanup(func() { _ = inbox.Close() })
	return &App{store: st, inboxStore: inbox}
}
