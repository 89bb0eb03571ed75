// Package budget bounds how often the bot acts: per pull request and per repository in a sliding
// window (an hour by default), and per repository per day, for named kinds of action (today the
// acting slash commands; the re-runs, agent runs and update PRs of later workflows declare their
// own Kind). A use is counted once by its key, however often a retried job reserves it, and the
// counts hold across processes and replicas (a transaction per reservation; on Postgres an
// advisory lock per kind and repository, as READ COMMITTED alone would let two reservations
// both pass).
package budget

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/contexten/autonomous/store"
)

// Kind names what a budget counts; it never changes once released (rows carry it).
type Kind string

// Commands counts the acting slash commands (/ci retry, /ci analyze, …).
const Commands Kind = "commands"

// Limits are one kind's budgets; zero means no limit.
type Limits struct {
	// PerPR and PerRepo bound the uses in any Window (an hour when zero).
	PerPR, PerRepo int
	Window         time.Duration
	// PerRepoPerDay bounds the repository's uses in any 24 hours.
	PerRepoPerDay int
}

// Use is one counted action: Key identifies it (a retried job reserves the same key again), and
// RepoID and Number (the pull request, or zero) say where it acts.
type Use struct {
	Kind   Kind
	Key    string
	RepoID int64
	Number int
}

// Ledger keeps the uses in the autonomous_budget_use table (store's migrations).
type Ledger struct {
	DB      *sql.DB
	Dialect store.Dialect
}

// retention is how long uses are kept: longer than any window.
const retention = 48 * time.Hour

// advisoryClass is the first key of the Postgres advisory lock guarding the budgets ("cmds",
// the class the command ledger has always used).
const advisoryClass int32 = 0x636d6473

// lockKey folds a kind and a repository id into the second, 32-bit key of the advisory lock; a
// collision only serialises two repositories. Commands keep the key they have always had.
func lockKey(kind Kind, repoID int64) int32 {
	k := uint32(repoID) ^ uint32(uint64(repoID)>>32)
	if kind != Commands {
		for _, c := range []byte(kind) {
			k = k*31 + uint32(c)
		}
	}
	return int32(k)
}

// Reserve counts u against the limits at now. A use reserved before is allowed without counting
// again. When a budget is spent it returns false and the time it frees up again.
func (l Ledger) Reserve(ctx context.Context, u Use, limits Limits, now time.Time) (bool, time.Time, error) {
	tx, err := l.DB.BeginTx(ctx, nil)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("failed to begin the budget transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if l.Dialect == store.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, advisoryClass, lockKey(u.Kind, u.RepoID)); err != nil {
			return false, time.Time{}, fmt.Errorf("failed to lock the %s budget: %w", u.Kind, err)
		}
	}
	var exists int
	if err := tx.QueryRowContext(ctx, l.Dialect.Rebind(`SELECT COUNT(*) FROM autonomous_budget_use WHERE kind = ? AND use_key = ?`),
		string(u.Kind), u.Key).Scan(&exists); err != nil {
		return false, time.Time{}, fmt.Errorf("failed to read the %s budget: %w", u.Kind, err)
	}
	if exists > 0 {
		return true, time.Time{}, nil
	}
	window := limits.Window
	if window <= 0 {
		window = time.Hour
	}
	scopes := []struct {
		limit  int
		window time.Duration
		where  string
		args   []any
	}{
		{limits.PerPR, window, `repo_id = ? AND pr_number = ?`, []any{u.RepoID, u.Number}},
		{limits.PerRepo, window, `repo_id = ?`, []any{u.RepoID}},
		{limits.PerRepoPerDay, 24 * time.Hour, `repo_id = ?`, []any{u.RepoID}},
	}
	var until time.Time
	for _, s := range scopes {
		if s.limit <= 0 {
			continue
		}
		t, err := l.freedAt(ctx, tx, u.Kind, s.limit, s.window, s.where, s.args, now)
		if err != nil {
			return false, time.Time{}, err
		}
		if t.After(until) {
			until = t
		}
	}
	if !until.IsZero() {
		return false, until, nil
	}
	if _, err := tx.ExecContext(ctx, l.Dialect.Rebind(`INSERT INTO autonomous_budget_use (kind, use_key, repo_id, pr_number, created_unix)
		VALUES (?, ?, ?, ?, ?)`), string(u.Kind), u.Key, u.RepoID, u.Number, now.Unix()); err != nil {
		return false, time.Time{}, fmt.Errorf("failed to record the %s use: %w", u.Kind, err)
	}
	if err := tx.Commit(); err != nil {
		return false, time.Time{}, fmt.Errorf("failed to commit the %s budget: %w", u.Kind, err)
	}
	return true, time.Time{}, nil
}

// freedAt returns when a spent budget of one scope frees up, or zero while it is not spent.
func (l Ledger) freedAt(ctx context.Context, tx *sql.Tx, kind Kind, limit int, window time.Duration, scope string, scopeArgs []any, now time.Time) (time.Time, error) {
	where := ` FROM autonomous_budget_use WHERE kind = ? AND ` + scope + ` AND created_unix > ?`
	args := append(append([]any{string(kind)}, scopeArgs...), now.Add(-window).Unix())
	var n int
	if err := tx.QueryRowContext(ctx, l.Dialect.Rebind(`SELECT COUNT(*)`+where), args...).Scan(&n); err != nil {
		return time.Time{}, fmt.Errorf("failed to count %s: %w", kind, err)
	}
	if n < limit {
		return time.Time{}, nil
	}
	// The budget frees up when n-limit+1 uses left the window: when the (n-limit+1)th oldest
	// does (more than limit are counted when the limit was lowered).
	var freed int64
	q := `SELECT created_unix` + where + ` ORDER BY created_unix LIMIT 1 OFFSET ?`
	if err := tx.QueryRowContext(ctx, l.Dialect.Rebind(q), append(args, n-limit)...).Scan(&freed); err != nil {
		return time.Time{}, fmt.Errorf("failed to count %s: %w", kind, err)
	}
	return time.Unix(freed, 0).UTC().Add(window), nil
}

// Release gives a reserved use back (it did not act after all) and drops the repository's uses
// of the kind past retention.
func (l Ledger) Release(ctx context.Context, u Use, now time.Time) error {
	if _, err := l.DB.ExecContext(ctx, l.Dialect.Rebind(`DELETE FROM autonomous_budget_use WHERE kind = ? AND use_key = ?`),
		string(u.Kind), u.Key); err != nil {
		return fmt.Errorf("failed to release the %s use: %w", u.Kind, err)
	}
	return l.Prune(ctx, u.Kind, u.RepoID, now)
}

// Prune drops the repository's uses of the kind past retention.
func (l Ledger) Prune(ctx context.Context, kind Kind, repoID int64, now time.Time) error {
	if _, err := l.DB.ExecContext(ctx, l.Dialect.Rebind(`DELETE FROM autonomous_budget_use WHERE kind = ? AND repo_id = ? AND created_unix < ?`),
		string(kind), repoID, now.Add(-retention).Unix()); err != nil {
		return fmt.Errorf("failed to prune the %s budget: %w", kind, err)
	}
	return nil
}
