// Package store is the database: database/sql over SQLite (modernc, the embedded default) or
// Postgres (DATABASE_URL). It opens it (Open), names its dialect and rewrites placeholders for it
// (Rebind), caches prepared statements per connection (stmtcache.go), migrates it with one ordered
// list of migrations, River's first (migrate.go), and holds the code of the bot's own tables, one
// file a table: the webhook inbox, installations, PR reports, run results, effects, run leases, worker leases,
// performance history. The workflow engine (package workflows) and the workflows use it; it
// knows nothing of them.
package store

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
	// File is the SQLite database file ("" for Postgres and in-memory databases); the inbox
	// keeps its own file beside it (inbox.go).
	File string
}

// Open opens the database named by databaseURL (see config.ParseDatabaseURL). For SQLite it
// creates the file's folder, enables WAL and a busy timeout, and keeps one open connection, as
// SQLite allows one writer at a time.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
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
	if file == ":memory:" {
		file = ""
	}
	return &Store{DB: db, Dialect: SQLite, Driver: riversqlite.New(db), File: file}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.DB.Close() }

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
