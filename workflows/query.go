package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Execution is one workflow execution as operators see it.
type Execution struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	State      string          `json:"state"`
	Repo       string          `json:"repo"`
	Attempt    int             `json:"attempt"`
	CreatedAt  time.Time       `json:"created_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	Output     json.RawMessage `json:"output"`
	Errors     []string        `json:"errors,omitempty"`
	Args       json.RawMessage `json:"args,omitempty"`
}

// Terminal reports whether the execution has finished (completed, cancelled or discarded).
func (x Execution) Terminal() bool {
	switch rivertype.JobState(x.State) {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return true
	}
	return false
}

// ErrNotFound is returned by Status for an unknown execution id.
var ErrNotFound = errors.New("execution not found")

// repoArgs is the part of every repository job's args that names the repository.
type repoArgs struct {
	Owner string `json:"owner"`
	Repo  string `json:"repo"`
}

func executionFromRow(row *rivertype.JobRow) Execution {
	x := Execution{
		ID: row.ID, Kind: row.Kind, State: string(row.State), Attempt: row.Attempt,
		CreatedAt: row.CreatedAt.UTC(), FinishedAt: row.FinalizedAt, Args: row.EncodedArgs,
		Output: json.RawMessage("null"),
	}
	var ra repoArgs
	if json.Unmarshal(row.EncodedArgs, &ra) == nil && ra.Owner != "" {
		x.Repo = ra.Owner + "/" + ra.Repo
	}
	if out := row.Output(); len(out) > 0 {
		x.Output = out
	}
	for _, e := range row.Errors {
		x.Errors = append(x.Errors, e.Error)
	}
	return x
}

// Status returns one execution.
func (e *Engine) Status(ctx context.Context, id int64) (Execution, error) {
	row, err := e.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Execution{}, fmt.Errorf("execution %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Execution{}, fmt.Errorf("failed to get execution %d: %w", id, err)
	}
	return executionFromRow(row), nil
}

// ListFilter selects executions for List; zero fields select everything.
type ListFilter struct {
	Kinds  []string
	States []string
	// Limit defaults to 20, at most 1000.
	Limit int
}

// List returns executions, newest first.
func (e *Engine) List(ctx context.Context, f ListFilter) ([]Execution, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	params := river.NewJobListParams().First(min(limit, 1000)).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(f.Kinds) > 0 {
		params = params.Kinds(f.Kinds...)
	}
	if len(f.States) > 0 {
		states := make([]rivertype.JobState, len(f.States))
		for i, s := range f.States {
			states[i] = rivertype.JobState(s)
		}
		params = params.States(states...)
	}
	res, err := e.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("failed to list executions: %w", err)
	}
	out := make([]Execution, 0, len(res.Jobs))
	for _, row := range res.Jobs {
		out = append(out, executionFromRow(row))
	}
	return out, nil
}

// Metrics summarizes executions.
type Metrics struct {
	// Counts maps kind → state → number of executions still in the database.
	Counts map[string]map[string]int `json:"counts"`
	Total  int                       `json:"total"`
	// SuccessRate and ErrorRate are over finished executions: completed vs. discarded, in [0,1];
	// an execution that needed retries counts towards ErrorRate through FailedAttempts.
	SuccessRate float64 `json:"success_rate"`
	ErrorRate   float64 `json:"error_rate"`
	// FailedAttempts counts attempts that ended in an error among the sampled finished jobs.
	FailedAttempts int `json:"failed_attempts"`
	// DurationP50 and DurationP95 are of the last finished attempts (milliseconds).
	DurationP50MS float64 `json:"duration_p50_ms"`
	DurationP95MS float64 `json:"duration_p95_ms"`
	// QueueDepth is executions available to run now; OldestAvailable is how long the oldest waited.
	QueueDepth         int     `json:"queue_depth"`
	OldestAvailableSec float64 `json:"oldest_available_seconds"`
}

// metricsSample is how many recent finished executions the rates and percentiles describe.
const metricsSample = 500

// Metrics computes counts by kind and state, success and error rates, and duration percentiles.
func (e *Engine) Metrics(ctx context.Context) (Metrics, error) {
	m := Metrics{Counts: map[string]map[string]int{}}
	rows, err := e.store.DB.QueryContext(ctx, `SELECT kind, state, count(*) FROM river_job GROUP BY kind, state`)
	if err != nil {
		return m, fmt.Errorf("failed to count executions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return m, fmt.Errorf("failed to count executions: %w", err)
		}
		if m.Counts[kind] == nil {
			m.Counts[kind] = map[string]int{}
		}
		m.Counts[kind][state] = n
		m.Total += n
		if state == string(rivertype.JobStateAvailable) {
			m.QueueDepth += n
		}
	}
	if err := rows.Err(); err != nil {
		return m, fmt.Errorf("failed to count executions: %w", err)
	}

	finished, err := e.client.JobList(ctx, river.NewJobListParams().
		States(rivertype.JobStateCompleted, rivertype.JobStateDiscarded).
		OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).First(metricsSample))
	if err != nil {
		return m, fmt.Errorf("failed to list finished executions: %w", err)
	}
	var durations []float64
	completed := 0
	for _, row := range finished.Jobs {
		if row.State == rivertype.JobStateCompleted {
			completed++
		}
		m.FailedAttempts += len(row.Errors)
		if row.AttemptedAt != nil && row.FinalizedAt != nil {
			durations = append(durations, float64(row.FinalizedAt.Sub(*row.AttemptedAt).Microseconds())/1000)
		}
	}
	if n := len(finished.Jobs); n > 0 {
		m.SuccessRate = float64(completed) / float64(n)
		attempts := completed + m.FailedAttempts
		m.ErrorRate = float64(m.FailedAttempts) / float64(max(attempts, 1))
	}
	m.DurationP50MS = percentile(durations, 0.50)
	m.DurationP95MS = percentile(durations, 0.95)

	oldest, err := e.client.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateAvailable).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(1))
	if err != nil {
		return m, fmt.Errorf("failed to find the oldest available execution: %w", err)
	}
	if len(oldest.Jobs) == 1 {
		// River's scheduler makes jobs available up to its interval ahead of scheduled_at, and
		// the writer's clock may run ahead of ours: a job scheduled in the future has not waited.
		m.OldestAvailableSec = max(0, time.Since(oldest.Jobs[0].ScheduledAt).Seconds())
	}
	return m, nil
}

// percentile returns the q-quantile of values (nearest rank), 0 for none.
func percentile(values []float64, q float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	idx := int(q*float64(len(sorted))+0.5) - 1
	idx = max(0, min(idx, len(sorted)-1))
	return sorted[idx]
}
