package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The autonomous_ai_fix table: one row per failure handed to the AI fix agent, keyed by
// repository, pull request, head commit and failure fingerprint, so that a redelivery or a
// second `/ci fix` never starts a second agent run. Data is the workflow's own JSON.

// AIFix is one failure handed to the agent and what became of it.
type AIFix struct {
	Key    string
	Owner  string
	Repo   string
	Number int
	// State is the workflow's state name (queued, running, fix_pr, …).
	State string
	// FixBranch is the head branch of the agent's fix pull request, once known.
	FixBranch string
	// Attempts counts agent runs started for it: the first run and every resume.
	Attempts int
	Data     string
	Created  time.Time
	Updated  time.Time
}

// InsertAIFix records a new fix unless one with its key exists; created reports which.
func (s *Store) InsertAIFix(ctx context.Context, f AIFix) (created bool, err error) {
	now := time.Now().UnixMilli()
	res, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_ai_fix
		(fix_key, owner, repo, number, state, fix_branch, attempts, data, created_ms, updated_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fix_key) DO NOTHING`),
		f.Key, f.Owner, f.Repo, f.Number, f.State, f.FixBranch, f.Attempts, f.Data, now, now)
	if err != nil {
		return false, fmt.Errorf("failed to record AI fix %s: %w", f.Key, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UpdateAIFix writes a fix's state, branch, attempts and data when it is still in fromState
// with fromAttempts (compare and set); ok is false when another execution changed it first.
func (s *Store) UpdateAIFix(ctx context.Context, f AIFix, fromState string, fromAttempts int) (ok bool, err error) {
	res, err := s.DB.ExecContext(ctx, s.Rebind(`UPDATE autonomous_ai_fix SET state = ?, fix_branch = ?, attempts = ?,
		data = ?, updated_ms = ? WHERE fix_key = ? AND state = ? AND attempts = ?`),
		f.State, f.FixBranch, f.Attempts, f.Data, time.Now().UnixMilli(), f.Key, fromState, fromAttempts)
	if err != nil {
		return false, fmt.Errorf("failed to save AI fix %s: %w", f.Key, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

const aiFixColumns = `fix_key, owner, repo, number, state, fix_branch, attempts, data, created_ms, updated_ms`

func scanAIFix(row interface{ Scan(...any) error }) (AIFix, error) {
	var f AIFix
	var created, updated int64
	err := row.Scan(&f.Key, &f.Owner, &f.Repo, &f.Number, &f.State, &f.FixBranch, &f.Attempts, &f.Data, &created, &updated)
	f.Created, f.Updated = time.UnixMilli(created), time.UnixMilli(updated)
	return f, err
}

// AIFixByKey returns the fix with key, if any.
func (s *Store) AIFixByKey(ctx context.Context, key string) (AIFix, bool, error) {
	f, err := scanAIFix(s.DB.QueryRowContext(ctx, s.Rebind(`SELECT `+aiFixColumns+` FROM autonomous_ai_fix WHERE fix_key = ?`), key))
	if errors.Is(err, sql.ErrNoRows) {
		return AIFix{}, false, nil
	}
	if err != nil {
		return AIFix{}, false, fmt.Errorf("failed to read AI fix %s: %w", key, err)
	}
	return f, true, nil
}

// AIFixByBranch returns the newest fix whose fix pull request's head branch is branch.
func (s *Store) AIFixByBranch(ctx context.Context, owner, repo, branch string) (AIFix, bool, error) {
	if branch == "" {
		return AIFix{}, false, nil
	}
	f, err := scanAIFix(s.DB.QueryRowContext(ctx, s.Rebind(`SELECT `+aiFixColumns+` FROM autonomous_ai_fix
		WHERE owner = ? AND repo = ? AND fix_branch = ? ORDER BY created_ms DESC LIMIT 1`), owner, repo, branch))
	if errors.Is(err, sql.ErrNoRows) {
		return AIFix{}, false, nil
	}
	if err != nil {
		return AIFix{}, false, fmt.Errorf("failed to read the AI fix of branch %s: %w", branch, err)
	}
	return f, true, nil
}

// AIFixAttempts sums the agent runs started for pull request number (zero: default-branch
// failures) of a repository.
func (s *Store) AIFixAttempts(ctx context.Context, owner, repo string, number int) (int, error) {
	var n sql.NullInt64
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM autonomous_ai_fix WHERE owner = ? AND repo = ? AND number = ?`),
		owner, repo, number).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("failed to count AI fix attempts: %w", err)
	}
	return int(n.Int64), nil
}

// AIFixPausedUntil returns when the agent-wide pause of scope ends (zero: none recorded).
func (s *Store) AIFixPausedUntil(ctx context.Context, scope string) (time.Time, error) {
	var until int64
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT until_ms FROM autonomous_ai_fix_pause WHERE scope = ?`), scope).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("failed to read the AI fix pause: %w", err)
	}
	return time.UnixMilli(until), nil
}

// PauseAIFixes pauses agent runs of scope until until. notify reports whether no pause was in
// force at now: only the first caller of a pause tells people.
func (s *Store) PauseAIFixes(ctx context.Context, scope string, now, until time.Time) (notify bool, err error) {
	res, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_ai_fix_pause (scope, until_ms, notified_ms)
		VALUES (?, ?, ?) ON CONFLICT (scope) DO UPDATE SET until_ms = excluded.until_ms, notified_ms = excluded.notified_ms
		WHERE autonomous_ai_fix_pause.until_ms <= ?`), scope, until.UnixMilli(), now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("failed to pause AI fixes: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
