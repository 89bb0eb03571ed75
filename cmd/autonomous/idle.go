package main

import (
	"context"
	"errors"
	"runtime/debug"
	"time"
)

// activity is a snapshot of what the server has done: equal snapshots taken apart mean nothing
// happened in between.
type activity struct {
	accepted, jobsStarted, jobsEnded, backlog int64
}

// idle reports whether nothing is being worked or waits to be.
func (s activity) idle() bool { return s.jobsStarted == s.jobsEnded && s.backlog == 0 }

// appActivity reads the inbox's and the engine's counters.
func (a *App) appActivity() activity {
	started, ended := a.engine.JobActivity()
	return activity{accepted: a.inbox.Accepted(), jobsStarted: started, jobsEnded: ended, backlog: a.inbox.Backlog()}
}

// releaseMemory gives back what the idle server holds beyond its live data: SQLite's cached
// statements and page caches (outside the Go heap), then the heap's free pages.
func (a *App) releaseMemory() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := errors.Join(a.store.ReleaseMemory(ctx), a.inboxStore.ReleaseMemory(ctx)); err != nil {
		a.logger.Warn().Err(err).Msg("Failed to release SQLite's memory")
	}
	debug.FreeOSMemory()
}

// idleRelease is how long the server must have been idle before its free memory goes back to
// the OS, and how often it looks.
const (
	idleRelease      = 3 * time.Second
	idleReleaseEvery = time.Second
)

// releaseMemoryWhenIdle gives memory back to the OS (release: App.releaseMemory) once nothing was accepted, started or finished for idleAfter and nothing is working or
// waiting, and again after each later burst of work. The Go runtime gives memory back only
// gradually on its own: after a load the RSS stayed at the burst's peak for minutes while the
// live heap was a fraction of it. One forced collection when the server falls idle costs a few
// milliseconds.
func releaseMemoryWhenIdle(ctx context.Context, snapshot func() activity, release func(), every, idleAfter time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	last, since := snapshot(), time.Now()
	released := true // nothing to give back before the first work
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			cur := snapshot()
			if cur != last || !cur.idle() {
				last, since, released = cur, now, false
				continue
			}
			if !released && now.Sub(since) >= idleAfter {
				release()
				released = true
			}
		}
	}
}
