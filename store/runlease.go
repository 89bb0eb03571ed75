package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The autonomous_run_lease table: the per-run lease that serialises the executions reporting
// one run.

// ErrRunBusy is returned by LockRun when another worker kept the lease for too long.
var ErrRunBusy = errors.New("another execution is reporting this run")

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
