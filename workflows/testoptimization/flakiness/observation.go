// Package flakiness decides, from stored test observations, which tests are
// flaky (the same commit both failed and passed them), how flaky, whether
// they are quarantined or have recovered, and which tests are slow or got
// slower. It is pure computation over the observations it is given.
package flakiness

import (
	"cmp"
	"slices"
	"time"

	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

// Observation is one execution of one test in one job of one workflow run
// attempt.
type Observation struct {
	Repo     string              `json:"repo"`
	Workflow string              `json:"workflow"`
	Job      string              `json:"job"`
	Suite    string              `json:"suite,omitempty"`
	TestID   string              `json:"test_id"`
	SHA      string              `json:"sha"`
	RunID    int64               `json:"run_id"`
	Attempt  int                 `json:"attempt"`
	Outcome  testresults.Outcome `json:"outcome"`
	Duration time.Duration       `json:"duration"`
	At       time.Time           `json:"at"`
	RunURL   string              `json:"run_url"`
}

type testKey struct{ repo, test string }

// run is the observations of one test in one workflow run, all attempts.
type run struct {
	id    int64
	start time.Time // earliest observation
	obs   []Observation
}

// groupByTest sorts each test's observations into runs, oldest first
// (by the run's earliest observation, then run id).
func groupByTest(obs []Observation) map[testKey][]run {
	byRun := map[testKey]map[int64]*run{}
	for _, o := range obs {
		k := testKey{o.Repo, o.TestID}
		if byRun[k] == nil {
			byRun[k] = map[int64]*run{}
		}
		r := byRun[k][o.RunID]
		if r == nil {
			r = &run{id: o.RunID, start: o.At}
			byRun[k][o.RunID] = r
		}
		if o.At.Before(r.start) {
			r.start = o.At
		}
		r.obs = append(r.obs, o)
	}
	out := make(map[testKey][]run, len(byRun))
	for k, m := range byRun {
		runs := make([]run, 0, len(m))
		for _, r := range m {
			slices.SortFunc(r.obs, byTime)
			runs = append(runs, *r)
		}
		slices.SortFunc(runs, func(a, b run) int {
			return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.id, b.id))
		})
		out[k] = runs
	}
	return out
}

func byTime(a, b Observation) int {
	return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.Attempt, b.Attempt), cmp.Compare(a.Job, b.Job))
}

// lastRuns keeps the newest n runs.
func lastRuns(runs []run, n int) []run {
	if len(runs) > n {
		return runs[len(runs)-n:]
	}
	return runs
}
