package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The autonomous_pr_report table: one row per pull request the bot reports on (its sticky
// comment's id and sections) with the lease that serialises the executions writing it.

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
