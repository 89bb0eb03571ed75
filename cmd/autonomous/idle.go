package main

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/contexten/autonomous/store"
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

// idleGCPercent is the GC's target while the server is idle: the heap may grow a tenth over its
// live data before a collection, instead of doubling (GOGC=100), so the little the idle server
// allocates (River's polling and maintenance) does not bring the heap back to twice its live
// size after the release. At a few hundred KB allocated per second that is a collection of a
// few milliseconds every few seconds.
const idleGCPercent = 10

// releaseMemory gives back what the idle server holds beyond its live data: SQLite's cached
// statements and page caches (outside the Go heap) and the pool its allocator keeps of what it
// freed, then the heap's free pages; and keeps the heap near its live size (idleGCPercent) until
// resumeMemory.
func (a *App) releaseMemory() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := errors.Join(a.store.ReleaseMemory(ctx), a.inboxStore.ReleaseMemory(ctx)); err != nil {
		a.logger.Warn().Err(err).Msg("Failed to release SQLite's memory")
	}
	// What SQLite freed went to its C allocator's pool, which keeps it resident: hand it back.
	if _, err := store.TrimSQLiteAllocator(); err != nil {
		a.logger.Warn().Err(err).Msg("Failed to trim SQLite's allocator")
	}
	if prev := debug.SetGCPercent(idleGCPercent); prev < 0 {
		debug.SetGCPercent(prev) // GOGC=off stays off
	} else if !a.idleGC {
		a.activeGCPercent, a.idleGC = prev, true
	}
	debug.FreeOSMemory()
}

// resumeMemory gives the GC back its target (GOGC) once work resumes after releaseMemory.
func (a *App) resumeMemory() {
	if a.idleGC {
		debug.SetGCPercent(a.activeGCPercent)
		a.idleGC = false
	}
}

// idleRelease is how long the server must have been idle before its free memory goes back to
// the OS; idleReleaseEvery how often it looks (and so how soon work resumes the GC's target).
const (
	idleRelease      = 3 * time.Second
	idleReleaseEvery = 250 * time.Millisecond
)

// releaseMemoryWhenIdle gives memory back to the OS (release: App.releaseMemory) once nothing
// was accepted, started or finished for idleAfter and nothing is working or waiting — after the
// start, whose parsing and compiling leave garbage, and after each later spell of work — and
// calls resume (App.resumeMemory) when work comes again. The Go runtime gives memory back only
// gradually on its own: after a load the RSS stayed at the burst's peak for minutes while the
// live heap was a fraction of it. One forced collection when the server falls idle costs a few
// milliseconds. release and resume are called from this goroutine only.
func releaseMemoryWhenIdle(ctx context.Context, snapshot func() activity, release, resume func(), every, idleAfter time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	last, since := snapshot(), time.Now()
	released := false
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			cur := snapshot()
			if cur != last || !cur.idle() {
				if released {
					resume()
				}
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
