package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestScaleOutOnPostgres runs two servers on one Postgres database: 200 deliveries spread over
// both are each executed exactly once, concurrent analyses of one pull request share one sticky
// comment, and the periodic health check runs once per interval, not once per server.
func TestScaleOutOnPostgres(t *testing.T) {
	t.Parallel()
	dbURL := workflowstest.PostgresURL(t)
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.APIURL(), dbURL)
	cfg.HealthCheckInterval = time.Second
	cfg.MaxConcurrentWorkflows = 20
	apps := []*App{startApp(t, cfg, appOptions{}), startApp(t, cfg, appOptions{})}
	start := time.Now()

	const deliveries = 200
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range deliveries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			runID := int64(20000 + i)
			code := deliver(t, apps[i%2], "workflow_run", fmt.Sprintf("s-%d", i), failedRun(t, runID, 1))
			require.Equal(t, http.StatusOK, code)
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool {
		var done int
		require.NoError(t, apps[0].store.DB.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'failure_analysis' AND state = 'completed'`).Scan(&done))
		return done == deliveries
	}, 90*time.Second, 50*time.Millisecond)
	require.Equal(t, deliveries, countJobs(t, apps[0], "failure_analysis"))
	for i := range deliveries {
		require.Equal(t, 1, gh.countExact(fmt.Sprintf("GET /repos/octo-org/hello-world/actions/runs/%d", 20000+i)), "run %d analyzed more than once", 20000+i)
	}
	require.Len(t, gh.commentsOn(42), 1, "concurrent analyses of one pull request share one comment")

	// Both servers worked: the load was shared, not taken by one.
	var workers int
	require.NoError(t, apps[0].store.DB.QueryRow(`SELECT count(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'failure_analysis'`).Scan(&workers))
	require.Equal(t, 2, workers)

	// Health checks: River's leader alone enqueues periodic jobs.
	time.Sleep(3 * time.Second)
	elapsed := time.Since(start).Seconds()
	checks := countJobs(t, apps[0], "health_check")
	t.Logf("%d health checks in %.1f s with a 1 s interval on two servers", checks, elapsed)
	require.LessOrEqual(t, float64(checks), elapsed+2, "health checks ran more than once per interval")
	require.GreaterOrEqual(t, checks, 2)
}

// TestReplicaCrashOnPostgres runs two servers on one Postgres database and kills one (SIGKILL)
// in the middle of a burst while both have every worker inside a job. The survivor rescues the
// dead replica's jobs within a minute of the kill and leaves its own long-running jobs alone;
// after GitHub redelivers the burst to the survivor, every delivery is processed exactly once.
func TestReplicaCrashOnPostgres(t *testing.T) {
	t.Parallel()
	dbURL := workflowstest.PostgresURL(t)
	gh := newFakeGitHub(t)
	gh.hangRun = make(chan struct{})
	const deadID = "replica-a"
	child, childURL := startCrashChild(t, gh, dbURL, deadID)
	survivor := startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{})
	survivorID := survivor.engine.Client().ID()

	b := newBurst(41000, 60)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		b.send(t, func(i int) string {
			if i%2 == 0 {
				return childURL
			}
			return survivor.URL()
		})
	}()
	store := survivor.store
	runningBy := func(client string) int {
		var n int
		require.NoError(t, store.DB.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'failure_analysis'
			AND state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1`, client).Scan(&n))
		return n
	}
	workers := config.Default().MaxConcurrentWorkflows
	require.Eventually(t, func() bool { return runningBy(deadID) == workers && runningBy(survivorID) == workers },
		30*time.Second, 5*time.Millisecond)
	require.NoError(t, child.Process.Kill())
	killed := time.Now()
	_ = child.Wait()
	<-sent
	t.Logf("killed one replica with %d of %d deliveries acknowledged", b.ackedCount(), len(b.runs))

	// The survivor's workers are still blocked in GitHub: it rescues the dead replica's jobs
	// (they wait, available, for a free worker) and none of its own.
	require.Eventually(t, func() bool { return runningBy(deadID) == 0 }, time.Minute, 100*time.Millisecond,
		"the dead replica's jobs were not rescued within a minute")
	t.Logf("the dead replica's %d jobs were rescued %.1f s after the kill", workers, time.Since(killed).Seconds())
	var rescuedOwn int
	require.NoError(t, store.DB.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'failure_analysis'
		AND attempted_by[1] = $1 AND (attempt > 1 OR state <> 'running')`, survivorID).Scan(&rescuedOwn))
	require.Zero(t, rescuedOwn, "a live replica's long-running job was rescued")
	require.Equal(t, workers, runningBy(survivorID))

	gh.release()
	for i := range b.runs {
		code, err := postDelivery(survivor.URL(), b.delivery(i), failedRun(t, b.runs[i], 1))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, "redelivery %s", b.delivery(i))
	}
	requireAllProcessedOnce(t, gh, store, b, killed.Add(time.Minute))
}
