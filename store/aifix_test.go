package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

func TestAIFixes(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			fix := store.AIFix{Key: "octo/a#7@abc:fp", Owner: "octo", Repo: "a", Number: 7, State: "queued", Attempts: 1, Data: `{"x":1}`}

			created, err := st.InsertAIFix(ctx, fix)
			require.NoError(t, err)
			require.True(t, created)
			created, err = st.InsertAIFix(ctx, fix)
			require.NoError(t, err)
			require.False(t, created, "one fix per key")

			n, err := st.AIFixAttempts(ctx, "octo", "a", 7)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			n, err = st.AIFixAttempts(ctx, "octo", "a", 8)
			require.NoError(t, err)
			require.Zero(t, n)

			// Compare and set: a stale writer loses.
			next := fix
			next.State, next.FixBranch, next.Data = "running", "codegen-bot/x", `{"x":2}`
			ok, err := st.UpdateAIFix(ctx, next, "queued", 1)
			require.NoError(t, err)
			require.True(t, ok)
			ok, err = st.UpdateAIFix(ctx, fix, "queued", 1)
			require.NoError(t, err)
			require.False(t, ok)

			got, found, err := st.AIFixByKey(ctx, fix.Key)
			require.NoError(t, err)
			require.True(t, found)
			require.Equal(t, "running", got.State)
			require.Equal(t, `{"x":2}`, got.Data)
			byBranch, found, err := st.AIFixByBranch(ctx, "octo", "a", "codegen-bot/x")
			require.NoError(t, err)
			require.True(t, found)
			require.Equal(t, fix.Key, byBranch.Key)
			_, found, err = st.AIFixByBranch(ctx, "octo", "a", "")
			require.NoError(t, err)
			require.False(t, found)
			_, found, err = st.AIFixByKey(ctx, "nope")
			require.NoError(t, err)
			require.False(t, found)

			// A pause tells people once, until it ends.
			now := time.Now()
			until, err := st.AIFixPausedUntil(ctx, "codegen")
			require.NoError(t, err)
			require.True(t, until.IsZero())
			notify, err := st.PauseAIFixes(ctx, "codegen", now, now.Add(time.Hour))
			require.NoError(t, err)
			require.True(t, notify)
			notify, err = st.PauseAIFixes(ctx, "codegen", now.Add(time.Minute), now.Add(2*time.Hour))
			require.NoError(t, err)
			require.False(t, notify, "already paused")
			until, err = st.AIFixPausedUntil(ctx, "codegen")
			require.NoError(t, err)
			require.Equal(t, now.Add(time.Hour).UnixMilli(), until.UnixMilli())
			notify, err = st.PauseAIFixes(ctx, "codegen", now.Add(2*time.Hour), now.Add(3*time.Hour))
			require.NoError(t, err)
			require.True(t, notify, "a new pause after the last one ended")
		})
	}
}
