package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The states of a redelivery.
const (
	// RedeliverySending: the request was (or is being) sent and its outcome is not known yet.
	RedeliverySending = "sending"
	// RedeliverySent: GitHub accepted the redelivery, or the deliveries list shows one.
	RedeliverySent = "sent"
	// RedeliveryRejected: GitHub refused it for good (404, 422); it is not asked again.
	RedeliveryRejected = "rejected"
)

// redeliveryRetention is how long redeliveries are remembered: GitHub lists deliveries of the
// last three days, so a GUID older than a week is never seen again.
const redeliveryRetention = 7 * 24 * time.Hour

// Redelivery is one webhook delivery (by GUID) the bot asked GitHub to redeliver.
type Redelivery struct {
	GUID       string    `json:"guid"`
	DeliveryID int64     `json:"delivery_id"`
	Event      string    `json:"event"`
	Action     string    `json:"action,omitempty"`
	State      string    `json:"state"`
	StatusCode int       `json:"status_code,omitempty"`
	Message    string    `json:"message,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Redelivery returns the recorded redelivery of guid, or nil when there is none.
func (s *Store) Redelivery(ctx context.Context, guid string) (*Redelivery, error) {
	var r Redelivery
	var started, updated int64
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT guid, delivery_id, event, action, state, status_code, message,
		started_ms, updated_ms FROM autonomous_redelivery WHERE guid = ?`), guid).
		Scan(&r.GUID, &r.DeliveryID, &r.Event, &r.Action, &r.State, &r.StatusCode, &r.Message, &started, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read redelivery %s: %w", guid, err)
	}
	r.StartedAt, r.UpdatedAt = time.UnixMilli(started), time.UnixMilli(updated)
	return &r, nil
}

// ClaimRedelivery records that r is about to be sent, before it is sent. prev is what
// Redelivery returned (nil: nothing recorded); a "sending" row is taken over only while it is
// still the one prev read, so of two executions at most one sends. r.StartedAt is when (now
// when zero). It reports whether the caller may send.
func (s *Store) ClaimRedelivery(ctx context.Context, r Redelivery, prev *Redelivery) (bool, error) {
	now := time.Now().UnixMilli()
	if !r.StartedAt.IsZero() {
		now = r.StartedAt.UnixMilli()
	}
	var res sql.Result
	var err error
	if prev == nil {
		res, err = s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_redelivery
			(guid, delivery_id, event, action, state, status_code, message, started_ms, updated_ms)
			VALUES (?, ?, ?, ?, ?, 0, '', ?, ?) ON CONFLICT (guid) DO NOTHING`),
			r.GUID, r.DeliveryID, r.Event, r.Action, RedeliverySending, now, now)
	} else {
		res, err = s.DB.ExecContext(ctx, s.Rebind(`UPDATE autonomous_redelivery SET delivery_id = ?, started_ms = ?, updated_ms = ?
			WHERE guid = ? AND state = ? AND started_ms = ?`),
			r.DeliveryID, now, now, r.GUID, RedeliverySending, prev.StartedAt.UnixMilli())
	}
	if err != nil {
		return false, fmt.Errorf("failed to record redelivery %s: %w", r.GUID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("failed to record redelivery %s: %w", r.GUID, err)
	}
	if n == 1 && prev == nil {
		_, _ = s.DB.ExecContext(ctx, s.Rebind(`DELETE FROM autonomous_redelivery WHERE started_ms < ?`),
			time.Now().Add(-redeliveryRetention).UnixMilli())
	}
	return n == 1, nil
}

// FinishRedelivery records the outcome of a redelivery: RedeliverySent or RedeliveryRejected,
// with GitHub's status code and message.
func (s *Store) FinishRedelivery(ctx context.Context, guid, state string, statusCode int, message string) error {
	_, err := s.DB.ExecContext(ctx, s.Rebind(`UPDATE autonomous_redelivery SET state = ?, status_code = ?, message = ?, updated_ms = ?
		WHERE guid = ?`), state, statusCode, message, time.Now().UnixMilli(), guid)
	if err != nil {
		return fmt.Errorf("failed to record the outcome of redelivery %s: %w", guid, err)
	}
	return nil
}

// ReleaseRedelivery forgets a claim whose request GitHub refused without acting on it (401,
// 403, a rate limit): the next execution sends it without waiting.
func (s *Store) ReleaseRedelivery(ctx context.Context, guid string) error {
	_, err := s.DB.ExecContext(ctx, s.Rebind(`DELETE FROM autonomous_redelivery WHERE guid = ? AND state = ?`), guid, RedeliverySending)
	if err != nil {
		return fmt.Errorf("failed to release redelivery %s: %w", guid, err)
	}
	return nil
}

// RedeliveryScanMark returns the delivery time up to which the deliveries list was last read
// completely (zero when never).
func (s *Store) RedeliveryScanMark(ctx context.Context) (time.Time, error) {
	var ms int64
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT until_ms FROM autonomous_redelivery_scan WHERE name = ?`), "app").Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("failed to read the redelivery scan mark: %w", err)
	}
	return time.UnixMilli(ms), nil
}

// SetRedeliveryScanMark records that every delivery up to until was handled; the mark never
// moves back.
func (s *Store) SetRedeliveryScanMark(ctx context.Context, until time.Time) error {
	_, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_redelivery_scan (name, until_ms) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET until_ms = excluded.until_ms WHERE autonomous_redelivery_scan.until_ms < excluded.until_ms`),
		"app", until.UnixMilli())
	if err != nil {
		return fmt.Errorf("failed to save the redelivery scan mark: %w", err)
	}
	return nil
}
