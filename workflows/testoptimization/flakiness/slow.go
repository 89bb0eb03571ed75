package flakiness

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/contexten/autonomous/workflows/performancemonitoring/durationstats"
	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

// SlowConfig tunes Slow. Zero fields take the defaults.
type SlowConfig struct {
	// LookbackRuns bounds the samples per test and per suite to the newest
	// ones (default 50).
	LookbackRuns int
	// TopN is how many of the slowest tests are listed (default 10).
	TopN int
	// Window is the size of the two windows compared for "got slower"
	// (default 20).
	Window int
	// MinSamples is the fewest samples each window needs (default 5).
	MinSamples int
	// SlowerRatio is how much the p90 must grow, 0.2 being 20% (default).
	SlowerRatio float64
	// MinSlowdown is the least growth of the p90 that counts (default
	// 100ms), so a 2ms test taking 3ms is not reported.
	MinSlowdown time.Duration
}

func (c SlowConfig) withDefaults() SlowConfig {
	if c.LookbackRuns <= 0 {
		c.LookbackRuns = DefaultLookbackRuns
	}
	if c.TopN <= 0 {
		c.TopN = 10
	}
	if c.Window <= 0 {
		c.Window = 20
	}
	if c.MinSamples <= 0 {
		c.MinSamples = 5
	}
	if c.SlowerRatio <= 0 {
		c.SlowerRatio = 0.2
	}
	if c.MinSlowdown <= 0 {
		c.MinSlowdown = 100 * time.Millisecond
	}
	return c
}

// Durations are the p50 and p90 of a set of samples.
type Durations struct {
	Samples int           `json:"samples"`
	P50     time.Duration `json:"p50"`
	P90     time.Duration `json:"p90"`
}

// TestDuration is the duration statistics of one test.
type TestDuration struct {
	Repo   string `json:"repo"`
	TestID string `json:"test_id"`
	Durations
}

// SuiteDuration is the duration statistics of one suite, one sample being
// the sum of its tests' durations in one job of one run attempt.
type SuiteDuration struct {
	Repo  string `json:"repo"`
	Suite string `json:"suite"`
	Durations
}

// Slowdown is a test whose p90 grew from the previous window to the last.
type Slowdown struct {
	Repo     string        `json:"repo"`
	TestID   string        `json:"test_id"`
	Previous time.Duration `json:"previous_p90"`
	Last     time.Duration `json:"last_p90"`
}

// SlowReport is what Slow finds.
type SlowReport struct {
	Tests   []TestDuration  `json:"tests"`
	Slowest []TestDuration  `json:"slowest"`
	Suites  []SuiteDuration `json:"suites"`
	Slower  []Slowdown      `json:"slower"`
}

// Slow computes duration statistics:
//
//   - per test, over the durations of its newest LookbackRuns passed
//     executions (failures can be cut short or time out, skips take no
//     time); per suite, over the newest LookbackRuns totals of its passed
//     and failed tests per (run, attempt, job);
//   - percentiles by nearest rank: the p-th of n sorted samples is the
//     ceil(p·n)-th;
//   - Slowest: the TopN tests by p90, then p50 (descending), then id;
//   - Slower: with each test's passed durations in time order, the last
//     w = min(Window, n/2) samples are compared with the w before them; a
//     test got slower when w ≥ MinSamples and the last p90 exceeds the
//     previous one by more than SlowerRatio and by at least MinSlowdown,
//     and performance monitoring's guard agrees (durationstats.Verdict of
//     the last window against the previous: median up by more than
//     SlowerRatio and the one-sided Mann–Whitney U test significant at
//     0.05). Sorted by growth, largest first, then id.
func Slow(obs []Observation, cfg SlowConfig) SlowReport {
	cfg = cfg.withDefaults()
	perTest := map[testKey][]Observation{}
	type suiteRun struct {
		repo, suite, job string
		run              int64
		attempt          int
	}
	suiteTotals := map[suiteRun]time.Duration{}
	suiteAt := map[suiteRun]time.Time{}
	for _, o := range obs {
		if o.Outcome == testresults.Passed {
			perTest[testKey{o.Repo, o.TestID}] = append(perTest[testKey{o.Repo, o.TestID}], o)
		}
		if o.Suite != "" && (o.Outcome == testresults.Passed || o.Outcome.IsFailure()) {
			k := suiteRun{o.Repo, o.Suite, o.Job, o.RunID, o.Attempt}
			suiteTotals[k] += o.Duration
			if at, ok := suiteAt[k]; !ok || o.At.Before(at) {
				suiteAt[k] = o.At
			}
		}
	}
	var rep SlowReport
	for k, samples := range perTest {
		slices.SortFunc(samples, byTime)
		ds := durations(samples)
		rep.Tests = append(rep.Tests, TestDuration{Repo: k.repo, TestID: k.test, Durations: stats(lastN(ds, cfg.LookbackRuns))})
		if s, ok := slowdown(ds, cfg); ok {
			s.Repo, s.TestID = k.repo, k.test
			rep.Slower = append(rep.Slower, s)
		}
	}
	type suiteSample struct {
		at time.Time
		d  time.Duration
	}
	suites := map[[2]string][]suiteSample{}
	for k, d := range suiteTotals {
		sk := [2]string{k.repo, k.suite}
		suites[sk] = append(suites[sk], suiteSample{suiteAt[k], d})
	}
	for k, ss := range suites {
		slices.SortFunc(ss, func(a, b suiteSample) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.d, b.d)) })
		ds := make([]time.Duration, len(ss))
		for i, s := range ss {
			ds[i] = s.d
		}
		rep.Suites = append(rep.Suites, SuiteDuration{Repo: k[0], Suite: k[1], Durations: stats(lastN(ds, cfg.LookbackRuns))})
	}
	slowestFirst := func(a, b TestDuration) int {
		return cmp.Or(cmp.Compare(b.P90, a.P90), cmp.Compare(b.P50, a.P50), cmp.Compare(a.Repo, b.Repo), cmp.Compare(a.TestID, b.TestID))
	}
	slices.SortFunc(rep.Tests, slowestFirst)
	rep.Slowest = slices.Clone(rep.Tests[:min(cfg.TopN, len(rep.Tests))])
	slices.SortFunc(rep.Suites, func(a, b SuiteDuration) int {
		return cmp.Or(cmp.Compare(b.P90, a.P90), cmp.Compare(a.Repo, b.Repo), cmp.Compare(a.Suite, b.Suite))
	})
	slices.SortFunc(rep.Slower, func(a, b Slowdown) int {
		return cmp.Or(cmp.Compare(b.Last-b.Previous, a.Last-a.Previous), cmp.Compare(a.Repo, b.Repo), cmp.Compare(a.TestID, b.TestID))
	})
	return rep
}

func durations(samples []Observation) []time.Duration {
	ds := make([]time.Duration, len(samples))
	for i, o := range samples {
		ds[i] = o.Duration
	}
	return ds
}

func lastN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func slowdown(ds []time.Duration, cfg SlowConfig) (Slowdown, bool) {
	w := min(cfg.Window, len(ds)/2)
	if w < cfg.MinSamples {
		return Slowdown{}, false
	}
	lastS, prevS := ds[len(ds)-w:], ds[len(ds)-2*w:len(ds)-w]
	last, prev := stats(lastS).P90, stats(prevS).P90
	if last-prev < cfg.MinSlowdown || float64(last) <= float64(prev)*(1+cfg.SlowerRatio) {
		return Slowdown{}, false
	}
	// Performance monitoring's guard: the last window's median must exceed
	// the previous one's by the same ratio and the Mann–Whitney U test must
	// find it slower, so a few outliers lifting the p90 do not count.
	v := durationstats.Verdict(prevS, lastS, durationstats.Options{ThresholdPercent: cfg.SlowerRatio * 100, MinSamples: cfg.MinSamples})
	if v.Kind != durationstats.KindRegression {
		return Slowdown{}, false
	}
	return Slowdown{Previous: prev, Last: last}, true
}

func stats(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Durations{Samples: len(s), P50: percentile(s, 0.5), P90: percentile(s, 0.9)}
}

// percentile is the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
