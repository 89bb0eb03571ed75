package durationstats

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func secs(vs ...float64) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v * float64(time.Second))
	}
	return out
}

func TestPercentileInterpolates(t *testing.T) {
	t.Parallel()
	// Reference values from NumPy's default (linear) percentile.
	xs := secs(4, 1, 10, 3, 2)
	require.Equal(t, 7600*time.Millisecond, Percentile(xs, 0.9))
	require.Equal(t, 3*time.Second, Percentile(xs, 0.5))
	require.Equal(t, 2*time.Second, Percentile(secs(5, 1, 3), 0.25))
	require.Equal(t, 1*time.Second, Percentile(xs, 0))
	require.Equal(t, 10*time.Second, Percentile(xs, 1))
	require.Equal(t, 1*time.Second, Percentile(xs, -3))
	require.Equal(t, 10*time.Second, Percentile(xs, 7))
	require.Equal(t, 1*time.Second, Percentile(xs, math.NaN()))
	require.Equal(t, secs(4, 1, 10, 3, 2), xs, "the input is not sorted in place")
	require.Zero(t, Percentile(nil, 0.5))
	require.Equal(t, 7*time.Second, Percentile(secs(7), 0.9))
	require.Equal(t, 2500*time.Millisecond, Median(secs(1, 2, 3, 4)))
}

func TestMAD(t *testing.T) {
	t.Parallel()
	// median 3; deviations 2,1,0,1,7 → median 1.
	require.Equal(t, time.Second, MAD(secs(1, 2, 3, 4, 10)))
	require.Zero(t, MAD(secs(5, 5, 5)))
	require.Zero(t, MAD(nil))
	// One wild outlier barely moves it.
	require.Equal(t, time.Second, MAD(secs(1, 2, 3, 4, 10000)))
}

func TestMannWhitneyTextbook(t *testing.T) {
	t.Parallel()
	// SciPy's documented example (Conover, Practical Nonparametric
	// Statistics): U = 17, exact two-sided p = 0.1111, one-sided 0.0556.
	males := []float64{19, 22, 16, 29, 24}
	females := []float64{20, 11, 17, 12}
	r, err := MannWhitneyU(males, females, Greater)
	require.NoError(t, err)
	require.True(t, r.Exact)
	require.InDelta(t, 17, r.U, 1e-12)
	require.InDelta(t, 5.0/90, r.P, 1e-12) // 0.05555…
	require.InDelta(t, 1.5922, r.Z, 1e-4)  // (17 − 10 − ½) / √(50/3)

	r, err = MannWhitneyU(males, females, Less)
	require.NoError(t, err)
	require.InDelta(t, 0.9682539682539684, r.P, 1e-12)

	// Larger samples without ties, still exact (values checked with SciPy 1.10).
	x := []float64{12.1, 14.3, 9.8, 15.2, 13.3, 11.9, 16.4, 14.8, 13.9, 12.7, 15.9, 14.1}
	y := []float64{10.2, 11.4, 9.1, 12.3, 10.8, 11.1, 9.9, 12.9, 10.5, 11.7}
	r, err = MannWhitneyU(x, y, Greater)
	require.NoError(t, err)
	require.True(t, r.Exact)
	require.InDelta(t, 106, r.U, 1e-12)
	require.InDelta(t, 0.0007593026168877563, r.P, 1e-12)
}

func TestMannWhitneyNormalApproximation(t *testing.T) {
	t.Parallel()
	// 25 values each: beyond the exact range. SciPy 1.10 asymptotic with
	// continuity correction: U = 472, p = 0.0010175789036391894.
	var x, y []float64
	for v := 1; v <= 25; v++ {
		x, y = append(x, float64(v)+7.5), append(y, float64(v))
	}
	r, err := MannWhitneyU(x, y, Greater)
	require.NoError(t, err)
	require.False(t, r.Exact)
	require.InDelta(t, 472, r.U, 1e-12)
	require.InDelta(t, 0.0010175789036391894, r.P, 1e-12)
}

func TestMannWhitneyTies(t *testing.T) {
	t.Parallel()
	// Ties force the normal approximation with tie correction. SciPy 1.10:
	// U = 8.5, less p = 0.03913121473857309, greater p = 0.9717782889227976.
	a := []float64{1, 2, 2, 3, 3, 3, 4}
	b := []float64{2, 3, 4, 4, 5, 5}
	r, err := MannWhitneyU(a, b, Less)
	require.NoError(t, err)
	require.False(t, r.Exact)
	require.InDelta(t, 8.5, r.U, 1e-12)
	require.InDelta(t, 0.03913121473857309, r.P, 1e-12)
	r, err = MannWhitneyU(a, b, Greater)
	require.NoError(t, err)
	require.InDelta(t, 0.9717782889227976, r.P, 1e-12)
}

func TestMannWhitneyAllEqual(t *testing.T) {
	t.Parallel()
	for _, alt := range []Alternative{Greater, Less} {
		r, err := MannWhitneyU(secs(3, 3, 3), secs(3, 3, 3, 3, 3), alt)
		require.NoError(t, err)
		require.InDelta(t, 7.5, r.U, 1e-12) // every pair a tie: n·m/2
		require.Zero(t, r.Z)
		require.Equal(t, 1.0, r.P)
	}
}

func TestMannWhitneyBadInput(t *testing.T) {
	t.Parallel()
	_, err := MannWhitneyU([]float64{}, []float64{1}, Greater)
	require.ErrorIs(t, err, ErrNoSamples)
	_, err = MannWhitneyU([]float64{1}, nil, Less)
	require.ErrorIs(t, err, ErrNoSamples)
	_, err = MannWhitneyU([]float64{1, math.NaN()}, []float64{1}, Less)
	require.ErrorIs(t, err, ErrNaN)
}

// bruteP enumerates every way to choose which n of the n+m ranks are x's.
func bruteP(n, m, u int, alt Alternative) float64 {
	var hit, total float64
	for mask := 0; mask < 1<<(n+m); mask++ {
		if popcount(mask) != n {
			continue
		}
		total++
		// U = pairs (x, y) with x ranked above y.
		k, ys := 0, 0
		for bit := 0; bit < n+m; bit++ {
			if mask&(1<<bit) != 0 {
				k += ys
			} else {
				ys++
			}
		}
		if (alt == Greater && k >= u) || (alt == Less && k <= u) {
			hit++
		}
	}
	return hit / total
}

func popcount(v int) int {
	c := 0
	for ; v != 0; v &= v - 1 {
		c++
	}
	return c
}

func TestExactDistributionMatchesEnumeration(t *testing.T) {
	t.Parallel()
	for _, nm := range [][2]int{{1, 1}, {1, 5}, {3, 4}, {5, 5}, {6, 7}, {8, 4}} {
		n, m := nm[0], nm[1]
		counts := uCounts(n, m)
		require.Len(t, counts, n*m+1)
		for u := 0; u <= n*m; u++ {
			for _, alt := range []Alternative{Greater, Less} {
				require.InDelta(t, bruteP(n, m, u, alt), exactP(n, m, u, alt), 1e-12, "n=%d m=%d u=%d", n, m, u)
			}
		}
	}
	// The largest exact case sums to C(40, 20).
	var total float64
	for _, c := range uCounts(20, 20) {
		total += c
	}
	require.Equal(t, 137846528820.0, total)
}

func TestMannWhitneyShuffleInvariant(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	x := []float64{5, 9, 2, 7, 7, 1}
	y := []float64{3, 8, 6, 4, 7}
	want, err := MannWhitneyU(x, y, Greater)
	require.NoError(t, err)
	for range 20 {
		rng.Shuffle(len(x), func(i, j int) { x[i], x[j] = x[j], x[i] })
		rng.Shuffle(len(y), func(i, j int) { y[i], y[j] = y[j], y[i] })
		got, err := MannWhitneyU(x, y, Greater)
		require.NoError(t, err)
		require.InDelta(t, want.P, got.P, 1e-12)
		require.InDelta(t, want.U, got.U, 1e-12)
	}
}

func BenchmarkMannWhitneyExact20(b *testing.B) {
	x, y := make([]float64, 20), make([]float64, 20)
	for i := range x {
		x[i], y[i] = float64(2*i), float64(2*i+1)
	}
	for b.Loop() {
		_, _ = MannWhitneyU(x, y, Greater)
	}
}
