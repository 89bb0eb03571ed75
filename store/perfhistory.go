package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The autonomous_perf_run table: performance monitoring's history of workflow run timings, one
// row per run attempt, bounded per repository (PERFORMANCE_HISTORY_SIZE).

// PerfRun is the timing of one workflow run attempt and of its jobs.
type PerfRun struct {
	Owner      string
	Repo       string
	RunID      int64
	Attempt    int
	WorkflowID int64
	Workflow   string
	Branch     string
	HeadSHA    string
	Event      string
	Conclusion string
	StartedAt  time.Time
	// Queue is how long the run waited for its first runner; Duration is the rest, until it
	// completed.
	Queue    time.Duration
	Duration time.Duration
	Jobs     []PerfJob
	HTMLURL  string
}

// PerfJob is the timing of one job of a run attempt.
type PerfJob struct {
	ID         int64         `json:"id"`
	Name       string        `json:"name"`
	Conclusion string        `json:"conclusion"`
	Queue      time.Duration `json:"queue"`
	Duration   time.Duration `json:"duration"`
	Steps      []PerfStep    `json:"steps,omitempty"`
}

// PerfStep is the timing of one step of a job.
type PerfStep struct {
	Name       string        `json:"name"`
	Conclusion string        `json:"conclusion"`
	Duration   time.Duration `json:"duration"`
}

// SavePerfRuns records (or replaces) run timings, then keeps only the keep most recent runs of
// each repository it touched (keep <= 0 keeps all).
func (s *Store) SavePerfRuns(ctx context.Context, runs []PerfRun, keep int) error {
	touched := map[[2]string]bool{}
	now := time.Now().UnixMilli()
	for _, r := range runs {
		jobs, err := json.Marshal(r.Jobs)
		if err != nil {
			return fmt.Errorf("failed to encode jobs of run %d: %w", r.RunID, err)
		}
		_, err = s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_perf_run
			(owner, repo, run_id, attempt, workflow_id, workflow, branch, head_sha, event, conclusion,
			 started_unix_ms, queue_ms, duration_ms, jobs, html_url, recorded_unix_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (owner, repo, run_id, attempt) DO UPDATE SET workflow_id = excluded.workflow_id,
				workflow = excluded.workflow, branch = excluded.branch, head_sha = excluded.head_sha,
				event = excluded.event, conclusion = excluded.conclusion, started_unix_ms = excluded.started_unix_ms,
				queue_ms = excluded.queue_ms, duration_ms = excluded.duration_ms, jobs = excluded.jobs,
				html_url = excluded.html_url, recorded_unix_ms = excluded.recorded_unix_ms`),
			r.Owner, r.Repo, r.RunID, r.Attempt, r.WorkflowID, r.Workflow, r.Branch, r.HeadSHA, r.Event, r.Conclusion,
			r.StartedAt.UnixMilli(), r.Queue.Milliseconds(), r.Duration.Milliseconds(), string(jobs), r.HTMLURL, now)
		if err != nil {
			return fmt.Errorf("failed to save timings of run %d attempt %d: %w", r.RunID, r.Attempt, err)
		}
		touched[[2]string{r.Owner, r.Repo}] = true
	}
	if keep <= 0 {
		return nil
	}
	for k := range touched {
		if err := s.trimPerfRuns(ctx, k[0], k[1], keep); err != nil {
			return err
		}
	}
	return nil
}

// trimPerfRuns deletes a repository's runs beyond the keep most recent (by start, then id).
func (s *Store) trimPerfRuns(ctx context.Context, owner, repo string, keep int) error {
	var started, runID int64
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT started_unix_ms, run_id FROM autonomous_perf_run
		WHERE owner = ? AND repo = ? ORDER BY started_unix_ms DESC, run_id DESC LIMIT 1 OFFSET ?`), owner, repo, keep-1).Scan(&started, &runID)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil // fewer than keep
		}
		return fmt.Errorf("failed to bound the performance history of %s/%s: %w", owner, repo, err)
	}
	_, err = s.DB.ExecContext(ctx, s.Rebind(`DELETE FROM autonomous_perf_run WHERE owner = ? AND repo = ?
		AND (started_unix_ms < ? OR (started_unix_ms = ? AND run_id < ?))`), owner, repo, started, started, runID)
	if err != nil {
		return fmt.Errorf("failed to bound the performance history of %s/%s: %w", owner, repo, err)
	}
	return nil
}

// PerfRunsByID returns the recorded timings of the given runs of a repository (every recorded
// attempt), keyed by run id and attempt.
func (s *Store) PerfRunsByID(ctx context.Context, owner, repo string, runIDs []int64) (map[[2]int64]PerfRun, error) {
	out := map[[2]int64]PerfRun{}
	const chunk = 200
	for len(runIDs) > 0 {
		n := min(len(runIDs), chunk)
		part := runIDs[:n]
		runIDs = runIDs[n:]
		args := []any{owner, repo}
		for _, id := range part {
			args = append(args, id)
		}
		runs, err := s.queryPerfRuns(ctx, `WHERE owner = ? AND repo = ? AND run_id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			out[[2]int64{r.RunID, int64(r.Attempt)}] = r
		}
	}
	return out, nil
}

// PerfRunCount returns how many runs of a repository the history holds.
func (s *Store) PerfRunCount(ctx context.Context, owner, repo string) (int, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT COUNT(*) FROM autonomous_perf_run WHERE owner = ? AND repo = ?`), owner, repo).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("failed to count the performance history of %s/%s: %w", owner, repo, err)
	}
	return n, nil
}

func (s *Store) queryPerfRuns(ctx context.Context, where string, args ...any) ([]PerfRun, error) {
	rows, err := s.DB.QueryContext(ctx, s.Rebind(`SELECT owner, repo, run_id, attempt, workflow_id, workflow, branch,
		head_sha, event, conclusion, started_unix_ms, queue_ms, duration_ms, jobs, html_url FROM autonomous_perf_run `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("failed to read the performance history: %w", err)
	}
	defer rows.Close()
	var out []PerfRun
	for rows.Next() {
		var r PerfRun
		var started, queue, duration int64
		var jobs string
		if err := rows.Scan(&r.Owner, &r.Repo, &r.RunID, &r.Attempt, &r.WorkflowID, &r.Workflow, &r.Branch, &r.HeadSHA,
			&r.Event, &r.Conclusion, &started, &queue, &duration, &jobs, &r.HTMLURL); err != nil {
			return nil, fmt.Errorf("failed to read the performance history: %w", err)
		}
		r.StartedAt = time.UnixMilli(started).UTC()
		r.Queue, r.Duration = time.Duration(queue)*time.Millisecond, time.Duration(duration)*time.Millisecond
		if err := json.Unmarshal([]byte(jobs), &r.Jobs); err != nil {
			return nil, fmt.Errorf("failed to decode jobs of run %d: %w", r.RunID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read the performance history: %w", err)
	}
	return out, nil
}
