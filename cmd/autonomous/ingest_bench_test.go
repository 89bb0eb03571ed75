package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// BenchmarkWebhookIngest measures what the issue calls webhook ingest: 32 concurrent senders on
// loopback POST signed 22 KB workflow_run deliveries, each a new failed run, and every answer
// comes only after the job is durably stored. "ingest" leaves the workers stopped, so the figure
// is the webhook path alone; "with-workers" also analyzes every run against the fake GitHub in
// the same process, on the same two cores.
//
//	go test -run '^$' -bench WebhookIngest -benchtime 20000x ./cmd/autonomous
//
// BENCH_POSTGRES=1 runs it on a fresh schema of TEST_DATABASE_URL instead of SQLite.
func BenchmarkWebhookIngest(b *testing.B) {
	b.Run("ingest", func(b *testing.B) { benchmarkIngest(b, true) })
	b.Run("with-workers", func(b *testing.B) { benchmarkIngest(b, false) })
}

func benchmarkIngest(b *testing.B, ingestOnly bool) {
	gh := newFakeGitHub(b)
	dbURL := workflowstest.SQLiteURL(b)
	if os.Getenv("BENCH_POSTGRES") != "" {
		dbURL = workflowstest.PostgresURL(b)
	}
	app := startApp(b, testConfig(b, gh.APIURL(), dbURL), appOptions{IngestOnly: ingestOnly})
	// The run id is patched in place so every delivery is new work, without re-encoding JSON.
	template := failedRun(b, 100000000000, 1)
	idAt := bytes.Index(template, []byte("100000000000"))
	require.Positive(b, idAt)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	url := app.URL() + "/api/github/hook"
	const senders = 32
	var next atomic.Int64
	latencies := make([][]time.Duration, senders)
	var failures atomic.Int64
	b.SetBytes(int64(len(template)))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := slices.Clone(template)
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				copy(body[idAt:], fmt.Sprintf("%012d", 100000000000+i))
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", "workflow_run")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprint("bench-", i))
				req.Header.Set("X-Hub-Signature-256", sign(body))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[s] = append(latencies[s], time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	require.Zero(b, failures.Load(), "deliveries failed")
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	batches, jobs := app.engine.InsertStats()
	b.ReportMetric(float64(jobs)/float64(max(batches, 1)), "jobs/commit")
	var stored int
	require.NoError(b, app.store.DB.QueryRowContext(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'failure_analysis'`).Scan(&stored))
	require.Equal(b, b.N, stored, "every answered delivery is stored")
}
