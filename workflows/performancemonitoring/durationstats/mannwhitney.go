package durationstats

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Alternative is the direction of a one-sided test.
type Alternative int

const (
	// Greater tests whether x tends to be larger than y (e.g. the PR's
	// durations slower than the baseline's).
	Greater Alternative = iota
	// Less tests whether x tends to be smaller than y.
	Less
)

// maxExact is the largest sample size, each, for which the exact
// distribution of U is used (when there are no ties).
const maxExact = 20

// ErrNoSamples is returned by [MannWhitneyU] for an empty sample.
var ErrNoSamples = errors.New("a sample is empty")

// ErrNaN is returned by [MannWhitneyU] for a NaN value.
var ErrNaN = errors.New("a sample holds NaN")

// MWUResult is the outcome of a Mann–Whitney U test.
type MWUResult struct {
	// U is x's statistic: the number of (x, y) pairs with x > y, ties
	// counting one half. It lies in [0, len(x)·len(y)].
	U float64
	// Z is the normal approximation's standardised U, with the continuity
	// correction toward the mean and the tie correction of the variance;
	// 0 when all values are equal. Given for Exact results too.
	Z float64
	// P is the one-sided p-value for the alternative.
	P float64
	// Exact reports that P comes from U's exact distribution.
	Exact bool
}

// MannWhitneyU runs the one-sided Mann–Whitney U (Wilcoxon rank-sum) test
// of x against y. P is exact when both samples have at most 20 values and
// no value is tied; otherwise it is the normal approximation with tie and
// continuity correction:
//
//	μ = n·m/2, σ² = n·m/12 · ((N+1) − Σ(t³−t)/(N(N−1))), N = n+m
//	Greater: z = (U − μ − ½)/σ, P = 1 − Φ(z)
//	Less:    z = (U − μ + ½)/σ, P = Φ(z)
//
// where t runs over the sizes of groups of tied values. When every value
// is equal (σ = 0) there is no evidence either way: Z = 0, P = 1.
func MannWhitneyU[T ~int64 | ~float64](x, y []T, alt Alternative) (MWUResult, error) {
	n, m := len(x), len(y)
	if n == 0 || m == 0 {
		return MWUResult{}, fmt.Errorf("failed to run the Mann–Whitney U test: %w", ErrNoSamples)
	}
	type obs struct {
		v   float64
		inX bool
	}
	all := make([]obs, 0, n+m)
	for _, v := range x {
		all = append(all, obs{float64(v), true})
	}
	for _, v := range y {
		all = append(all, obs{float64(v), false})
	}
	for _, o := range all {
		if math.IsNaN(o.v) {
			return MWUResult{}, fmt.Errorf("failed to run the Mann–Whitney U test: %w", ErrNaN)
		}
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	// Midranks: a group of t tied values at ranks i+1..i+t each gets their mean.
	var rankSumX, tieTerm float64
	ties := false
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		t := float64(j - i)
		if t > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		mid := float64(i+1+j) / 2
		for k := i; k < j; k++ {
			if all[k].inX {
				rankSumX += mid
			}
		}
		i = j
	}
	fn, fm, N := float64(n), float64(m), float64(n+m)
	res := MWUResult{U: rankSumX - fn*(fn+1)/2}

	mu := fn * fm / 2
	variance := fn * fm / 12 * ((N + 1) - tieTerm/(N*(N-1)))
	if variance <= 0 {
		res.Z, res.P = 0, 1
		return res, nil
	}
	sigma := math.Sqrt(variance)
	if alt == Greater {
		res.Z = (res.U - mu - 0.5) / sigma
		res.P = 0.5 * math.Erfc(res.Z/math.Sqrt2)
	} else {
		res.Z = (res.U - mu + 0.5) / sigma
		res.P = 0.5 * math.Erfc(-res.Z/math.Sqrt2)
	}
	if !ties && n <= maxExact && m <= maxExact {
		res.P, res.Exact = exactP(n, m, int(math.Round(res.U)), alt), true
	}
	res.P = min(max(res.P, 0), 1)
	return res, nil
}

// exactP is P(U ≥ u) (Greater) or P(U ≤ u) (Less) under the null
// hypothesis, from the number of orderings of n x's and m y's giving each U.
func exactP(n, m, u int, alt Alternative) float64 {
	counts := uCounts(n, m)
	var hit, total float64
	for k, c := range counts {
		total += c
		if (alt == Greater && k >= u) || (alt == Less && k <= u) {
			hit += c
		}
	}
	return hit / total
}

// uCounts returns, for k = 0..n·m, how many of the C(n+m, n) orderings of n
// x's and m y's have k pairs with x > y. With f(i, j) the counts for i x's
// and j y's: the largest value is an x (beating all j y's) or a y, so
// f(i, j)[k] = f(i-1, j)[k-j] + f(i, j-1)[k].
func uCounts(n, m int) []float64 {
	prev := make([][]float64, m+1) // prev[j] = f(i-1, j)
	for j := range prev {
		prev[j] = []float64{1} // f(0, j)
	}
	for i := 1; i <= n; i++ {
		cur := make([][]float64, m+1)
		cur[0] = []float64{1} // f(i, 0)
		for j := 1; j <= m; j++ {
			c := make([]float64, i*j+1)
			for k := range c {
				if k-j >= 0 && k-j < len(prev[j]) {
					c[k] += prev[j][k-j]
				}
				if k < len(cur[j-1]) {
					c[k] += cur[j-1][k]
				}
			}
			cur[j] = c
		}
		prev = cur
	}
	return prev[m]
}
