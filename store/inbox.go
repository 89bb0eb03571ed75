package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Inbox is the table of acknowledged webhook work not yet moved into River
// (autonomous_inbox): one row per delivery with the jobs it asks for, written before the
// delivery is answered. For SQLite it lives in its own database file beside the main one, so that its
// write lock is its own and an insert never waits behind River's fetches and completions; for
// Postgres it is a table of the main database.
type Inbox struct {
	DB      *sql.DB
	Dialect Dialect
	// own is set when DB is the inbox's own file, closed by Close.
	own bool
}

// InboxRow is one acknowledged delivery and the jobs it asks for.
type InboxRow struct {
	ID         int64
	DeliveryID string
	// Jobs is a JSON array of the jobs (workflows.Inbox encodes and decodes it).
	Jobs []byte
	// AcceptedAt is when the delivery was stored.
	AcceptedAt time.Time
}

// inboxSQLite is the inbox file's schema. INTEGER PRIMARY KEY is the rowid: inserts append to
// the table's B-tree and the pump reads and deletes a prefix of it.
const inboxSQLite = `CREATE TABLE IF NOT EXISTS autonomous_inbox (
	id INTEGER PRIMARY KEY,
	delivery_id TEXT NOT NULL,
	jobs TEXT NOT NULL,
	accepted_at_ms BIGINT NOT NULL,
	error TEXT NOT NULL DEFAULT ''
)`

// inboxPostgres is the same table in Postgres (migration "autonomous_inbox").
const inboxPostgres = `CREATE TABLE IF NOT EXISTS autonomous_inbox (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delivery_id TEXT NOT NULL,
	jobs TEXT NOT NULL,
	accepted_at_ms BIGINT NOT NULL,
	error TEXT NOT NULL DEFAULT ''
)`

// migrateInbox creates the Postgres inbox table; a SQLite database keeps its inbox in its own
// file (OpenInbox).
func migrateInbox(ctx context.Context, s *Store) error {
	if s.Dialect != Postgres {
		return nil
	}
	_, err := s.DB.ExecContext(ctx, inboxPostgres)
	return err
}

// inboxFile is the SQLite inbox file of the database file main: "data/autonomous.db" keeps its
// inbox in "data/autonomous-inbox.db".
func inboxFile(main string) string {
	ext := filepath.Ext(main)
	return strings.TrimSuffix(main, ext) + "-inbox" + ext
}

// OpenInbox opens s's inbox: for SQLite its own file (inboxFile of s.File; in memory for an
// in-memory database), created on first use; for Postgres the migrated table of s.
func OpenInbox(ctx context.Context, s *Store) (*Inbox, error) {
	if s.Dialect == Postgres {
		return &Inbox{DB: s.DB, Dialect: Postgres}, nil
	}
	path := ":memory:"
	if s.File != "" {
		path = inboxFile(s.File)
	}
	own, err := openSQLite(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("failed to open the inbox: %w", err)
	}
	if _, err := own.DB.ExecContext(ctx, inboxSQLite); err != nil {
		_ = own.DB.Close()
		return nil, fmt.Errorf("failed to create the inbox table in %s: %w", path, err)
	}
	return &Inbox{DB: own.DB, Dialect: SQLite, own: true}, nil
}

// Close closes the inbox's own SQLite file; a Postgres inbox is closed with its Store.
func (ib *Inbox) Close() error {
	if !ib.own {
		return nil
	}
	return ib.DB.Close()
}

// inboxInsertRows bounds the rows of one INSERT statement (3 parameters each).
const inboxInsertRows = 256

// Insert stores rows atomically: up to inboxInsertRows (a group commit's most) as one
// multi-row INSERT on its own, which commits in the statement's round trip (no BEGIN and COMMIT
// round trips to Postgres), more in one transaction of one INSERT per inboxInsertRows rows.
func (ib *Inbox) Insert(ctx context.Context, rows []InboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	if len(rows) <= inboxInsertRows {
		return ib.insert(ctx, ib.DB, rows)
	}
	tx, err := ib.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("failed to begin the inbox insert: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for start := 0; start < len(rows); start += inboxInsertRows {
		if err := ib.insert(ctx, tx, rows[start:min(start+inboxInsertRows, len(rows))]); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("failed to commit the inbox insert: %w", err)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insert stores rows with one multi-row INSERT.
func (ib *Inbox) insert(ctx context.Context, db execer, rows []InboxRow) error {
	var q strings.Builder
	q.WriteString("INSERT INTO autonomous_inbox (delivery_id, jobs, accepted_at_ms) VALUES ")
	args := make([]any, 0, 3*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?, ?, ?)")
		args = append(args, r.DeliveryID, string(r.Jobs), r.AcceptedAt.UnixMilli())
	}
	if _, err := db.ExecContext(ctx, ib.Dialect.Rebind(q.String()), args...); err != nil {
		return fmt.Errorf("failed to insert into the inbox: %w", err)
	}
	return nil
}

// Kept is what Take's move could not move of a row: the jobs left (a JSON array, as
// InboxRow.Jobs) and why. The row is kept with them and its error, and never taken again.
type Kept struct {
	Jobs   []byte
	Reason string
}

// Take reads up to limit waiting rows in the order they were accepted and calls move with them.
// Of the rows move was given, those named in kept are kept (with only the jobs left and the
// reason) and never taken again; the others are deleted. When move returns an error nothing changes and the
// rows are taken again later. On Postgres the rows stay locked (FOR UPDATE SKIP LOCKED) until
// then, so replicas sharing the database take different rows; on SQLite one process owns the
// file and its caller serialises Take. A crash inside move leaves the rows to be taken again:
// move must be idempotent (River's unique jobs make it so). It returns how many rows move got.
func (ib *Inbox) Take(ctx context.Context, limit int, move func([]InboxRow) (kept map[int64]Kept, err error)) (int, error) {
	if ib.Dialect == Postgres {
		return ib.takePostgres(ctx, limit, move)
	}
	rows, err := ib.read(ctx, ib.DB, `SELECT id, delivery_id, jobs, accepted_at_ms FROM autonomous_inbox
		WHERE error = '' ORDER BY id LIMIT ?`, limit)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	failed, err := move(rows)
	if err != nil {
		return len(rows), err
	}
	tx, err := ib.DB.BeginTx(ctx, nil)
	if err != nil {
		return len(rows), fmt.Errorf("failed to begin the inbox delete: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := ib.settle(ctx, tx, rows, failed); err != nil {
		return len(rows), err
	}
	if err := tx.Commit(); err != nil {
		return len(rows), fmt.Errorf("failed to commit the inbox delete: %w", err)
	}
	return len(rows), nil
}

func (ib *Inbox) takePostgres(ctx context.Context, limit int, move func([]InboxRow) (map[int64]Kept, error)) (int, error) {
	tx, err := ib.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("failed to begin taking from the inbox: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := ib.read(ctx, tx, `SELECT id, delivery_id, jobs, accepted_at_ms FROM autonomous_inbox
		WHERE error = '' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	failed, err := move(rows)
	if err != nil {
		return len(rows), err
	}
	if err := ib.settle(ctx, tx, rows, failed); err != nil {
		return len(rows), err
	}
	if err := tx.Commit(); err != nil {
		return len(rows), fmt.Errorf("failed to commit taking from the inbox: %w", err)
	}
	return len(rows), nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (ib *Inbox) read(ctx context.Context, q queryer, query string, limit int) ([]InboxRow, error) {
	res, err := q.QueryContext(ctx, query, limit)
	if err != nil {
		return nil, fmt.Errorf("failed to read the inbox: %w", err)
	}
	defer res.Close()
	var rows []InboxRow
	for res.Next() {
		var r InboxRow
		var jobs string
		var at int64
		if err := res.Scan(&r.ID, &r.DeliveryID, &jobs, &at); err != nil {
			return nil, fmt.Errorf("failed to read an inbox row: %w", err)
		}
		r.Jobs, r.AcceptedAt = []byte(jobs), time.UnixMilli(at)
		rows = append(rows, r)
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("failed to read the inbox: %w", err)
	}
	return rows, nil
}

// settle keeps the rows in kept with what is left of them and deletes the others, in tx.
func (ib *Inbox) settle(ctx context.Context, tx *sql.Tx, rows []InboxRow, failed map[int64]Kept) error {
	for id, k := range failed {
		if k.Reason == "" {
			k.Reason = "failed"
		}
		if _, err := tx.ExecContext(ctx, ib.Dialect.Rebind(`UPDATE autonomous_inbox SET jobs = ?, error = ? WHERE id = ?`),
			string(k.Jobs), k.Reason, id); err != nil {
			return fmt.Errorf("failed to keep an inbox row: %w", err)
		}
	}
	if ib.Dialect == SQLite {
		// The rows are the file's oldest waiting ones and only this process writes the file:
		// every waiting row up to the last id read was read.
		if _, err := tx.ExecContext(ctx, `DELETE FROM autonomous_inbox WHERE id <= ? AND error = ''`, rows[len(rows)-1].ID); err != nil {
			return fmt.Errorf("failed to delete moved inbox rows: %w", err)
		}
		return nil
	}
	var q strings.Builder
	q.WriteString("DELETE FROM autonomous_inbox WHERE id IN (")
	args := make([]any, 0, len(rows))
	for _, r := range rows {
		if _, ok := failed[r.ID]; ok {
			continue
		}
		if len(args) > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('?')
		args = append(args, r.ID)
	}
	if len(args) == 0 {
		return nil
	}
	q.WriteByte(')')
	if _, err := tx.ExecContext(ctx, ib.Dialect.Rebind(q.String()), args...); err != nil {
		return fmt.Errorf("failed to delete moved inbox rows: %w", err)
	}
	return nil
}

// Counts returns how many deliveries wait to be moved and how many were kept with an error.
func (ib *Inbox) Counts(ctx context.Context) (waiting, failed int64, err error) {
	row := ib.DB.QueryRowContext(ctx, `SELECT coalesce(sum(CASE WHEN error = '' THEN 1 ELSE 0 END), 0),
		coalesce(sum(CASE WHEN error = '' THEN 0 ELSE 1 END), 0) FROM autonomous_inbox`)
	if err := row.Scan(&waiting, &failed); err != nil {
		return 0, 0, fmt.Errorf("failed to count the inbox: %w", err)
	}
	return waiting, failed, nil
}
