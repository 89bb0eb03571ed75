package workflows_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// BenchmarkEnqueue measures durable group-committed inserts alone (no HTTP), 32 concurrent
// callers, on SQLite (BENCH_POSTGRES=1: a fresh schema of TEST_DATABASE_URL).
func BenchmarkEnqueue(b *testing.B) {
	url := workflowstest.SQLiteURL(b)
	if os.Getenv("BENCH_POSTGRES") != "" {
		url = workflowstest.PostgresURL(b)
	}
	engine := newEngine(b, url, false)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := engine.Enqueue(context.Background(), testArgs{Owner: "o", Repo: "r", N: int(n.Add(1))}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	batches, jobs := engine.InsertStats()
	b.ReportMetric(float64(jobs)/float64(max(batches, 1)), "jobs/commit")
}
