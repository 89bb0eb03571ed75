package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// newInbox opens the inbox of engine's database and starts accepting into it; the pump is not
// running (tests move with Drain unless they start Run).
func newInbox(t testing.TB, engine *workflows.Engine) (*workflows.Inbox, *store.Inbox) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenInbox(ctx, engine.Store())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	ib, err := workflows.NewInbox(ctx, st, engine, workflows.InboxOptions{Kinds: []river.JobArgs{testArgs{}}})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ib.Stop(ctx)
	})
	return ib, st
}

func jobsOfKind(t testing.TB, engine *workflows.Engine) []*rivertype.JobRow {
	t.Helper()
	res, err := engine.Client().JobList(context.Background(), river.NewJobListParams().Kinds("test_job").First(1000))
	require.NoError(t, err)
	return res.Jobs
}

// TestInboxDeliveryStoresTogetherAndMoves: a delivery's jobs are stored by its Commit (not
// before), moved into River by the pump with their insert options, and a job that is a
// duplicate of a pending one becomes no second job.
func TestInboxDeliveryStoresTogetherAndMoves(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			engine := newEngine(t, db.URL, false)
			ib, st := newInbox(t, engine)
			ctx, delivery := ib.Begin(context.Background(), "d-1")
			_, err := ib.Enqueue(ctx, testArgs{Owner: "o", Repo: "r", N: 1}, &river.InsertOpts{Tags: []string{"pr-1-2"}})
			require.NoError(t, err)
			_, err = ib.Enqueue(ctx, testArgs{Owner: "o", Repo: "r", N: 2}, nil)
			require.NoError(t, err)
			waiting, _, err := st.Counts(context.Background())
			require.NoError(t, err)
			require.Zero(t, waiting, "nothing is stored before the delivery commits")
			require.Equal(t, []string{"test_job", "test_job"}, delivery.Kinds())

			require.NoError(t, delivery.Commit(context.Background()))
			waiting, _, err = st.Counts(context.Background())
			require.NoError(t, err)
			require.EqualValues(t, 1, waiting, "one row for the delivery")
			require.EqualValues(t, 1, ib.Backlog())

			// The same job again, on its own (no delivery): stored, and River keeps one.
			_, err = ib.Enqueue(context.Background(), testArgs{Owner: "o", Repo: "r", N: 1}, nil)
			require.NoError(t, err)
			require.NoError(t, ib.Drain(context.Background()))
			jobs := jobsOfKind(t, engine)
			require.Len(t, jobs, 2)
			byN := map[int][]string{}
			for _, j := range jobs {
				byN[decodeTestArgs(t, j.EncodedArgs).N] = j.Tags
				require.Equal(t, 1, j.MaxAttempts, "the args' own insert options apply")
			}
			require.Equal(t, []string{"pr-1-2"}, byN[1])
			require.Empty(t, byN[2])
			waiting, _, err = st.Counts(context.Background())
			require.NoError(t, err)
			require.Zero(t, waiting)
			require.Zero(t, ib.Backlog())
		})
	}
}

// TestInboxReplayAfterCrashDuplicatesNothing: rows moved into River whose delete never
// happened (the process died in between) are moved again after the restart, and River's
// uniqueness leaves one job each.
func TestInboxReplayAfterCrashDuplicatesNothing(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			engine := newEngine(t, db.URL, false)
			ib, st := newInbox(t, engine)
			for n := range 5 {
				_, err := ib.Enqueue(context.Background(), testArgs{Owner: "o", Repo: "r", N: n}, nil)
				require.NoError(t, err)
			}
			// Move them into River, then fail before the delete, as a crash would.
			died := errors.New("killed before the delete")
			_, err := st.Take(context.Background(), 100, func(rows []store.InboxRow) (map[int64]store.Kept, error) {
				for _, r := range rows {
					var jobs []struct {
						Args json.RawMessage `json:"args"`
					}
					require.NoError(t, json.Unmarshal(r.Jobs, &jobs))
					for _, j := range jobs {
						_, err := engine.Client().Insert(context.Background(), decodeTestArgs(t, j.Args), nil)
						require.NoError(t, err)
					}
				}
				return nil, died
			})
			require.ErrorIs(t, err, died)
			require.Len(t, jobsOfKind(t, engine), 5)

			// The restart: a new inbox over the same file counts the rows and moves them again.
			again, err := workflows.NewInbox(context.Background(), st, engine, workflows.InboxOptions{Kinds: []river.JobArgs{testArgs{}}})
			require.NoError(t, err)
			t.Cleanup(func() { _ = again.Stop(context.Background()) })
			require.EqualValues(t, 5, again.Backlog())
			require.NoError(t, again.Drain(context.Background()))
			require.Len(t, jobsOfKind(t, engine), 5)
			waiting, _, err := st.Counts(context.Background())
			require.NoError(t, err)
			require.Zero(t, waiting)
		})
	}
}

func decodeTestArgs(t testing.TB, raw []byte) testArgs {
	t.Helper()
	var a testArgs
	require.NoError(t, json.Unmarshal(raw, &a))
	return a
}

// TestInboxKeepsWhatCannotMove: jobs this build cannot decode (a kind it no longer has, args
// of the wrong shape, a row that is not JSON) stay in the inbox with their error, counted, and
// hold back neither the rows after them nor the good jobs of their own row.
func TestInboxKeepsWhatCannotMove(t *testing.T) {
	t.Parallel()
	engine := newEngine(t, workflowstest.SQLiteURL(t), false)
	ib, st := newInbox(t, engine)
	now := time.Now()
	require.NoError(t, st.Insert(context.Background(), []store.InboxRow{
		{DeliveryID: "old", Jobs: []byte(`[{"kind":"gone_kind","args":{}}]`), AcceptedAt: now},
		{DeliveryID: "bad", Jobs: []byte(`[{"kind":"test_job","args":{"n":"not a number"}}]`), AcceptedAt: now},
		{DeliveryID: "torn", Jobs: []byte(`[{"kind":"test_job"`), AcceptedAt: now},
		{DeliveryID: "mixed", Jobs: []byte(`[{"kind":"test_job","args":{"owner":"o","repo":"r","n":8}},{"kind":"gone_kind","args":{"x":1}}]`), AcceptedAt: now},
	}))
	_, err := ib.Enqueue(context.Background(), testArgs{Owner: "o", Repo: "r", N: 7}, nil)
	require.NoError(t, err)
	require.NoError(t, ib.Drain(context.Background()))
	require.Len(t, jobsOfKind(t, engine), 2, "the good job of the mixed row and the enqueued one")
	waiting, failed, err := st.Counts(context.Background())
	require.NoError(t, err)
	require.Zero(t, waiting)
	require.EqualValues(t, 4, failed)
	require.EqualValues(t, 4, ib.Failed())
	var jobs, reason string
	require.NoError(t, st.DB.QueryRow(`SELECT jobs, error FROM autonomous_inbox WHERE delivery_id = 'mixed'`).Scan(&jobs, &reason))
	require.JSONEq(t, `[{"kind":"gone_kind","args":{"x":1}}]`, jobs, "only what could not move is kept")
	require.Contains(t, reason, "gone_kind")
	require.NoError(t, st.DB.QueryRow(`SELECT jobs FROM autonomous_inbox WHERE delivery_id = 'torn'`).Scan(&jobs))
	require.Equal(t, `[{"kind":"test_job"`, jobs, "an unreadable row is kept as it was")
	// Kept rows are not taken again.
	require.NoError(t, ib.Drain(context.Background()))
	require.EqualValues(t, 4, ib.Failed())
}

// TestInboxRefusesUnknownKindsAndStops: a kind the inbox was not given is refused at once (the
// pump could never decode it); after Stop nothing is accepted and what waited was moved.
func TestInboxRefusesUnknownKindsAndStops(t *testing.T) {
	t.Parallel()
	engine := newEngine(t, workflowstest.SQLiteURL(t), false)
	ib, _ := newInbox(t, engine)
	_, err := ib.Enqueue(context.Background(), wakeArgs{N: 1}, nil)
	require.ErrorIs(t, err, workflows.ErrUnknownKind)

	_, err = ib.Enqueue(context.Background(), testArgs{Owner: "o", Repo: "r", N: 1}, nil)
	require.NoError(t, err)
	require.NoError(t, ib.Stop(context.Background()))
	require.Len(t, jobsOfKind(t, engine), 1)
	_, err = ib.Enqueue(context.Background(), testArgs{Owner: "o", Repo: "r", N: 2}, nil)
	require.ErrorIs(t, err, workflows.ErrStopped)
}

// TestInboxPumpMovesAndWakesWorkers: with the pump running and the engine's poll an hour away, an
// accepted job is worked promptly: the accept wakes the pump, whose insert wakes the producer.
func TestInboxPumpMovesAndWakesWorkers(t *testing.T) {
	t.Parallel()
	engine, started := newWakeEngine(t, workflowstest.SQLiteURL(t))
	st, err := store.OpenInbox(context.Background(), engine.Store())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	ib, err := workflows.NewInbox(context.Background(), st, engine, workflows.InboxOptions{Kinds: []river.JobArgs{wakeArgs{}}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ib.Run(ctx)
	time.Sleep(50 * time.Millisecond) // past River's initial fetch
	for n := range 3 {
		_, err := ib.Enqueue(context.Background(), wakeArgs{N: n}, nil)
		require.NoError(t, err)
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatalf("job %d was not worked", n)
		}
	}
}

// TestInboxPumpsShareRowsOnPostgres: two replicas' inboxes on one Postgres database, pumping at
// once, move every row exactly once between them.
func TestInboxPumpsShareRowsOnPostgres(t *testing.T) {
	t.Parallel()
	url := workflowstest.PostgresURL(t)
	first := newEngine(t, url, false)
	second := newEngine(t, url, false)
	a, st := newInbox(t, first)
	b, _ := newInbox(t, second)
	const jobs = 2000
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w; n < jobs; n += 4 {
				if _, err := a.Enqueue(context.Background(), testArgs{Owner: "o", Repo: "r", N: n}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var moves atomic.Int64
	for _, ib := range []*workflows.Inbox{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ib.Drain(context.Background()); err != nil {
				t.Error(err)
				return
			}
			moves.Add(1)
		}()
	}
	wg.Wait()
	require.EqualValues(t, 4, moves.Load())
	var n int
	require.NoError(t, first.Store().DB.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'test_job'`).Scan(&n))
	require.Equal(t, jobs, n)
	waiting, _, err := st.Counts(context.Background())
	require.NoError(t, err)
	require.Zero(t, waiting)
}
