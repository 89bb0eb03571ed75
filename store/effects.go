package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"
)

// Effect is one thing created on GitHub (a comment, a check run) that must exist at most once,
// whatever fails around its creation: a crash before its id was saved, a create whose answer
// timed out although GitHub made it, two executions creating it at once.
type Effect struct {
	// Key names the effect, the same for every execution that would create it.
	Key string
	// Find looks the effect up on GitHub (bypassing any cache) and returns its id, or zero.
	Find func(ctx context.Context) (int64, error)
	// FindFirst makes CreateOnce look before creating even when no earlier create is recorded.
	FindFirst bool
	// Create creates the effect and returns its id.
	Create func(ctx context.Context) (int64, error)
	// Settle is how long after a create was sent GitHub has surely finished it (made it or
	// not); default DefaultCreateSettle.
	Settle time.Duration
}

// DefaultCreateSettle is how long a create whose outcome is unknown may still land on GitHub.
// GitHub ends a request server-side after about 10 s, so a create sent 30 s ago has surely been
// made or dropped; the client gives up at the same 30 s. Three times GitHub's limit leaves room
// for a slow network while a job orphaned by a crash (rescued after 20 s) still finishes well
// within a minute of the restart.
const DefaultCreateSettle = 30 * time.Second

// maxSettleWait is the longest CreateOnce waits in place for an earlier create to settle.
const maxSettleWait = 5 * time.Second

// effectRetention is how long effects are remembered.
const effectRetention = 30 * 24 * time.Hour

// UnsettledError is returned by CreateOnce when an earlier create of the effect may still land:
// it is neither visible nor surely failed. Try again after Wait.
type UnsettledError struct {
	Key  string
	Wait time.Duration
}

func (e *UnsettledError) Error() string {
	return fmt.Sprintf("an earlier create of %s may still complete; looking again in %s", e.Key, e.Wait.Round(time.Millisecond))
}

// CreateOnce returns the effect's id, creating it only when no execution created it before. It
// remembers every create in the database before sending it, so that after an ambiguous failure
// (a timeout, a 5xx, a crash) the next attempt looks the effect up instead of creating it again,
// and waits while the earlier create may still land. created reports whether this call created
// the effect (with the caller's content); otherwise the caller updates the returned one.
func (s *Store) CreateOnce(ctx context.Context, e Effect) (id int64, created bool, err error) {
	settle := e.Settle
	if settle <= 0 {
		settle = DefaultCreateSettle
	}
	var startedMS, createdID int64
	err = s.DB.QueryRowContext(ctx, s.Rebind(`SELECT started_ms, created_id FROM autonomous_effect WHERE effect_key = ?`), e.Key).
		Scan(&startedMS, &createdID)
	recorded := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("failed to read effect %s: %w", e.Key, err)
	}
	if createdID != 0 {
		return createdID, false, nil
	}
	for looked := false; recorded || e.FindFirst && !looked; looked = true {
		found, err := e.Find(ctx)
		if err != nil {
			return 0, false, err
		}
		if found != 0 {
			return found, false, s.saveEffect(ctx, e.Key, found)
		}
		wait := time.Until(time.UnixMilli(startedMS).Add(settle))
		if !recorded || wait <= 0 || looked {
			break
		}
		if wait > maxSettleWait {
			return 0, false, &UnsettledError{Key: e.Key, Wait: wait}
		}
		// Nearly settled: wait here and look once more rather than retry the whole job.
		select {
		case <-ctx.Done():
			return 0, false, fmt.Errorf("failed to wait for effect %s: %w", e.Key, ctx.Err())
		case <-time.After(wait):
		}
	}
	now := time.Now().UnixMilli()
	var res sql.Result
	if recorded {
		res, err = s.DB.ExecContext(ctx, s.Rebind(`UPDATE autonomous_effect SET started_ms = ?
			WHERE effect_key = ? AND created_id = 0 AND started_ms = ?`), now, e.Key, startedMS)
	} else {
		res, err = s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_effect (effect_key, started_ms, created_id)
			VALUES (?, ?, 0) ON CONFLICT (effect_key) DO NOTHING`), e.Key, now)
	}
	if err != nil {
		return 0, false, fmt.Errorf("failed to record effect %s: %w", e.Key, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// Another execution is creating it right now.
		return 0, false, &UnsettledError{Key: e.Key, Wait: settle}
	}
	if !recorded {
		// Records outlive every retry by far; the reports keep the ids that matter for longer.
		_, _ = s.DB.ExecContext(ctx, s.Rebind(`DELETE FROM autonomous_effect WHERE started_ms < ?`),
			time.Now().Add(-effectRetention).UnixMilli())
	}
	id, err = e.Create(ctx)
	if err != nil {
		if refused(err) {
			// GitHub answered: nothing was created, and the next attempt need not wait.
			_, _ = s.DB.ExecContext(context.WithoutCancel(ctx), s.Rebind(`DELETE FROM autonomous_effect
				WHERE effect_key = ? AND created_id = 0 AND started_ms = ?`), e.Key, now)
		}
		return 0, false, err
	}
	// Should this save fail, the record still says a create was sent: the retry finds it.
	return id, true, s.saveEffect(ctx, e.Key, id)
}

func (s *Store) saveEffect(ctx context.Context, key string, id int64) error {
	_, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_effect (effect_key, started_ms, created_id)
		VALUES (?, ?, ?) ON CONFLICT (effect_key) DO UPDATE SET created_id = excluded.created_id`), key, time.Now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("failed to save effect %s: %w", key, err)
	}
	return nil
}

// ForgetEffect forgets that the effect was created as id, when GitHub says id is gone (someone
// deleted the comment): the next CreateOnce creates it anew.
func (s *Store) ForgetEffect(ctx context.Context, key string, id int64) error {
	if _, err := s.DB.ExecContext(ctx, s.Rebind(`DELETE FROM autonomous_effect WHERE effect_key = ? AND created_id = ?`), key, id); err != nil {
		return fmt.Errorf("failed to forget effect %s: %w", key, err)
	}
	return nil
}

// refused reports whether GitHub answered a request with a client error (4xx, rate limits
// included): the request had no effect. A timeout, a network error or a 5xx may have had one.
func refused(err error) bool {
	var rate *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &rate) || errors.As(err, &abuse) {
		return true
	}
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode >= 400 && resp.Response.StatusCode < 500
}
