package durationstats

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th quantile (0 ≤ p ≤ 1) of xs by linear
// interpolation between closest ranks (Hyndman and Fan's type 7, the
// default of R, NumPy and spreadsheet PERCENTILE.INC): with the n values
// sorted as x[0..n-1] and h = (n-1)·p, it is x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1]-x[⌊h⌋]).
// p is clamped to [0, 1]; an empty xs gives 0. xs is not modified.
func Percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	return percentileSorted(sorted(xs), p)
}

func percentileSorted(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	if math.IsNaN(p) || p <= 0 {
		return s[0]
	}
	if p >= 1 {
		return s[len(s)-1]
	}
	h := float64(len(s)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	frac := h - float64(lo)
	return s[lo] + time.Duration(math.Round(frac*float64(s[lo+1]-s[lo])))
}

// Median is Percentile(xs, 0.5): the middle value, or the mean of the two
// middle values.
func Median(xs []time.Duration) time.Duration { return Percentile(xs, 0.5) }

// MAD is the median absolute deviation, median(|x - median(xs)|), unscaled
// (multiply by 1.4826 to estimate a normal standard deviation). It is a
// spread measure that a few outliers do not move. An empty xs gives 0.
func MAD(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	m := Median(xs)
	dev := make([]time.Duration, len(xs))
	for i, x := range xs {
		dev[i] = x - m
		if dev[i] < 0 {
			dev[i] = -dev[i]
		}
	}
	return Median(dev)
}

func sorted(xs []time.Duration) []time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}
