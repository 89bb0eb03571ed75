package performancemonitoring

import (
	"fmt"
	"testing"
	"time"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/performancemonitoring/durationstats"
)

// benchRuns are n runs of each of 5 workflows with 20 jobs of 10 steps each.
func benchRuns(n int) []store.PerfRun {
	var out []store.PerfRun
	for w := range 5 {
		for i := range n {
			r := store.PerfRun{RunID: int64(w*n + i), Attempt: 1, WorkflowID: int64(w), Workflow: fmt.Sprintf("wf-%d", w),
				Conclusion: "success", Duration: time.Duration(100+i%7) * time.Second, Queue: time.Second}
			for j := range 20 {
				job := store.PerfJob{Name: fmt.Sprintf("job-%d", j), Conclusion: "success", Duration: time.Duration(50+(i+j)%9) * time.Second, Queue: time.Second}
				for s := range 10 {
					job.Steps = append(job.Steps, store.PerfStep{Name: fmt.Sprintf("step-%d", s), Conclusion: "success", Duration: time.Duration(s+1) * time.Second})
				}
				r.Jobs = append(r.Jobs, job)
			}
			out = append(out, r)
		}
	}
	return out
}

// BenchmarkJudge weighs 3 PR runs of 5 workflows (20 jobs each) against 20 baseline runs each:
// one check's statistics.
func BenchmarkJudge(b *testing.B) {
	base, cur := benchRuns(20), benchRuns(3)
	b.ReportAllocs()
	for b.Loop() {
		_ = judge(base, cur, durationstats.Options{})
	}
}

// BenchmarkSuggest looks for optimizations in 23 runs of 5 workflows.
func BenchmarkSuggest(b *testing.B) {
	runs := benchRuns(23)
	b.ReportAllocs()
	for b.Loop() {
		_ = suggest(runs)
	}
}
