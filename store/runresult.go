package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The autonomous_run_result table: one row per analyzed run attempt.

// RunResult is the outcome of one analyzed run attempt.
type RunResult struct {
	Owner          string
	Repo           string
	RunID          int64
	Attempt        int
	HeadSHA        string
	Workflow       string
	Conclusion     string
	Fingerprints   []string
	HTMLURL        string
	CheckRunID     int64
	RerunRequested bool
}

// SaveRunResult records (or replaces) the outcome of a run attempt. What an execution did on
// GitHub is never forgotten by a concurrent one that read the record before: a requested re-run
// stays requested, and a known check run stays known unless another replaces it.
func (s *Store) SaveRunResult(ctx context.Context, r RunResult) error {
	_, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_run_result
		(owner, repo, run_id, attempt, head_sha, workflow, conclusion, fingerprints, html_url, check_run_id, rerun_requested, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner, repo, run_id, attempt) DO UPDATE SET head_sha = excluded.head_sha,
			workflow = excluded.workflow, conclusion = excluded.conclusion, fingerprints = excluded.fingerprints,
			html_url = excluded.html_url,
			check_run_id = CASE WHEN excluded.check_run_id = 0 THEN autonomous_run_result.check_run_id ELSE excluded.check_run_id END,
			rerun_requested = (autonomous_run_result.rerun_requested OR excluded.rerun_requested), updated_at = excluded.updated_at`),
		r.Owner, r.Repo, r.RunID, r.Attempt, r.HeadSHA, r.Workflow, r.Conclusion,
		strings.Join(r.Fingerprints, ","), r.HTMLURL, r.CheckRunID, r.RerunRequested, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("failed to save result of run %d attempt %d: %w", r.RunID, r.Attempt, err)
	}
	return nil
}

// RunResults returns the recorded attempts of a run, oldest first.
func (s *Store) RunResults(ctx context.Context, owner, repo string, runID int64) ([]RunResult, error) {
	return s.queryRunResults(ctx, `WHERE owner = ? AND repo = ? AND run_id = ? ORDER BY attempt`, owner, repo, runID)
}

// RunResultsForCommit returns the recorded attempts of every run on a commit, oldest first.
func (s *Store) RunResultsForCommit(ctx context.Context, owner, repo, headSHA string) ([]RunResult, error) {
	return s.queryRunResults(ctx, `WHERE owner = ? AND repo = ? AND head_sha = ? ORDER BY run_id, attempt`, owner, repo, headSHA)
}

func (s *Store) queryRunResults(ctx context.Context, where string, args ...any) ([]RunResult, error) {
	rows, err := s.DB.QueryContext(ctx, s.Rebind(`SELECT owner, repo, run_id, attempt, head_sha, workflow,
		conclusion, fingerprints, html_url, check_run_id, rerun_requested FROM autonomous_run_result `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("failed to read run results: %w", err)
	}
	defer rows.Close()
	var out []RunResult
	for rows.Next() {
		var r RunResult
		var fps string
		if err := rows.Scan(&r.Owner, &r.Repo, &r.RunID, &r.Attempt, &r.HeadSHA, &r.Workflow, &r.Conclusion,
			&fps, &r.HTMLURL, &r.CheckRunID, &r.RerunRequested); err != nil {
			return nil, fmt.Errorf("failed to read run result: %w", err)
		}
		if fps != "" {
			r.Fingerprints = strings.Split(fps, ",")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read run results: %w", err)
	}
	return out, nil
}
