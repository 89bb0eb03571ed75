package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestInboxInsertAndTakeInOrder: a group commit's rows (one INSERT on its own) and a larger
// insert (one transaction of several INSERTs) are all stored, and taken back in the order they
// were accepted.
func TestInboxInsertAndTakeInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			_, ib := openInbox(t, db.URL)
			rows := func(from, n int) []store.InboxRow {
				out := make([]store.InboxRow, n)
				for i := range out {
					out[i] = store.InboxRow{DeliveryID: fmt.Sprint(from + i), Jobs: []byte(`[]`), AcceptedAt: time.UnixMilli(int64(from + i))}
				}
				return out
			}
			require.NoError(t, ib.Insert(ctx, rows(0, 3)))
			require.NoError(t, ib.Insert(ctx, rows(3, 600))) // more than one statement's rows
			waiting, failed, err := ib.Counts(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 603, waiting)
			require.Zero(t, failed)

			var got []string
			for {
				n, err := ib.Take(ctx, 256, func(taken []store.InboxRow) (map[int64]store.Kept, error) {
					for _, r := range taken {
						got = append(got, r.DeliveryID)
					}
					return nil, nil
				})
				require.NoError(t, err)
				if n == 0 {
					break
				}
			}
			require.Len(t, got, 603)
			for i, id := range got {
				require.Equal(t, fmt.Sprint(i), id)
			}
			waiting, _, err = ib.Counts(ctx)
			require.NoError(t, err)
			require.Zero(t, waiting)
		})
	}
}

// openInbox opens a fresh store at url and its inbox, closed with the test.
func openInbox(t *testing.T, url string) (*store.Store, *store.Inbox) {
	t.Helper()
	st := workflowstest.OpenStore(t, url)
	ib, err := store.OpenInbox(context.Background(), st)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ib.Close() })
	return st, ib
}
