package commands

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// newLedger opens a migrated ledger on url.
func newLedger(t *testing.T, url string) ledger {
	t.Helper()
	st := workflowstest.OpenStore(t, url)
	return ledger{db: st.DB, dialect: st.Dialect}
}

// TestLedgerReserveConcurrent reserves many commands of one pull request at once, as two
// comments posted together do: the budget must hold on every database.
func TestLedgerReserveConcurrent(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t, db.URL)
			limits := config.CommandRateLimit{PerPRPerHour: 3, PerRepoPerHour: 100}
			for round := range 5 {
				var wg sync.WaitGroup
				var mu sync.Mutex
				allowed := 0
				for i := range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						k := entryKey{CommentID: int64(round*100 + i + 1), Line: 1, Command: "retry", RepoID: 42, Number: 7 + round}
						ok, _, err := l.reserve(context.Background(), k, limits, testNow)
						if err != nil {
							t.Error(err)
							return
						}
						if ok {
							mu.Lock()
							allowed++
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				require.Equal(t, limits.PerPRPerHour, allowed, "round %d", round)
			}
		})
	}
}

// TestLedgerReserveUntil checks the time a refused command may run again when more commands are
// counted than the limit allows (the limit was lowered): it is when enough of them left the
// window, not when the oldest did.
func TestLedgerReserveUntil(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t, db.URL)
			ctx := context.Background()
			wide := config.CommandRateLimit{PerPRPerHour: 10}
			for i, ago := range []time.Duration{50, 40, 30, 20} {
				ok, _, err := l.reserve(ctx, entryKey{CommentID: int64(i + 1), Line: 1, Command: "retry", RepoID: 42, Number: 7}, wide, testNow.Add(-ago*time.Minute))
				require.NoError(t, err)
				require.True(t, ok)
			}
			ok, until, err := l.reserve(ctx, entryKey{CommentID: 99, Line: 1, Command: "retry", RepoID: 42, Number: 7}, config.CommandRateLimit{PerPRPerHour: 2}, testNow)
			require.NoError(t, err)
			require.False(t, ok)
			// Four counted, two allowed: the third oldest (30 minutes ago) must leave the window.
			require.Equal(t, testNow.Add(30*time.Minute), until)
		})
	}
}

// TestLedgerUncountsWhatDidNotAct checks that an acting command that ended without acting (an
// invalid argument, nothing to do) gives its budget back.
func TestLedgerUncountsWhatDidNotAct(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t, db.URL)
			ctx := context.Background()
			limits := config.CommandRateLimit{PerPRPerHour: 1}
			k := entryKey{CommentID: 1, Line: 1, Command: "analyze", RepoID: 42, Number: 7}
			ok, _, err := l.reserve(ctx, k, limits, testNow)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, l.finish(ctx, k, outcome{Status: statusRefused, Text: "not a run id"}, testNow))

			k2 := entryKey{CommentID: 2, Line: 1, Command: "retry", RepoID: 42, Number: 7}
			ok, _, err = l.reserve(ctx, k2, limits, testNow)
			require.NoError(t, err)
			require.True(t, ok, "the refused command gave its budget back")
			require.NoError(t, l.finish(ctx, k2, outcome{Status: statusDone, Text: "re-ran"}, testNow))

			ok, _, err = l.reserve(ctx, entryKey{CommentID: 3, Line: 1, Command: "retry", RepoID: 42, Number: 7}, limits, testNow)
			require.NoError(t, err)
			require.False(t, ok, "a command that acted keeps counting")
		})
	}
}
