package workflows

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// KindStats describes one workflow kind's most recent finished executions (completed or
// discarded), newest first by finalization, as River's job table holds them.
type KindStats struct {
	Kind string `json:"kind"`
	// Finished is how many executions the figures describe (at most the history asked for).
	Finished  int `json:"finished"`
	Completed int `json:"completed"`
	Discarded int `json:"discarded"`
	// FailedAttempts counts attempts that ended in an error, retried or not.
	FailedAttempts int `json:"failed_attempts"`
	// SuccessRate is Completed / Finished, in [0,1].
	SuccessRate float64 `json:"success_rate"`
	// ErrorRatePercent is FailedAttempts / (Completed + FailedAttempts), in percent: every
	// attempt either completed its execution or failed.
	ErrorRatePercent float64 `json:"error_rate_percent"`
	// DurationP50MS and DurationP95MS are of the last attempt of each execution (milliseconds).
	DurationP50MS float64 `json:"duration_p50_ms"`
	DurationP95MS float64 `json:"duration_p95_ms"`
}

// maxHistory bounds KindStats' history per kind (River lists at most 10,000 jobs at once).
const maxHistory = 10000

// KindStats computes KindStats for each kind over its last history finished executions
// (PERFORMANCE_HISTORY_SIZE; clamped to [1, 10000]), sorted by kind. A kind without finished
// executions is reported with zero figures.
func (e *Engine) KindStats(ctx context.Context, kinds []string, history int) ([]KindStats, error) {
	history = max(1, min(history, maxHistory))
	sorted := append([]string(nil), kinds...)
	sort.Strings(sorted)
	out := make([]KindStats, 0, len(sorted))
	for _, kind := range sorted {
		res, err := e.client.JobList(ctx, river.NewJobListParams().Kinds(kind).
			States(rivertype.JobStateCompleted, rivertype.JobStateDiscarded).
			OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).First(history))
		if err != nil {
			return nil, fmt.Errorf("failed to list finished %s executions: %w", kind, err)
		}
		s := KindStats{Kind: kind, Finished: len(res.Jobs)}
		var durations []float64
		for _, row := range res.Jobs {
			if row.State == rivertype.JobStateCompleted {
				s.Completed++
			} else {
				s.Discarded++
			}
			s.FailedAttempts += len(row.Errors)
			if row.AttemptedAt != nil && row.FinalizedAt != nil {
				durations = append(durations, max(0, float64(row.FinalizedAt.Sub(*row.AttemptedAt).Microseconds())/1000))
			}
		}
		if s.Finished > 0 {
			s.SuccessRate = float64(s.Completed) / float64(s.Finished)
			s.ErrorRatePercent = 100 * float64(s.FailedAttempts) / float64(max(s.Completed+s.FailedAttempts, 1))
		}
		s.DurationP50MS = percentile(durations, 0.50)
		s.DurationP95MS = percentile(durations, 0.95)
		out = append(out, s)
	}
	return out, nil
}

// discardedPage is how many discarded jobs DiscardedSince reads at a time.
const discardedPage = 500

// DiscardedSince counts executions discarded (retries spent) at or after since, reading the
// newest first and stopping at the first older one; it counts at most 10,000.
func (e *Engine) DiscardedSince(ctx context.Context, since time.Time) (int, error) {
	return e.discardedSince(ctx, since, discardedPage)
}

func (e *Engine) discardedSince(ctx context.Context, since time.Time, page int) (int, error) {
	params := river.NewJobListParams().States(rivertype.JobStateDiscarded).
		OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).First(page)
	n := 0
	for n < maxHistory {
		res, err := e.client.JobList(ctx, params)
		if err != nil {
			return n, fmt.Errorf("failed to list discarded executions: %w", err)
		}
		for _, row := range res.Jobs {
			if row.FinalizedAt == nil || row.FinalizedAt.Before(since) {
				return n, nil
			}
			n++
		}
		if len(res.Jobs) < page || res.LastCursor == nil {
			return n, nil
		}
		params = params.After(res.LastCursor)
	}
	return n, nil
}
