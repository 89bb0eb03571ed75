package workflows

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver for Postgres
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"modernc.org/sqlite"

	"github.com/contexten/autonomous/config"
)

// Dialect names the database behind a Store.
type Dialect string

// The supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the database shared by River and the bot's own tables. One client type serves both
// dialects: River's database/sql drivers over *sql.Tx (riversqlite and riverdatabasesql).
type Store struct {
	DB      *sql.DB
	Dialect Dialect
	Driver  riverdriver.Driver[*sql.Tx]
}

// OpenStore opens the database named by databaseURL (see config.ParseDatabaseURL). For SQLite it
// creates the file's folder, enables WAL and a busy timeout, and keeps one open connection, as
// SQLite allows one writer at a time.
func OpenStore(ctx context.Context, databaseURL string) (*Store, error) {
	dialect, dsn, err := config.ParseDatabaseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	switch Dialect(dialect) {
	case SQLite:
		return openSQLite(ctx, dsn)
	default:
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("failed to open postgres: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		if err := db.PingContext(ctx); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("failed to connect to postgres: %w", err)
		}
		return &Store{DB: db, Dialect: Postgres, Driver: riverdatabasesql.New(db)}, nil
	}
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	file := strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(file, '?'); i >= 0 {
		file = file[:i]
	}
	if file != "" && file != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
			return nil, fmt.Errorf("failed to create database folder: %w", err)
		}
	}
	dsn := path
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	// synchronous(NORMAL) in WAL mode still survives a process crash: a committed transaction is
	// in the WAL file before the answer is sent; only a power loss can drop the last commits.
	dsn += sep + "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_txlock=immediate"
	connector, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("failed to open sqlite: %w", err)
	}
	db := sql.OpenDB(cachingConnector{connector})
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("failed to open sqlite database %s: %w", file, err)
	}
	return &Store{DB: db, Dialect: SQLite, Driver: riversqlite.New(db)}, nil
}

// Migrate applies River's migrations and the bot's own tables. It is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	migrator, err := rivermigrate.New(s.Driver, nil)
	if err != nil {
		return fmt.Errorf("failed to create migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("failed to migrate river tables: %w", err)
	}
	for _, stmt := range ownSchema {
		if _, err := s.DB.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("failed to migrate autonomous tables: %w", err)
		}
	}
	return nil
}

// MigrationsApplied reports whether River's schema is fully migrated.
func (s *Store) MigrationsApplied(ctx context.Context) (bool, error) {
	migrator, err := rivermigrate.New(s.Driver, nil)
	if err != nil {
		return false, fmt.Errorf("failed to create migrator: %w", err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("failed to validate migrations: %w", err)
	}
	return res.OK, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.DB.Close() }

// ownSchema is the bot's own tables, written in the SQL both SQLite and Postgres accept.
var ownSchema = []string{
	`CREATE TABLE IF NOT EXISTS autonomous_installation (
		id BIGINT PRIMARY KEY,
		account TEXT NOT NULL,
		account_type TEXT NOT NULL DEFAULT '',
		repository_selection TEXT NOT NULL DEFAULT '',
		repositories TEXT NOT NULL DEFAULT '',
		suspended BOOLEAN NOT NULL DEFAULT FALSE,
		updated_at TIMESTAMP NOT NULL
	)`,
	// One row per pull request the bot reports on: the sticky comment and its sections.
	`CREATE TABLE IF NOT EXISTS autonomous_pr_report (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		number BIGINT NOT NULL,
		comment_id BIGINT NOT NULL DEFAULT 0,
		sections TEXT NOT NULL DEFAULT '{}',
		lease_until_ms BIGINT NOT NULL DEFAULT 0,
		updated_at TIMESTAMP NOT NULL,
		PRIMARY KEY (owner, repo, number)
	)`,
	// One row per analyzed run attempt: what failed (fingerprints), for flakiness evidence and
	// re-run decisions, and the check run the bot created for it.
	`CREATE TABLE IF NOT EXISTS autonomous_run_result (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		attempt BIGINT NOT NULL,
		head_sha TEXT NOT NULL,
		workflow TEXT NOT NULL,
		conclusion TEXT NOT NULL,
		fingerprints TEXT NOT NULL DEFAULT '',
		html_url TEXT NOT NULL DEFAULT '',
		check_run_id BIGINT NOT NULL DEFAULT 0,
		rerun_requested BOOLEAN NOT NULL DEFAULT FALSE,
		updated_at TIMESTAMP NOT NULL,
		PRIMARY KEY (owner, repo, run_id, attempt)
	)`,
	// One row per River client that works jobs: renewed every few seconds while the process
	// lives, so the others can rescue its running jobs soon after it dies (lease.go). Times
	// are Unix milliseconds on the database's clock.
	`CREATE TABLE IF NOT EXISTS autonomous_worker_lease (
		client_id TEXT PRIMARY KEY,
		started_at_ms BIGINT NOT NULL,
		heartbeat_at_ms BIGINT NOT NULL,
		expires_at_ms BIGINT NOT NULL
	)`,
	// Creates on GitHub, recorded before they are sent (see Store.CreateOnce), and the per-run
	// lease that serialises the executions reporting one run (see Store.LockRun).
	`CREATE TABLE IF NOT EXISTS autonomous_effect (
		effect_key TEXT PRIMARY KEY,
		started_ms BIGINT NOT NULL,
		created_id BIGINT NOT NULL DEFAULT 0
	)`,
	`CREATE INDEX IF NOT EXISTS autonomous_effect_started_idx ON autonomous_effect (started_ms)`,
	`CREATE TABLE IF NOT EXISTS autonomous_run_lease (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		lease_until_ms BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (owner, repo, run_id)
	)`,
}

// Rebind turns "?" placeholders into "$n" for Postgres, so one SQL text serves both dialects.
func (s *Store) Rebind(query string) string {
	return s.Dialect.Rebind(query)
}

// Rebind turns "?" placeholders into "$n" when d is Postgres.
func (d Dialect) Rebind(query string) string {
	if d != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
