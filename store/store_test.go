package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
)

// TestOpenPlainPath: DATABASE_URL may be a plain filesystem path, absolute or relative, as the
// README's default ./data/autonomous.db is; it opens (and creates) that SQLite file.
func TestOpenPlainPath(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "abs", "autonomous.db")
	t.Chdir(dir)
	for _, path := range []string{abs, "./data/autonomous.db", "rel/autonomous.db"} {
		st, err := store.Open(context.Background(), path)
		require.NoError(t, err, path)
		require.Equal(t, store.SQLite, st.Dialect)
		require.NoError(t, st.DB.PingContext(context.Background()))
		require.NoError(t, st.Close())
		file := path
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		_, err = os.Stat(file)
		require.NoError(t, err, "the file %s exists", path)
	}
}
