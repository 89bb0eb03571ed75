package flakiness

import (
	"fmt"
	"testing"
	"time"

	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

// 500 tests × 100 runs, every 20th run of every 10th test re-run after a
// failure: the size of one repository's stored history.
func benchHistory() []Observation {
	var obs []Observation
	for test := range 500 {
		id := fmt.Sprintf("pkg :: Test%03d", test)
		for run := range int64(100) {
			o := Observation{Repo: "acme/shop", Workflow: "CI", Job: "test", Suite: "pkg", TestID: id,
				SHA: fmt.Sprintf("sha%d", run), RunID: run, Attempt: 1, Outcome: testresults.Passed,
				Duration: time.Duration(test+int(run)) * time.Millisecond, At: t0.Add(time.Duration(run) * time.Hour)}
			if test%10 == 0 && run%20 == 0 {
				o.Outcome = testresults.Failed
				obs = append(obs, o)
				o.Attempt, o.Outcome = 2, testresults.Passed
			}
			obs = append(obs, o)
		}
	}
	return obs
}

func BenchmarkAnalyze(b *testing.B) {
	obs := benchHistory()
	for b.Loop() {
		_ = Analyze(obs, Config{})
	}
}

func BenchmarkSlow(b *testing.B) {
	obs := benchHistory()
	for b.Loop() {
		_ = Slow(obs, SlowConfig{})
	}
}
