package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStatementCacheSkipsManyParameterStatements: a statement is prepared once and reused, but
// a multi-row insert of more than maxCachedParams parameters is prepared for its one use and not
// kept (each row count is a query of its own).
func TestStatementCacheSkipsManyParameterStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := openSQLite(ctx, filepath.Join(t.TempDir(), "cache.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.DB.Close() })
	_, err = st.DB.ExecContext(ctx, `CREATE TABLE t (a INTEGER, b INTEGER)`)
	require.NoError(t, err)
	insert := func(rows int) {
		q := "INSERT INTO t (a, b) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?),", rows), ",")
		args := make([]any, 2*rows)
		for i := range args {
			args[i] = i
		}
		_, err := st.DB.ExecContext(ctx, q, args...)
		require.NoError(t, err)
	}
	cached := func() (n int) {
		conn, err := st.DB.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, conn.Raw(func(dc any) error {
			n = dc.(*cachingConn).lru.Len()
			return nil
		}))
		return n
	}
	before, want := cached(), 2
	insert(1)
	insert(1)
	require.Equal(t, before+1, cached(), "one statement, reused")
	for rows := maxCachedParams/2 + 1; rows < maxCachedParams/2+20; rows++ {
		insert(rows)
		want += rows
	}
	require.Equal(t, before+1, cached(), "statements of more than maxCachedParams parameters are not kept")
	var n int
	require.NoError(t, st.DB.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n))
	require.Equal(t, want, n, "every row inserted")
}
