package workflows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// leaseArgs is a job that blocks until its test releases it when Block is set.
type leaseArgs struct {
	Name  string `json:"name"`
	Block bool   `json:"block"`
}

func (leaseArgs) Kind() string { return "lease_test_job" }

type leaseWorker struct {
	river.WorkerDefaults[leaseArgs]
	release chan struct{}
}

func (w leaseWorker) Work(ctx context.Context, job *river.Job[leaseArgs]) error {
	if job.Args.Block {
		select {
		case <-w.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// leaseEngine is a working engine named id with a short lease, stopped at the end of the test.
func leaseEngine(t *testing.T, url, id string, release chan struct{}) *workflows.Engine {
	t.Helper()
	st := workflowstest.OpenStore(t, url)
	workers := river.NewWorkers()
	river.AddWorker(workers, leaseWorker{release: release})
	engine, err := workflows.NewEngine(st, workflows.Options{
		Workers: workers, FetchPollInterval: 10 * time.Millisecond, ID: id,
		LeaseTTL: time.Second, LeaseInterval: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	return engine
}

// claim inserts a job and marks it running under client, attempted at `at`, as River's fetch
// does: the row a process leaves behind when it dies inside the job.
func claim(t *testing.T, st *store.Store, inserter *workflows.Engine, name, client string, at time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	ins, err := inserter.Enqueue(ctx, leaseArgs{Name: name}, &river.InsertOpts{ScheduledAt: at.Add(-time.Minute)})
	require.NoError(t, err)
	// River inserts a job with a ScheduledAt as scheduled; its scheduler would make it available.
	_, err = st.DB.Exec(st.Rebind(`UPDATE river_job SET state = 'available' WHERE id = ?`), ins.ID)
	require.NoError(t, err)
	res, err := st.Driver.GetExecutor().JobGetAvailable(ctx, &riverdriver.JobGetAvailableParams{
		ClientID: client, MaxAttemptedBy: 10, MaxToLock: 1, Now: &at, Queue: river.QueueDefault,
	})
	require.NoError(t, err)
	require.Len(t, res.Jobs, 1)
	require.Equal(t, ins.ID, res.Jobs[0].ID)
	return ins.ID
}

func setLease(t *testing.T, st *store.Store, client string, expires time.Time) {
	t.Helper()
	_, err := st.DB.Exec(st.Rebind(`INSERT INTO autonomous_worker_lease (client_id, started_at_ms, heartbeat_at_ms, expires_at_ms)
		VALUES (?, 0, 0, ?)`), client, expires.UnixMilli())
	require.NoError(t, err)
}

func jobRow(t *testing.T, engine *workflows.Engine, id int64) *rivertype.JobRow {
	t.Helper()
	job, err := engine.Client().JobGet(context.Background(), id)
	require.NoError(t, err)
	return job
}

// TestLeaseRescuesOnlyTheJobsOfDeadProcesses leaves running jobs behind as dead and live
// processes would, then starts an engine: it resumes at once the jobs of a client whose lease
// expired, of its own previous incarnation and of a lease-less client older than the job
// timeout, and leaves alone a live client's job (however old) and a recent lease-less one.
func TestLeaseRescuesOnlyTheJobsOfDeadProcesses(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			st := workflowstest.OpenStore(t, db.URL)
			inserter, err := workflows.NewEngine(st, workflows.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = inserter.Stop(context.Background()) })
			now := time.Now()

			expired := claim(t, st, inserter, "expired", "dead-expired", now.Add(-time.Minute))
			setLease(t, st, "dead-expired", now.Add(-30*time.Second))
			// Past the 30-minute job timeout, before River's own rescuer (an hour later) would act.
			old := claim(t, st, inserter, "no-lease-old", "dead-no-lease", now.Add(-45*time.Minute))
			previous := claim(t, st, inserter, "previous", "engine-x", now.Add(-time.Second))
			live := claim(t, st, inserter, "live", "alive", now.Add(-45*time.Minute))
			setLease(t, st, "alive", now.Add(time.Hour))
			recent := claim(t, st, inserter, "no-lease-recent", "unknown", now)

			engine := leaseEngine(t, db.URL, "engine-x", nil)
			require.NoError(t, engine.Start(context.Background()))
			for _, id := range []int64{expired, old, previous} {
				require.Eventually(t, func() bool { return jobRow(t, engine, id).State == rivertype.JobStateCompleted },
					10*time.Second, 20*time.Millisecond, "job %d was not rescued", id)
				job := jobRow(t, engine, id)
				require.Equal(t, 2, job.Attempt)
				require.Equal(t, "engine-x", job.AttemptedBy[len(job.AttemptedBy)-1])
				require.Len(t, job.Errors, 1)
				require.True(t, strings.HasPrefix(job.Errors[0].Error, "rescued: "), job.Errors[0].Error)
			}
			time.Sleep(time.Second) // twenty scans
			for _, id := range []int64{live, recent} {
				job := jobRow(t, engine, id)
				require.Equal(t, rivertype.JobStateRunning, job.State, "job %d of a live client was rescued", id)
				require.Equal(t, 1, job.Attempt)
				require.Empty(t, job.Errors)
			}
		})
	}
}

// TestLeaseKeepsALiveProcessLongJob runs a job longer than the lease TTL on one engine while
// another watches: the lease is renewed, the job is never rescued and finishes in its first
// attempt. A graceful stop then expires the lease.
func TestLeaseKeepsALiveProcessLongJob(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			worker := leaseEngine(t, db.URL, "worker", release)
			require.NoError(t, worker.Start(context.Background()))
			ins, err := worker.Enqueue(context.Background(), leaseArgs{Name: "long", Block: true}, nil)
			require.NoError(t, err)
			require.Eventually(t, func() bool { return jobRow(t, worker, ins.ID).State == rivertype.JobStateRunning },
				10*time.Second, 10*time.Millisecond)
			watcher := leaseEngine(t, db.URL, "watcher", release)
			require.NoError(t, watcher.Start(context.Background()))

			time.Sleep(3 * time.Second) // three lease TTLs, sixty scans by each engine
			job := jobRow(t, worker, ins.ID)
			require.Equal(t, rivertype.JobStateRunning, job.State)
			require.Equal(t, 1, job.Attempt)
			require.Empty(t, job.Errors)
			close(release)
			require.Eventually(t, func() bool { return jobRow(t, worker, ins.ID).State == rivertype.JobStateCompleted },
				10*time.Second, 10*time.Millisecond)
			require.Equal(t, 1, jobRow(t, worker, ins.ID).Attempt)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, worker.Stop(ctx))
			var expires, heartbeat int64
			st := worker.Store()
			require.NoError(t, watcher.Store().DB.QueryRow(st.Rebind(`SELECT expires_at_ms, heartbeat_at_ms FROM autonomous_worker_lease
				WHERE client_id = ?`), "worker").Scan(&expires, &heartbeat))
			require.Less(t, expires, heartbeat+time.Second.Milliseconds(), "a stopped engine's lease is expired")
		})
	}
}

// TestRescuedLastAttemptIsDiscardedAndEnqueuesAgain: a job whose process died in its last
// attempt is discarded by the rescue, and then a redelivery (same unique args) enqueues a new
// execution, where before the rescue it was a duplicate of the orphaned running job.
func TestRescuedLastAttemptIsDiscardedAndEnqueuesAgain(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			inserter, err := workflows.NewEngine(st, workflows.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = inserter.Stop(context.Background()) })
			opts := &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true}}
			ins, err := inserter.Enqueue(ctx, leaseArgs{Name: "last"}, opts)
			require.NoError(t, err)
			_, err = st.Driver.GetExecutor().JobGetAvailable(ctx, &riverdriver.JobGetAvailableParams{
				ClientID: "dead", MaxAttemptedBy: 10, MaxToLock: 1, Queue: river.QueueDefault,
			})
			require.NoError(t, err)
			setLease(t, st, "dead", time.Now().Add(-time.Minute))
			again, err := inserter.Enqueue(ctx, leaseArgs{Name: "last"}, opts)
			require.NoError(t, err)
			require.Equal(t, workflows.Inserted{ID: ins.ID, Duplicate: true}, again, "a running job is the unique duplicate")

			engine := leaseEngine(t, db.URL, "rescuer", nil)
			require.NoError(t, engine.Start(ctx))
			require.Eventually(t, func() bool { return jobRow(t, engine, ins.ID).State == rivertype.JobStateDiscarded },
				10*time.Second, 20*time.Millisecond)
			redelivered, err := inserter.Enqueue(ctx, leaseArgs{Name: "last"}, opts)
			require.NoError(t, err)
			require.False(t, redelivered.Duplicate)
			require.NotEqual(t, ins.ID, redelivered.ID)
			require.Eventually(t, func() bool { return jobRow(t, engine, redelivered.ID).State == rivertype.JobStateCompleted },
				10*time.Second, 20*time.Millisecond)
		})
	}
}
