package budget_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/budget"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestReserve(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			st := workflowstest.OpenStore(t, db.URL)
			l := budget.Ledger{DB: st.DB, Dialect: st.Dialect}
			ctx := context.Background()
			limits := budget.Limits{PerPR: 2, PerRepoPerDay: 3}
			use := func(i, pr int) budget.Use {
				return budget.Use{Kind: budget.Commands, Key: fmt.Sprint(i), RepoID: 42, Number: pr}
			}
			for i := range 2 {
				ok, _, err := l.Reserve(ctx, use(i, 7), limits, now.Add(time.Duration(i)*time.Minute))
				require.NoError(t, err)
				require.True(t, ok)
			}
			ok, _, err := l.Reserve(ctx, use(0, 7), limits, now.Add(3*time.Minute))
			require.NoError(t, err)
			require.True(t, ok, "a use reserved before is allowed again without counting")
			ok, until, err := l.Reserve(ctx, use(2, 7), limits, now.Add(3*time.Minute))
			require.NoError(t, err)
			require.False(t, ok)
			require.Equal(t, now.Add(time.Hour), until, "the pull request's hour frees up when the oldest leaves it")
			ok, _, err = l.Reserve(ctx, use(3, 8), limits, now.Add(4*time.Minute))
			require.NoError(t, err)
			require.True(t, ok, "another pull request has its own budget")
			ok, until, err = l.Reserve(ctx, use(4, 9), limits, now.Add(2*time.Hour))
			require.NoError(t, err)
			require.False(t, ok, "three a day in the repository")
			require.Equal(t, now.Add(24*time.Hour), until)
			require.NoError(t, l.Release(ctx, use(3, 8), now.Add(2*time.Hour)))
			ok, _, err = l.Reserve(ctx, use(4, 9), limits, now.Add(2*time.Hour))
			require.NoError(t, err)
			require.True(t, ok, "a released use gives its budget back")
			other := budget.Use{Kind: "reruns", Key: "1", RepoID: 42, Number: 7}
			ok, _, err = l.Reserve(ctx, other, limits, now.Add(2*time.Hour))
			require.NoError(t, err)
			require.True(t, ok, "kinds are counted apart")
		})
	}
}

// TestCountedCommandsKeepCounting: commands the ledger counted before the budgets had a table
// of their own are copied there by the migration, once.
func TestCountedCommandsKeepCounting(t *testing.T) {
	t.Parallel()
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	ctx := context.Background()
	recent := time.Now().Add(-10 * time.Minute).Unix()
	_, err := st.DB.ExecContext(ctx, `INSERT INTO autonomous_command_run
		(comment_id, line, command, repo_id, pr_number, counted, finished, created_unix) VALUES (5, 1, 'retry', 42, 7, TRUE, TRUE, ?)`, recent)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	require.NoError(t, st.Migrate(ctx))
	l := budget.Ledger{DB: st.DB, Dialect: st.Dialect}
	ok, _, err := l.Reserve(ctx, budget.Use{Kind: budget.Commands, Key: "6:1:retry", RepoID: 42, Number: 7}, budget.Limits{PerPR: 1}, time.Now())
	require.NoError(t, err)
	require.False(t, ok, "the command counted before the upgrade still counts")
}
