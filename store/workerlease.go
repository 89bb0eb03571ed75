package store

import (
	"context"
	"fmt"
	"time"
)

// The autonomous_worker_lease table: one row per River client that works jobs, renewed every few
// seconds while the process lives, so the others can rescue its running jobs soon after it dies
// (workflows/lease.go). Times are Unix milliseconds on the database's clock, which every process
// shares, so clock skew between replicas does not matter.

// NowMillis is the SQL expression of the database's clock in Unix milliseconds.
func (d Dialect) NowMillis() string {
	if d == Postgres {
		return `CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)`
	}
	return `CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)`
}

// TakeWorkerLease writes clientID's lease, valid for ttl, and returns its start on the
// database's clock (a new incarnation of the client starts a new lease).
func (s *Store) TakeWorkerLease(ctx context.Context, clientID string, ttl time.Duration) (startedMs int64, err error) {
	now := s.Dialect.NowMillis()
	row := s.DB.QueryRowContext(ctx, s.Rebind(`INSERT INTO autonomous_worker_lease
		(client_id, started_at_ms, heartbeat_at_ms, expires_at_ms) VALUES (?, `+now+`, `+now+`, `+now+` + ?)
		ON CONFLICT (client_id) DO UPDATE SET started_at_ms = excluded.started_at_ms,
			heartbeat_at_ms = excluded.heartbeat_at_ms, expires_at_ms = excluded.expires_at_ms
		RETURNING started_at_ms`), clientID, ttl.Milliseconds())
	if err := row.Scan(&startedMs); err != nil {
		return 0, fmt.Errorf("failed to take the worker lease of %s: %w", clientID, err)
	}
	return startedMs, nil
}

// RenewWorkerLease extends clientID's lease by ttl; it recreates a lease that was deleted.
func (s *Store) RenewWorkerLease(ctx context.Context, clientID string, startedMs int64, ttl time.Duration) error {
	now := s.Dialect.NowMillis()
	_, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_worker_lease
		(client_id, started_at_ms, heartbeat_at_ms, expires_at_ms) VALUES (?, ?, `+now+`, `+now+` + ?)
		ON CONFLICT (client_id) DO UPDATE SET heartbeat_at_ms = excluded.heartbeat_at_ms,
			expires_at_ms = excluded.expires_at_ms`), clientID, startedMs, ttl.Milliseconds())
	if err != nil {
		return fmt.Errorf("failed to renew the worker lease: %w", err)
	}
	return nil
}

// ExpireWorkerLease expires clientID's lease at once.
func (s *Store) ExpireWorkerLease(ctx context.Context, clientID string) error {
	if _, err := s.DB.ExecContext(ctx, s.Rebind(`UPDATE autonomous_worker_lease
		SET expires_at_ms = `+s.Dialect.NowMillis()+` WHERE client_id = ?`), clientID); err != nil {
		return fmt.Errorf("failed to release the worker lease: %w", err)
	}
	return nil
}

// DeleteWorkerLeases deletes the leases expired for longer than age.
func (s *Store) DeleteWorkerLeases(ctx context.Context, age time.Duration) error {
	if _, err := s.DB.ExecContext(ctx, s.Rebind(`DELETE FROM autonomous_worker_lease
		WHERE expires_at_ms < `+s.Dialect.NowMillis()+` - ?`), age.Milliseconds()); err != nil {
		return fmt.Errorf("failed to delete old worker leases: %w", err)
	}
	return nil
}

// WorkerLeases reads every client's lease expiry and the database's clock.
func (s *Store) WorkerLeases(ctx context.Context) (expires map[string]int64, nowMs int64, err error) {
	if err := s.DB.QueryRowContext(ctx, `SELECT `+s.Dialect.NowMillis()).Scan(&nowMs); err != nil {
		return nil, 0, fmt.Errorf("failed to read the database clock: %w", err)
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT client_id, expires_at_ms FROM autonomous_worker_lease`)
	if err != nil {
		return nil, 0, fmt.Errorf("failed to read worker leases: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var until int64
		if err := rows.Scan(&id, &until); err != nil {
			return nil, 0, fmt.Errorf("failed to read worker leases: %w", err)
		}
		out[id] = until
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("failed to read worker leases: %w", err)
	}
	return out, nowMs, nil
}
