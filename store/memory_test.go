package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestReleaseMemoryKeepsTheDatabaseWorking: after SQLite gave back its statements and page
// cache, the database and the inbox answer as before (statements are prepared again).
func TestReleaseMemoryKeepsTheDatabaseWorking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			st, ib := openInbox(t, db.URL)
			require.NoError(t, ib.Insert(ctx, []store.InboxRow{{DeliveryID: "d", Jobs: []byte(`[]`)}}))
			var n int
			require.NoError(t, st.DB.QueryRowContext(ctx, `SELECT count(*) FROM river_job`).Scan(&n))

			require.NoError(t, st.ReleaseMemory(ctx))
			require.NoError(t, ib.ReleaseMemory(ctx))

			require.NoError(t, st.DB.QueryRowContext(ctx, `SELECT count(*) FROM river_job`).Scan(&n))
			waiting, _, err := ib.Counts(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, waiting)
		})
	}
}
