// Package durationstats holds the pure statistics performance monitoring
// uses to judge CI durations without crying wolf: percentiles, the median
// absolute deviation, a one-sided Mann–Whitney U test, the rules that drop
// samples which would not compare fairly, and [Verdict], which weighs a pull
// request's durations against the baseline branch's.
//
// A slowdown is a regression only when it is larger than a threshold, lies
// outside the baseline's own spread, and the baseline has enough samples;
// improvements are judged the same way, mirrored. Nothing here does I/O.
package durationstats
