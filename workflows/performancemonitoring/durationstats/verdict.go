package durationstats

import (
	"fmt"
	"math"
	"time"
)

// Kind is what a [Result] concludes.
type Kind string

// The kinds of verdict.
const (
	KindRegression    Kind = "regression"
	KindImprovement   Kind = "improvement"
	KindNoChange      Kind = "no_change"
	KindNotEnoughData Kind = "not_enough_data"
)

// Defaults of [Options].
const (
	DefaultThresholdPercent = 20
	DefaultMinSamples       = 5
	DefaultAlpha            = 0.05
)

// Options tune [Verdict]; a zero field takes its default.
type Options struct {
	// ThresholdPercent is the smallest change, in percent of the baseline's
	// median, that is reported (alert_threshold_percent; default 20).
	ThresholdPercent float64
	// MinSamples is the fewest baseline samples judged (min_samples;
	// default 5).
	MinSamples int
	// Alpha is the Mann–Whitney U test's significance level when the PR
	// has several samples (default 0.05).
	Alpha float64
}

func (o Options) withDefaults() Options {
	if o.ThresholdPercent <= 0 || math.IsNaN(o.ThresholdPercent) {
		o.ThresholdPercent = DefaultThresholdPercent
	}
	if o.MinSamples <= 0 {
		o.MinSamples = DefaultMinSamples
	}
	if o.Alpha <= 0 || o.Alpha >= 1 || math.IsNaN(o.Alpha) {
		o.Alpha = DefaultAlpha
	}
	return o
}

// Result is a verdict on a PR's durations against a baseline.
type Result struct {
	Kind Kind `json:"kind"`
	// ChangePercent is (PRValue − BaselineP50) / BaselineP50 · 100; 0 when
	// there is no baseline or its median is zero.
	ChangePercent float64       `json:"change_percent"`
	BaselineP10   time.Duration `json:"baseline_p10"`
	BaselineP50   time.Duration `json:"baseline_p50"`
	BaselineP90   time.Duration `json:"baseline_p90"`
	BaselineMAD   time.Duration `json:"baseline_mad"`
	// PRValue is the PR's duration: its only sample, or its samples' median.
	PRValue         time.Duration `json:"pr_value"`
	BaselineSamples int           `json:"baseline_samples"`
	PRSamples       int           `json:"pr_samples"`
	// Test is the Mann–Whitney U test run when the PR has several samples
	// and the change passes the threshold; nil otherwise.
	Test *MWUResult `json:"test,omitempty"`
	// Reason says in a sentence why this Kind.
	Reason string `json:"reason"`
}

// Verdict judges pr's durations against baseline's. It reports:
//
//   - not_enough_data when baseline has fewer than MinSamples samples or
//     pr has none;
//   - regression when the PR is slower than the baseline median by more
//     than ThresholdPercent and lies outside the baseline's spread: above
//     its p90 with one PR sample, or, with several, the one-sided
//     Mann–Whitney U test (PR greater) is significant at Alpha;
//   - improvement, mirrored: faster by more than ThresholdPercent and below
//     the baseline's p10, or the test (PR less) significant;
//   - no_change otherwise.
//
// Samples should first pass [Fair]. Neither slice is modified.
func Verdict(baseline, pr []time.Duration, opts Options) Result {
	opts = opts.withDefaults()
	r := Result{BaselineSamples: len(baseline), PRSamples: len(pr)}
	if len(baseline) > 0 {
		s := sorted(baseline)
		r.BaselineP10, r.BaselineP50, r.BaselineP90 = percentileSorted(s, 0.1), percentileSorted(s, 0.5), percentileSorted(s, 0.9)
		r.BaselineMAD = MAD(baseline)
	}
	if len(pr) > 0 {
		r.PRValue = Median(pr)
	}
	switch {
	case len(baseline) < opts.MinSamples:
		r.Kind = KindNotEnoughData
		r.Reason = fmt.Sprintf("the baseline has %d samples; at least %d are needed", len(baseline), opts.MinSamples)
		return r
	case len(pr) == 0:
		r.Kind = KindNotEnoughData
		r.Reason = "the pull request has no duration to compare"
		return r
	case r.BaselineP50 <= 0:
		r.Kind = KindNoChange
		r.Reason = "the baseline's median duration is zero"
		return r
	}
	r.ChangePercent = float64(r.PRValue-r.BaselineP50) / float64(r.BaselineP50) * 100
	slower := r.ChangePercent > opts.ThresholdPercent
	faster := r.ChangePercent < -opts.ThresholdPercent
	if !slower && !faster {
		r.Kind = KindNoChange
		r.Reason = fmt.Sprintf("%+.1f%% against the baseline median is within the %.0f%% threshold", r.ChangePercent, opts.ThresholdPercent)
		return r
	}
	word, kind := "slower", KindRegression
	if faster {
		word, kind = "faster", KindImprovement
	}
	if len(pr) == 1 {
		outside := (slower && r.PRValue > r.BaselineP90) || (faster && r.PRValue < r.BaselineP10)
		if !outside {
			r.Kind = KindNoChange
			r.Reason = fmt.Sprintf("%.1f%% %s, but within the baseline's spread (p10 %s, p90 %s)", math.Abs(r.ChangePercent), word, r.BaselineP10, r.BaselineP90)
			return r
		}
		r.Kind = kind
		edge, side := r.BaselineP90, "above the baseline's p90"
		if faster {
			edge, side = r.BaselineP10, "below the baseline's p10"
		}
		r.Reason = fmt.Sprintf("%.1f%% %s than the baseline median, %s (%s)", math.Abs(r.ChangePercent), word, side, edge)
		return r
	}
	alt := Greater
	if faster {
		alt = Less
	}
	test, err := MannWhitneyU(pr, baseline, alt)
	if err != nil { // unreachable: both samples are non-empty durations
		r.Kind, r.Reason = KindNotEnoughData, err.Error()
		return r
	}
	r.Test = &test
	if test.P >= opts.Alpha {
		r.Kind = KindNoChange
		r.Reason = fmt.Sprintf("%.1f%% %s, but not significant (Mann–Whitney p = %.3f ≥ %.2f)", math.Abs(r.ChangePercent), word, test.P, opts.Alpha)
		return r
	}
	r.Kind = kind
	r.Reason = fmt.Sprintf("%.1f%% %s than the baseline median over %d runs (Mann–Whitney p = %.3f)", math.Abs(r.ChangePercent), word, len(pr), test.P)
	return r
}
