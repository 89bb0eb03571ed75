package flakiness

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

func obs(test, suite string, run int64, outcome testresults.Outcome, d time.Duration) Observation {
	return Observation{Repo: "acme/shop", Workflow: "CI", Job: "test", Suite: suite, TestID: test, SHA: "s",
		RunID: run, Attempt: 1, Outcome: outcome, Duration: d, At: t0.Add(time.Duration(run) * time.Hour)}
}

func TestSlowPercentilesTopNAndSuites(t *testing.T) {
	t.Parallel()
	var in []Observation
	for i := range int64(10) { // 1s..10s: p50 5s, p90 9s
		in = append(in, obs("slow", "s1", i, testresults.Passed, time.Duration(i+1)*time.Second))
		in = append(in, obs("fast", "s1", i, testresults.Passed, 10*time.Millisecond))
		in = append(in, obs("mid", "s2", i, testresults.Passed, 2*time.Second))
	}
	in = append(in,
		obs("slow", "s1", 10, testresults.Failed, time.Hour),   // failures do not count per test
		obs("slow", "s1", 11, testresults.Skipped, time.Hour),  // nor do skips anywhere
		obs("tie", "s2", 0, testresults.Passed, 2*time.Second), // same p90 as mid
	)
	rep := Slow(in, SlowConfig{TopN: 3})
	require.Len(t, rep.Tests, 4)
	require.Equal(t, TestDuration{Repo: "acme/shop", TestID: "slow", Durations: Durations{Samples: 10, P50: 5 * time.Second, P90: 9 * time.Second}}, rep.Slowest[0])
	require.Equal(t, []string{"slow", "mid", "tie"}, []string{rep.Slowest[0].TestID, rep.Slowest[1].TestID, rep.Slowest[2].TestID}, "ties by id")
	require.Len(t, rep.Slowest, 3)
	require.Len(t, rep.Suites, 2)
	// s1 per run: (i+1)s + 10ms, plus the failed hour in run 10.
	require.Equal(t, SuiteDuration{Repo: "acme/shop", Suite: "s1", Durations: Durations{Samples: 11, P50: 6*time.Second + 10*time.Millisecond, P90: 10*time.Second + 10*time.Millisecond}}, rep.Suites[0])
	require.Equal(t, "s2", rep.Suites[1].Suite)
	require.Equal(t, Durations{Samples: 10, P50: 2 * time.Second, P90: 2 * time.Second}, rep.Suites[1].Durations, "run 0 (mid+tie, 4s) is one sample, above the p90 of ten")
	require.Equal(t, []Slowdown{{Repo: "acme/shop", TestID: "slow", Previous: 5 * time.Second, Last: 10 * time.Second}}, rep.Slower, "the 1s..10s ramp got slower")
}

func TestSlowLookbackKeepsNewestSamples(t *testing.T) {
	t.Parallel()
	var in []Observation
	for i := range int64(30) {
		d := time.Second
		if i >= 20 {
			d = 3 * time.Second
		}
		in = append(in, obs("t", "s", i, testresults.Passed, d))
	}
	rep := Slow(in, SlowConfig{LookbackRuns: 10})
	require.Equal(t, Durations{Samples: 10, P50: 3 * time.Second, P90: 3 * time.Second}, rep.Tests[0].Durations)
}

func TestGotSlower(t *testing.T) {
	t.Parallel()
	var in []Observation
	add := func(test string, n int, d time.Duration) {
		for range n {
			in = append(in, obs(test, "s", int64(len(in)), testresults.Passed, d))
		}
	}
	add("doubled", 20, time.Second)
	add("doubled", 20, 2*time.Second)
	add("noise", 20, 10*time.Millisecond) // +100% but only 10ms
	add("noise", 20, 20*time.Millisecond)
	add("steady", 40, time.Second)
	add("little", 20, time.Second) // +15%: under the ratio
	add("little", 20, 1150*time.Millisecond)
	add("few", 4, time.Second) // too few samples per window
	add("few", 4, 5*time.Second)
	add("outliers", 20, time.Second) // p90 1s → 5s from 3 outliers, median unchanged
	add("outliers", 17, time.Second)
	add("outliers", 3, 5*time.Second)
	add("halved", 6, 500*time.Millisecond) // 6+6 samples: windows of 6
	add("halved", 6, 4*time.Second)
	rep := Slow(in, SlowConfig{})
	require.Equal(t, []Slowdown{
		{Repo: "acme/shop", TestID: "halved", Previous: 500 * time.Millisecond, Last: 4 * time.Second},
		{Repo: "acme/shop", TestID: "doubled", Previous: time.Second, Last: 2 * time.Second},
	}, rep.Slower)
}

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	one := []time.Duration{7}
	require.Equal(t, time.Duration(7), percentile(one, 0.5))
	require.Equal(t, time.Duration(7), percentile(one, 0.9))
	two := []time.Duration{1, 2}
	require.Equal(t, time.Duration(1), percentile(two, 0.5))
	require.Equal(t, time.Duration(2), percentile(two, 0.9))
	require.Equal(t, Durations{}, stats(nil))
}
