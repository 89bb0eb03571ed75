package commands

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/store"
)

// schema is the slash-command ledger, in SQL both SQLite and Postgres accept. One row per command
// of a comment records its outcome (so a retried job never acts twice) and, for acting commands,
// counts against the hourly budgets.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS autonomous_command_run (
		comment_id BIGINT NOT NULL,
		line INTEGER NOT NULL,
		command TEXT NOT NULL,
		repo_id BIGINT NOT NULL,
		pr_number INTEGER NOT NULL,
		counted BOOLEAN NOT NULL DEFAULT FALSE,
		finished BOOLEAN NOT NULL DEFAULT FALSE,
		status TEXT NOT NULL DEFAULT '',
		result TEXT NOT NULL DEFAULT '',
		created_unix BIGINT NOT NULL,
		PRIMARY KEY (comment_id, line, command)
	)`,
	`CREATE INDEX IF NOT EXISTS autonomous_command_run_repo_idx ON autonomous_command_run (repo_id, created_unix)`,
}

// Migrate creates the slash-command ledger table. It is idempotent; call it after Store.Migrate.
func Migrate(ctx context.Context, db *sql.DB) error {
	for _, stmt := range schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("failed to migrate slash command tables: %w", err)
		}
	}
	return nil
}

// ledgerRetention is how long command rows are kept: longer than any job retry.
const ledgerRetention = 30 * 24 * time.Hour

// budgetWindow is the window of the hourly rate limits.
const budgetWindow = time.Hour

// advisoryClass is the first key of the Postgres advisory lock guarding the command budgets
// ("cmds").
const advisoryClass int32 = 0x636d6473

// repoLockKey folds a repository id into the second, 32-bit key of the advisory lock.
func repoLockKey(repoID int64) int32 { return int32(uint32(repoID) ^ uint32(uint64(repoID)>>32)) }

// ledger reads and writes autonomous_command_run.
type ledger struct {
	db      *sql.DB
	dialect store.Dialect
}

// entryKey identifies one command of one comment and where it acts.
type entryKey struct {
	CommentID int64
	Line      int
	Command   string
	RepoID    int64
	Number    int
}

// finished returns the recorded outcome of a command already run.
func (l ledger) finished(ctx context.Context, k entryKey) (outcome, bool, error) {
	var o outcome
	var status string
	err := l.db.QueryRowContext(ctx, l.bind(`SELECT status, result FROM autonomous_command_run
		WHERE comment_id = ? AND line = ? AND command = ? AND finished = ?`), k.CommentID, k.Line, k.Command, true).Scan(&status, &o.Text)
	if errors.Is(err, sql.ErrNoRows) {
		return outcome{}, false, nil
	}
	if err != nil {
		return outcome{}, false, fmt.Errorf("failed to read the command ledger: %w", err)
	}
	o.Status = outcomeStatus(status)
	return o, true, nil
}

// reserve counts an acting command against the budgets. A command reserved before (a retried
// job) is allowed without counting again. When a budget is spent it returns false and the time
// it frees up again. A limit of zero means no limit.
func (l ledger) reserve(ctx context.Context, k entryKey, limits config.CommandRateLimit, now time.Time) (bool, time.Time, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("failed to begin the budget transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if l.dialect == store.Postgres {
		// Under READ COMMITTED two comments reserving at once would both count the same rows
		// and both pass. A transaction-scoped advisory lock per repository serialises them (a
		// collision of the 32-bit key only serialises two repositories). SQLite has one writer.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, advisoryClass, repoLockKey(k.RepoID)); err != nil {
			return false, time.Time{}, fmt.Errorf("failed to lock the command budget: %w", err)
		}
	}
	var exists int
	err = tx.QueryRowContext(ctx, l.bind(`SELECT COUNT(*) FROM autonomous_command_run
		WHERE comment_id = ? AND line = ? AND command = ?`), k.CommentID, k.Line, k.Command).Scan(&exists)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("failed to read the command ledger: %w", err)
	}
	if exists > 0 {
		return true, time.Time{}, nil
	}
	since := now.Add(-budgetWindow).Unix()
	scopes := []struct {
		limit int
		where string
		args  []any
	}{
		{limits.PerPRPerHour, `repo_id = ? AND pr_number = ?`, []any{k.RepoID, k.Number}},
		{limits.PerRepoPerHour, `repo_id = ?`, []any{k.RepoID}},
	}
	var until time.Time
	for _, s := range scopes {
		if s.limit <= 0 {
			continue
		}
		var n int
		where := ` FROM autonomous_command_run WHERE ` + s.where + ` AND counted = ? AND created_unix > ?`
		args := append(s.args, true, since)
		if err := tx.QueryRowContext(ctx, l.bind(`SELECT COUNT(*)`+where), args...).Scan(&n); err != nil {
			return false, time.Time{}, fmt.Errorf("failed to count commands: %w", err)
		}
		if n < s.limit {
			continue
		}
		// The budget frees up when n-limit+1 commands left the window: when the (n-limit+1)th
		// oldest does (more than limit are counted when the limit was lowered).
		var freed int64
		q := `SELECT created_unix` + where + ` ORDER BY created_unix LIMIT 1 OFFSET ?`
		if err := tx.QueryRowContext(ctx, l.bind(q), append(args, n-s.limit)...).Scan(&freed); err != nil {
			return false, time.Time{}, fmt.Errorf("failed to count commands: %w", err)
		}
		if t := time.Unix(freed, 0).UTC().Add(budgetWindow); t.After(until) {
			until = t
		}
	}
	if !until.IsZero() {
		return false, until, nil
	}
	_, err = tx.ExecContext(ctx, l.bind(`INSERT INTO autonomous_command_run
		(comment_id, line, command, repo_id, pr_number, counted, finished, created_unix)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), k.CommentID, k.Line, k.Command, k.RepoID, k.Number, true, false, now.Unix())
	if err != nil {
		return false, time.Time{}, fmt.Errorf("failed to record the command: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, time.Time{}, fmt.Errorf("failed to commit the command budget: %w", err)
	}
	return true, time.Time{}, nil
}

// finish records a command's outcome so a retried job reports it without acting again, and
// drops the repository's rows past retention. A reserved command that did not act (an invalid
// argument, nothing to do) gives its budget back: only done and failed attempts keep counting.
func (l ledger) finish(ctx context.Context, k entryKey, o outcome, now time.Time) error {
	acted := o.Status == statusDone || o.Status == statusFailed
	_, err := l.db.ExecContext(ctx, l.bind(`INSERT INTO autonomous_command_run
		(comment_id, line, command, repo_id, pr_number, counted, finished, status, result, created_unix)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (comment_id, line, command) DO UPDATE SET finished = excluded.finished,
			status = excluded.status, result = excluded.result,
			counted = (autonomous_command_run.counted AND ?)`),
		k.CommentID, k.Line, k.Command, k.RepoID, k.Number, false, true, string(o.Status), o.Text, now.Unix(), acted)
	if err != nil {
		return fmt.Errorf("failed to record the command outcome: %w", err)
	}
	_, err = l.db.ExecContext(ctx, l.bind(`DELETE FROM autonomous_command_run WHERE repo_id = ? AND created_unix < ?`),
		k.RepoID, now.Add(-ledgerRetention).Unix())
	if err != nil {
		return fmt.Errorf("failed to prune the command ledger: %w", err)
	}
	return nil
}

// bind turns "?" placeholders into "$n" for Postgres.
func (l ledger) bind(query string) string { return l.dialect.Rebind(query) }
