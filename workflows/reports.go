package workflows

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PRReport is the bot's record of its sticky comment on one pull request.
type PRReport struct {
	Owner     string
	Repo      string
	Number    int
	CommentID int64
	// Sections is the JSON the failure_analysis workflow renders the comment from.
	Sections string
}

// PRReport returns the record for a pull request, or a zero record when there is none.
func (s *Store) PRReport(ctx context.Context, owner, repo string, number int) (PRReport, error) {
	r := PRReport{Owner: owner, Repo: repo, Number: number, Sections: "{}"}
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT comment_id, sections FROM autonomous_pr_report
		WHERE owner = ? AND repo = ? AND number = ?`), owner, repo, number).Scan(&r.CommentID, &r.Sections)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("failed to read report of %s/%s#%d: %w", owner, repo, number, err)
	}
	return r, nil
}

// SavePRReport stores the record of a pull request's sticky comment.
func (s *Store) SavePRReport(ctx context.Context, r PRReport) error {
	_, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_pr_report (owner, repo, number, comment_id, sections, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner, repo, number) DO UPDATE SET comment_id = excluded.comment_id,
			sections = excluded.sections, updated_at = excluded.updated_at`),
		r.Owner, r.Repo, r.Number, r.CommentID, r.Sections, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("failed to save report of %s/%s#%d: %w", r.Owner, r.Repo, r.Number, err)
	}
	return nil
}

// ErrReportBusy is returned by LockPRReport when another worker kept the lease for too long.
var ErrReportBusy = errors.New("another execution is updating this pull request's report")

// ErrRunBusy is returned by LockRun when another worker kept the lease for too long.
var ErrRunBusy = errors.New("another execution is reporting this run")

// LockPRReport takes a short lease on a pull request's report, so that two executions (two
// workflows failing at once on one pull request, on one replica or two) neither both create a
// sticky comment nor overwrite each other's sections. It waits up to wait for the lease; the
// lease expires by itself after ttl, so a crashed holder blocks nobody for long. The returned
// release gives it back.
func (s *Store) LockPRReport(ctx context.Context, owner, repo string, number int, ttl, wait time.Duration) (release func(), err error) {
	if _, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_pr_report (owner, repo, number, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (owner, repo, number) DO NOTHING`), owner, repo, number, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("failed to create report of %s/%s#%d: %w", owner, repo, number, err)
	}
	return s.lease(ctx, lease{table: "autonomous_pr_report", where: "owner = ? AND repo = ? AND number = ?",
		args: []any{owner, repo, number}, name: fmt.Sprintf("report of %s/%s#%d", owner, repo, number), busy: ErrReportBusy}, ttl, wait)
}

// LockRun takes a short lease on one run (a workflow run id, or a negated check run id), so
// that the executions analyzing it (two attempts, a webhook and a command, on one replica or
// several) report it one after the other: one check run per run, the newest attempt last. It
// waits and expires as LockPRReport does.
func (s *Store) LockRun(ctx context.Context, owner, repo string, runID int64, ttl, wait time.Duration) (release func(), err error) {
	if _, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_run_lease (owner, repo, run_id)
		VALUES (?, ?, ?) ON CONFLICT (owner, repo, run_id) DO NOTHING`), owner, repo, runID); err != nil {
		return nil, fmt.Errorf("failed to create lease of run %d: %w", runID, err)
	}
	return s.lease(ctx, lease{table: "autonomous_run_lease", where: "owner = ? AND repo = ? AND run_id = ?",
		args: []any{owner, repo, runID}, name: fmt.Sprintf("run %d of %s/%s", runID, owner, repo), busy: ErrRunBusy}, ttl, wait)
}

// BusyError is returned by the Lock methods when the lease stayed taken while they waited. It
// wraps ErrReportBusy or ErrRunBusy; Wait is when to try again (a job snoozes: the holder may
// have died with the lease, which then expires by itself).
type BusyError struct {
	Name string
	Wait time.Duration
	Err  error
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s: %v; trying again in %s", e.Name, e.Err, e.Wait.Round(time.Millisecond))
}

// Unwrap returns ErrReportBusy or ErrRunBusy.
func (e *BusyError) Unwrap() error { return e.Err }

// maxBusyWait bounds BusyError.Wait: a holder that finishes early is not waited for long.
const maxBusyWait = 5 * time.Second

// busy returns the BusyError of a taken lease, with the time until it expires (at most
// maxBusyWait, at least 100 ms).
func (s *Store) busy(ctx context.Context, l lease) error {
	var until int64
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT lease_until_ms FROM `+l.table+` WHERE `+l.where), l.args...).Scan(&until)
	wait := maxBusyWait
	if err == nil {
		wait = min(max(time.Until(time.UnixMilli(until)), 100*time.Millisecond), maxBusyWait)
	}
	return &BusyError{Name: l.name, Wait: wait, Err: l.busy}
}

// lease names a row with a lease_until_ms column.
type lease struct {
	table, where string
	args         []any
	name         string
	busy         error
}

// lease takes the row's lease: an UPDATE that only succeeds while the lease is free or expired,
// which both SQLite and Postgres (under READ COMMITTED, with several replicas) make atomic.
func (s *Store) lease(ctx context.Context, l lease, ttl, wait time.Duration) (func(), error) {
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < 2*wait {
		deadline = time.Now().Add(time.Until(d) / 2) // leave the caller time to answer: busy
	}
	for {
		now := time.Now()
		until := now.Add(ttl).UnixMilli()
		res, err := s.DB.ExecContext(ctx, s.Rebind(`UPDATE `+l.table+` SET lease_until_ms = ? WHERE `+l.where+` AND lease_until_ms < ?`),
			append(append([]any{until}, l.args...), now.UnixMilli())...)
		if err != nil {
			return nil, fmt.Errorf("failed to lease %s: %w", l.name, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_, _ = s.DB.ExecContext(ctx, s.Rebind(`UPDATE `+l.table+` SET lease_until_ms = 0 WHERE `+l.where+` AND lease_until_ms = ?`),
					append(append([]any{}, l.args...), until)...)
			}, nil
		}
		if now.After(deadline) {
			return nil, s.busy(ctx, l)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("failed to lease %s: %w", l.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

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
