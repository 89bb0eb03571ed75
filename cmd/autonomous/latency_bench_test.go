package main

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// BenchmarkWebhookToWorker measures the time from sending a delivery to its worker starting
// (River's attempted_at), at a steady 200 deliveries/s on SQLite:
//
//	go test -run '^$' -bench WebhookToWorker -benchtime 2000x ./cmd/autonomous
func BenchmarkWebhookToWorker(b *testing.B) {
	gh := newFakeGitHub(b)
	cfg := testConfig(b, gh.APIURL(), workflowstest.SQLiteURL(b))
	cfg.MaxConcurrentWorkflows = 50
	app := startApp(b, cfg, appOptions{})
	template := failedRun(b, 100000000000, 1)
	idAt := bytes.Index(template, []byte("100000000000"))

	const rate = 200
	sent := make(map[int64]time.Time, b.N)
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		runID := int64(100000000000 + i)
		body := slices.Clone(template)
		copy(body[idAt:], fmt.Sprintf("%012d", runID))
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			sent[runID] = time.Now()
			mu.Unlock()
			require.Equal(b, http.StatusOK, deliver(b, app, "workflow_run", fmt.Sprint("lat-", runID), body))
		}()
	}
	wg.Wait()
	require.Eventually(b, func() bool {
		var n int
		require.NoError(b, app.store.DB.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'failure_analysis' AND attempted_at IS NOT NULL`).Scan(&n))
		return n == b.N
	}, 60*time.Second, 50*time.Millisecond)
	b.StopTimer()
	executions, err := app.engine.List(b.Context(), listAll("failure_analysis", b.N))
	require.NoError(b, err)
	var latencies []time.Duration
	for _, x := range executions {
		row, err := app.engine.Client().JobGet(b.Context(), x.ID)
		require.NoError(b, err)
		var runID int64
		_, _ = fmt.Sscanf(string(x.Args[bytes.Index(x.Args, []byte(`"run_id":`))+9:]), "%d", &runID)
		latencies = append(latencies, row.AttemptedAt.Sub(sent[runID]))
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
