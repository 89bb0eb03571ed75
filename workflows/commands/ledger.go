package commands

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/contexten/autonomous/budget"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/store"
)

// ledgerRetention is how long command rows are kept: longer than any job retry.
const ledgerRetention = 30 * 24 * time.Hour

// ledger reads and writes autonomous_command_run (store's migrations): one row per command of a
// comment records its outcome, so a retried job never acts twice. Acting commands count against
// the budgets (budget.Commands).
type ledger struct {
	db      *sql.DB
	dialect store.Dialect
}

// budgets is the budget ledger over the same database.
func (l ledger) budgets() budget.Ledger { return budget.Ledger{DB: l.db, Dialect: l.dialect} }

// use is the command as a use of the commands budget.
func (k entryKey) use() budget.Use {
	return budget.Use{Kind: budget.Commands, Key: fmt.Sprintf("%d:%d:%s", k.CommentID, k.Line, k.Command), RepoID: k.RepoID, Number: k.Number}
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

// reserve counts an acting command against the hourly budgets. A command reserved before (a
// retried job) is allowed without counting again. When a budget is spent it returns false and
// the time it frees up again. A limit of zero means no limit.
func (l ledger) reserve(ctx context.Context, k entryKey, limits config.CommandRateLimit, now time.Time) (bool, time.Time, error) {
	return l.budgets().Reserve(ctx, k.use(), budget.Limits{PerPR: limits.PerPRPerHour, PerRepo: limits.PerRepoPerHour}, now)
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
		k.CommentID, k.Line, k.Command, k.RepoID, k.Number, acted, true, string(o.Status), o.Text, now.Unix(), acted)
	if err != nil {
		return fmt.Errorf("failed to record the command outcome: %w", err)
	}
	if !acted {
		if err := l.budgets().Release(ctx, k.use(), now); err != nil {
			return err
		}
	} else if err := l.budgets().Prune(ctx, budget.Commands, k.RepoID, now); err != nil {
		return err
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
