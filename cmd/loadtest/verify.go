package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/tidwall/gjson"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// maxMissingIDs bounds the missing run ids printed.
const maxMissingIDs = 10

// durability is what the database holds after the server stopped.
type durability struct {
	Acked, Stored, Missing, Unacknowledged, Duplicates int
	States                                             map[string]int
	// MissingIDs are the run ids of the first missing deliveries (at most maxMissingIDs).
	MissingIDs []int64
	// WorkerStart holds, for each acknowledged delivery whose job was worked once, the time from
	// sending the delivery to River's attempted_at (when a worker fetched the job); SQLite
	// records attempted_at to the millisecond.
	WorkerStart []time.Duration
	// AfterAnswer is, for the same jobs, the time from the delivery's answer to the worker
	// fetching its job: the wake-up alone, without the ingest latency.
	AfterAnswer []time.Duration
}

func (d durability) String() string {
	verdict := "OK: every acknowledged delivery is stored"
	if d.Missing > 0 || d.Duplicates > 0 {
		verdict = "FAILED"
	}
	var states []string
	for s, n := range d.States {
		states = append(states, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(states)
	missing := ""
	if len(d.MissingIDs) > 0 {
		missing = fmt.Sprintf("; missing run ids %v", d.MissingIDs)
	}
	return fmt.Sprintf("%s — acknowledged %d, stored %d, missing %d, duplicated %d, stored but not acknowledged %d (answer lost, e.g. in flight at the stop); jobs: %s%s",
		verdict, d.Acked, d.Stored, d.Missing, d.Duplicates, d.Unacknowledged, strings.Join(states, ", "), missing)
}

// openDatabase opens the server's database for reading: the SQLite file in query-only mode (its
// WAL is recovered on open when the server was killed), or Postgres at databaseURL.
func openDatabase(sqlitePath, databaseURL string) (*sql.DB, error) {
	if databaseURL != "" {
		db, err := sql.Open("pgx", databaseURL)
		if err != nil {
			return nil, fmt.Errorf("failed to open postgres: %w", err)
		}
		return db, nil
	}
	db, err := sql.Open("sqlite", "file:"+sqlitePath+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", sqlitePath, err)
	}
	return db, nil
}

// readInbox counts the failure_analysis jobs the server accepted and had not moved into River
// when it stopped (state "inbox"; a row per delivery holds its jobs), by run id into stored; a
// job also in River counts once. A database without the inbox table
// (a server from before it) holds none.
func readInbox(ctx context.Context, inbox *sql.DB, postgres bool, states map[string]int, stored map[int64]int) error {
	if inbox == nil {
		return nil
	}
	exists := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'autonomous_inbox'`
	if postgres {
		exists = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'autonomous_inbox'`
	}
	var n int
	if err := inbox.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return fmt.Errorf("failed to look for the inbox table: %w", err)
	}
	if n == 0 {
		return nil
	}
	rows, err := inbox.QueryContext(ctx, `SELECT jobs FROM autonomous_inbox`)
	if err != nil {
		return fmt.Errorf("failed to query the inbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var jobs []byte
		if err := rows.Scan(&jobs); err != nil {
			return fmt.Errorf("failed to read an inbox row: %w", err)
		}
		for _, job := range gjson.ParseBytes(jobs).Array() {
			if job.Get("kind").Str != "failure_analysis" {
				continue
			}
			states["inbox"]++
			// Moved into River but not yet deleted when the server died: the restart moves
			// it again and River's uniqueness skips it, so it is one job, not a duplicate.
			if id := job.Get("args.run_id").Int(); stored[id] == 0 {
				stored[id]++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("failed to read the inbox: %w", err)
	}
	return nil
}

// sqliteTime is the layout of strftime('%Y-%m-%d %H:%M:%f'), in UTC.
const sqliteTime = "2006-01-02 15:04:05.000"

// verify checks that every acknowledged run id has its failure_analysis job, exactly once, in
// River or still in the server's inbox (inbox; nil for a server without one), and
// measures the webhook-to-worker latency of the acknowledged deliveries (sentAt and answered
// parallel acked).
func verify(ctx context.Context, db, inbox *sql.DB, postgres bool, acked []int64, sentAt, answered []time.Time) (durability, error) {
	d := durability{Acked: len(acked), States: map[string]int{}}
	// SQLite keeps JSONB and timestamps as text; attempted_at only counts for a first attempt.
	query := `SELECT json(args), state, CASE WHEN attempt = 1 THEN coalesce(strftime('%Y-%m-%d %H:%M:%f', attempted_at), '') ELSE '' END
		FROM river_job WHERE kind = 'failure_analysis'`
	if postgres {
		query = `SELECT args::text, state, CASE WHEN attempt = 1 THEN coalesce(to_char(attempted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '') ELSE '' END
			FROM river_job WHERE kind = 'failure_analysis'`
	}
	layout := sqliteTime
	if postgres {
		layout = "2006-01-02 15:04:05.000000"
	}
	attempted := map[int64]time.Time{}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return d, fmt.Errorf("failed to query the stored jobs: %w", err)
	}
	defer rows.Close()
	stored := map[int64]int{}
	for rows.Next() {
		var args []byte
		var state, at string
		if err := rows.Scan(&args, &state, &at); err != nil {
			return d, fmt.Errorf("failed to read a stored job: %w", err)
		}
		d.States[state]++
		runID := gjson.GetBytes(args, "run_id").Int()
		stored[runID]++
		if at == "" {
			continue
		}
		t, err := time.ParseInLocation(layout, at, time.UTC)
		if err != nil {
			return d, fmt.Errorf("failed to read the attempted_at of run %d: %w", runID, err)
		}
		attempted[runID] = t
	}
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("failed to read the stored jobs: %w", err)
	}
	if err := readInbox(ctx, inbox, postgres, d.States, stored); err != nil {
		return d, err
	}
	d.Stored = len(stored)
	ackedSet := make(map[int64]bool, len(acked))
	for i, id := range acked {
		ackedSet[id] = true
		if stored[id] == 0 {
			d.Missing++
			if len(d.MissingIDs) < maxMissingIDs {
				d.MissingIDs = append(d.MissingIDs, id)
			}
		}
		if t, ok := attempted[id]; ok && stored[id] == 1 && i < len(sentAt) && i < len(answered) {
			d.WorkerStart = append(d.WorkerStart, t.Sub(sentAt[i]))
			d.AfterAnswer = append(d.AfterAnswer, t.Sub(answered[i]))
		}
	}
	for id, n := range stored {
		if n > 1 {
			d.Duplicates++
		}
		if !ackedSet[id] {
			d.Unacknowledged++
		}
	}
	return d, nil
}

// freshSchema creates a new schema in the Postgres database at rawURL and returns the URL that
// selects it, and a func that drops it.
func freshSchema(ctx context.Context, rawURL string) (string, func(), error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, fmt.Errorf("failed to parse --database-url: %w", err)
	}
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return "", nil, fmt.Errorf("failed to open postgres: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "loadtest_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("failed to create schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	}
	return u.String(), drop, nil
}
