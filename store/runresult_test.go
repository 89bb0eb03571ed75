package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

func TestSaveRunResultKeepsWhatWasDoneOnGitHub(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			base := store.RunResult{Owner: "octo", Repo: "a", RunID: 9, Attempt: 1, HeadSHA: "abc", Workflow: "ci", Conclusion: "failure"}

			// One execution requested the re-run and created the check run ...
			done := base
			done.RerunRequested, done.CheckRunID = true, 77
			require.NoError(t, st.SaveRunResult(ctx, done))
			// ... a concurrent one, which read the record before, saves what it knew.
			stale := base
			stale.Fingerprints = []string{"fp"}
			require.NoError(t, st.SaveRunResult(ctx, stale))

			got, err := st.RunResults(ctx, "octo", "a", 9)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.True(t, got[0].RerunRequested, "a requested re-run was forgotten: the next execution may re-run again")
			require.Equal(t, int64(77), got[0].CheckRunID, "a created check run was forgotten: the next execution adds a second")
			require.Equal(t, []string{"fp"}, got[0].Fingerprints)

			// A replaced check run (the old one was deleted) is recorded.
			moved := base
			moved.CheckRunID = 78
			require.NoError(t, st.SaveRunResult(ctx, moved))
			got, err = st.RunResults(ctx, "octo", "a", 9)
			require.NoError(t, err)
			require.Equal(t, int64(78), got[0].CheckRunID)
		})
	}
}
