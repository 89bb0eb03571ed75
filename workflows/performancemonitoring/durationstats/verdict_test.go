package durationstats

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tight is a stable baseline: 98–102 s, median 100 s, p90 102 s.
func tight() []time.Duration {
	var out []time.Duration
	for range 4 {
		out = append(out, secs(98, 99, 100, 101, 102)...)
	}
	return out
}

// noisy is a spread-out baseline: median 100 s, p10 79.5 s, p90 136 s.
func noisy() []time.Duration {
	return secs(70, 75, 80, 85, 88, 92, 95, 97, 99, 100, 100, 102, 105, 110, 115, 120, 128, 135, 145, 160)
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		baseline, pr []time.Duration
		opts         Options
		want         Kind
		wantChange   float64
		wantTest     bool
	}{
		{name: "50% slower than a tight baseline", baseline: tight(), pr: secs(150), want: KindRegression, wantChange: 50},
		{name: "25% slower than a noisy baseline whose p90 covers it", baseline: noisy(), pr: secs(125), want: KindNoChange, wantChange: 25},
		{name: "too few baseline samples", baseline: secs(100, 100, 101, 99), pr: secs(300), want: KindNotEnoughData},
		{name: "no PR sample", baseline: tight(), pr: nil, want: KindNotEnoughData},
		{name: "above p90 but under the threshold", baseline: tight(), pr: secs(110), want: KindNoChange, wantChange: 10},
		{name: "exactly the threshold is not over it", baseline: tight(), pr: secs(120), want: KindNoChange, wantChange: 20},
		{name: "40% faster than a tight baseline", baseline: tight(), pr: secs(60), want: KindImprovement, wantChange: -40},
		{name: "25% faster than a noisy baseline whose p10 covers it", baseline: secs(50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150), pr: secs(75), want: KindNoChange, wantChange: -25},
		{name: "several PR samples, significantly slower", baseline: tight(), pr: secs(149, 150, 152), want: KindRegression, wantChange: 50, wantTest: true},
		{name: "several PR samples, slower but not significant", baseline: noisy(), pr: secs(110, 125, 140), want: KindNoChange, wantChange: 25, wantTest: true},
		{name: "several PR samples, significantly faster", baseline: tight(), pr: secs(60, 61, 59, 62), want: KindImprovement, wantChange: -39.5, wantTest: true},
		{name: "custom threshold", baseline: tight(), pr: secs(130), opts: Options{ThresholdPercent: 50}, want: KindNoChange, wantChange: 30},
		{name: "custom min samples", baseline: secs(100, 100, 101, 99), pr: secs(200), opts: Options{MinSamples: 3}, want: KindRegression, wantChange: 100},
		{name: "zero baseline median", baseline: secs(0, 0, 0, 0, 0), pr: secs(5), want: KindNoChange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Verdict(tt.baseline, tt.pr, tt.opts)
			require.Equal(t, tt.want, r.Kind, r.Reason)
			require.InDelta(t, tt.wantChange, r.ChangePercent, 1e-9)
			require.Equal(t, tt.wantTest, r.Test != nil)
			require.NotEmpty(t, r.Reason)
			require.Equal(t, len(tt.baseline), r.BaselineSamples)
			require.Equal(t, len(tt.pr), r.PRSamples)
		})
	}
}

func TestVerdictReportsTheBaseline(t *testing.T) {
	t.Parallel()
	r := Verdict(noisy(), secs(125), Options{})
	require.Equal(t, 100*time.Second, r.BaselineP50)
	require.Equal(t, 136*time.Second, r.BaselineP90)
	require.Equal(t, 79500*time.Millisecond, r.BaselineP10)
	require.Equal(t, 125*time.Second, r.PRValue)
	require.Contains(t, r.Reason, "within the baseline's spread")

	r = Verdict(tight(), secs(150), Options{})
	require.Equal(t, 102*time.Second, r.BaselineP90)
	require.Equal(t, time.Second, r.BaselineMAD)
	require.Contains(t, r.Reason, "above the baseline's p90")

	r = Verdict(secs(1, 2), secs(5), Options{})
	require.Contains(t, r.Reason, "at least 5")

	// Ties (110 s in both) force the normal approximation; SciPy 1.10 gives
	// U = 47.5, p = 0.06025363922262592.
	r = Verdict(noisy(), secs(110, 125, 140), Options{})
	require.InDelta(t, 47.5, r.Test.U, 1e-12)
	require.InDelta(t, 0.06025363922262592, r.Test.P, 1e-12)
	require.Contains(t, r.Reason, "not significant")

	raw, err := json.Marshal(Verdict(tight(), secs(149, 150, 152), Options{}))
	require.NoError(t, err)
	require.Contains(t, string(raw), `"kind":"regression"`)
	require.Contains(t, string(raw), `"test":{`)
}

func TestVerdictDoesNotModifyInputs(t *testing.T) {
	t.Parallel()
	base, pr := noisy(), secs(140, 110, 125)
	base[0], base[19] = base[19], base[0]
	want := append([]time.Duration(nil), base...)
	_ = Verdict(base, pr, Options{})
	require.Equal(t, want, base)
	require.Equal(t, secs(140, 110, 125), pr)
}

func TestFair(t *testing.T) {
	t.Parallel()
	kept, dropped := Fair([]Sample{
		{Duration: 100 * time.Second, Queue: 5 * time.Second, Attempt: 1, Conclusion: "success"},
		{Duration: 110 * time.Second, Attempt: 0, Conclusion: "FAILURE"},
		{Duration: 120 * time.Second, Attempt: 1, Conclusion: "timed_out"},
		{Duration: 30 * time.Second, Attempt: 2, Conclusion: "success"},              // re-run
		{Duration: 5 * time.Second, Attempt: 1, Conclusion: "cancelled"},             // stopped early
		{Duration: 5 * time.Second, Attempt: 1, Conclusion: "skipped"},               // did nothing
		{Duration: 90 * time.Second, Attempt: 1, Conclusion: ""},                     // not finished
		{Duration: 90 * time.Second, Queue: 10 * time.Minute, Conclusion: "success"}, // queue dominates
		{Duration: 20 * time.Second, Queue: 40 * time.Second, Conclusion: "success"}, // short queue: kept
		{Duration: 0, Conclusion: "success"},                                         // invalid
		{Duration: time.Second, Queue: -time.Second, Conclusion: "success"},          // invalid
	})
	require.Equal(t, secs(100, 110, 120, 20), kept)
	require.Equal(t, Dropped{Rerun: 1, Cancelled: 2, Queued: 1, Unfinished: 1, Invalid: 2}, dropped)
	require.Equal(t, 7, dropped.Total())

	kept, dropped = Fair(nil)
	require.Empty(t, kept)
	require.Zero(t, dropped.Total())
}

func BenchmarkVerdict(b *testing.B) {
	base, pr := noisy(), secs(110, 125, 140)
	for b.Loop() {
		_ = Verdict(base, pr, Options{})
	}
}
