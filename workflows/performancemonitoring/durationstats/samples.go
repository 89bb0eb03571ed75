package durationstats

import (
	"strings"
	"time"
)

// MinQueueDominating is the shortest queue time that can make a sample
// unfair: a few seconds of queue on a short job is normal.
const MinQueueDominating = time.Minute

// Sample is one run's (or job's) timing as GitHub reports it.
type Sample struct {
	// Duration is the running time: run_started_at (or a job's started_at)
	// to the end, queue excluded.
	Duration time.Duration
	// Queue is the time spent waiting for a runner before starting.
	Queue time.Duration
	// Attempt is run_attempt (1 for the first attempt; 0 is taken as 1).
	Attempt int
	// Conclusion is the run's or job's conclusion (success, failure, …).
	Conclusion string
}

// Dropped counts the samples [Fair] dropped, by rule.
type Dropped struct {
	Rerun      int `json:"rerun"`
	Cancelled  int `json:"cancelled"`
	Queued     int `json:"queued"`
	Unfinished int `json:"unfinished"`
	Invalid    int `json:"invalid"`
}

// Total is the number of samples dropped.
func (d Dropped) Total() int { return d.Rerun + d.Cancelled + d.Queued + d.Unfinished + d.Invalid }

// Fair keeps the durations that compare fairly and counts the others. The
// rules, in order:
//
//   - invalid: a duration or queue time that is not positive (resp. negative);
//   - rerun: Attempt > 1, a re-run (a re-run of failed jobs times only those
//     jobs, and a re-run after a flake is not a normal run);
//   - cancelled: conclusion cancelled, skipped or stale (the run stopped
//     early or did nothing);
//   - unfinished: no conclusion yet, or action_required / startup_failure
//     (it never ran);
//   - queued: the queue time dominates — at least MinQueueDominating and
//     longer than the running time — so runner shortage, not the change,
//     shaped the run.
//
// Conclusions are compared ignoring case; success, failure, timed_out and
// neutral are kept.
func Fair(samples []Sample) ([]time.Duration, Dropped) {
	var d Dropped
	kept := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		switch c := strings.ToLower(strings.TrimSpace(s.Conclusion)); {
		case s.Duration <= 0 || s.Queue < 0:
			d.Invalid++
		case s.Attempt > 1:
			d.Rerun++
		case c == "cancelled" || c == "canceled" || c == "skipped" || c == "stale":
			d.Cancelled++
		case c == "" || c == "action_required" || c == "startup_failure":
			d.Unfinished++
		case s.Queue >= MinQueueDominating && s.Queue > s.Duration:
			d.Queued++
		default:
			kept = append(kept, s.Duration)
		}
	}
	return kept, d
}
