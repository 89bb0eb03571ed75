// Package workflowstest opens throwaway databases for tests: a SQLite file in the test's
// temporary folder, or a fresh schema in the Postgres at TEST_DATABASE_URL.
package workflowstest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
)

// Database is a database URL for one test.
type Database struct {
	Name string
	URL  string
}

// SQLiteURL returns the URL of a new SQLite file.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "autonomous.db")
}

// PostgresURL returns the URL of a fresh schema in TEST_DATABASE_URL's database, dropped at the
// end of the test. The test is skipped without TEST_DATABASE_URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL is not set: skipping the Postgres variant")
	}
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	schema := "t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// All returns a SQLite database and, when TEST_DATABASE_URL is set, a Postgres one, so a test
// can run on both.
func All(t testing.TB) []Database {
	t.Helper()
	dbs := []Database{{Name: "sqlite", URL: SQLiteURL(t)}}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		dbs = append(dbs, Database{Name: "postgres", URL: PostgresURL(t)})
	}
	return dbs
}

// OpenStore opens and migrates a st at url, closed at the end of the test.
func OpenStore(t testing.TB, url string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	return st
}
