package store

import (
	"context"
	"fmt"
	"time"
)

// The row lease shared by the autonomous_pr_report and autonomous_run_lease tables.

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
