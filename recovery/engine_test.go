package recovery_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// repoArgs is a job that reads a repository from GitHub.
type repoArgs struct {
	Owner string `json:"owner"`
	Repo  string `json:"repo"`
	// Decide makes the worker return recovery.Decide(err), as the workflow kinds do; without it
	// the raw error reaches the manager.
	Decide bool `json:"decide"`
}

func (repoArgs) Kind() string { return "test_repo_read" }

// repoWorker gets the repository through a go-github client of the fake GitHub.
type repoWorker struct {
	river.WorkerDefaults[repoArgs]
	gh *github.Client
}

func (w *repoWorker) Work(ctx context.Context, job *river.Job[repoArgs]) error {
	repo, _, err := w.gh.Repositories.Get(ctx, job.Args.Owner, job.Args.Repo)
	if err != nil {
		if job.Args.Decide {
			return recovery.Decide(err)
		}
		return err
	}
	return river.RecordOutput(ctx, map[string]string{"full_name": repo.GetFullName()})
}

// startEngine runs an engine over st whose every job goes through m.
func startEngine(t *testing.T, st *store.Store, m *recovery.Manager, add func(*river.Workers)) *workflows.Engine {
	t.Helper()
	workers := river.NewWorkers()
	add(workers)
	engine, err := workflows.NewEngine(st, workflows.Options{
		Workers: workers, FetchPollInterval: 10 * time.Millisecond, RetryDelay: time.Second,
		Middleware: []rivertype.Middleware{m}, SoftStopTimeout: 2 * time.Second,
	})
	require.NoError(t, err)
	m.Attach(engine)
	require.NoError(t, engine.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	return engine
}

func waitTerminal(t *testing.T, engine *workflows.Engine, id int64) workflows.Execution {
	t.Helper()
	var x workflows.Execution
	require.Eventually(t, func() bool {
		var err error
		x, err = engine.Status(context.Background(), id)
		return err == nil && x.Terminal()
	}, 60*time.Second, 20*time.Millisecond)
	return x
}

// TestRateLimitedWorkflowIsSnoozedUntilTheReset runs a job against a fake GitHub that answers a
// rate limit first: the job is snoozed (not failed, no attempt spent) until the reset, then
// succeeds.
func TestRateLimitedWorkflowIsSnoozedUntilTheReset(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fault    func() ghapptest.Fault
		decide   bool
		want     time.Duration
		postgres bool
	}{
		{name: "429 with Retry-After", want: time.Second, fault: func() ghapptest.Fault {
			return ghapptest.Fault{Status: 429, Headers: map[string]string{"Retry-After": "1"}, Body: `{"message":"slow down"}`}
		}},
		{name: "429 with Retry-After on Postgres", want: time.Second, postgres: true, fault: func() ghapptest.Fault {
			return ghapptest.Fault{Status: 429, Headers: map[string]string{"Retry-After": "1"}, Body: `{"message":"slow down"}`}
		}},
		{name: "403 with the quota spent", decide: true, want: 2 * time.Second, fault: func() ghapptest.Fault {
			return ghapptest.Fault{Status: 403, Body: `{"message":"API rate limit exceeded"}`, Headers: map[string]string{
				"X-Ratelimit-Limit": "5000", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Used": "5000",
				"X-Ratelimit-Reset": strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10),
			}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gh := ghapptest.New(t)
			gh.HandleFunc("GET /repos/octo/app", func(w http.ResponseWriter, r *http.Request) {
				ghapptest.JSON(w, http.StatusOK, map[string]any{"id": 1, "name": "app", "full_name": "octo/app"})
			})
			fault := tc.fault()
			fault.Method, fault.Path, fault.Times = http.MethodGet, "/repos/octo/app", 1
			gh.Fail(fault)

			st := newStore(t)
			if tc.postgres {
				st = workflowstest.OpenStore(t, workflowstest.PostgresURL(t))
			}
			alerts := &fakeAlerts{}
			m := recovery.NewManager(st, withAlerts(testOptions(&fakeProbe{}), alerts))
			engine := startEngine(t, st, m, func(w *river.Workers) {
				river.AddWorker(w, &repoWorker{gh: gh.Client(ghapptest.ClientOptions{})})
			})
			res, err := engine.Enqueue(context.Background(), repoArgs{Owner: "octo", Repo: "app", Decide: tc.decide}, nil)
			require.NoError(t, err)

			x := waitTerminal(t, engine, res.ID)
			require.Equal(t, string(rivertype.JobStateCompleted), x.State)
			require.Empty(t, x.Errors, "a snooze is not a failed attempt")
			require.Equal(t, 1, x.Attempt)
			require.JSONEq(t, `{"full_name":"octo/app"}`, string(x.Output))
			require.Len(t, gh.Calls("GET /repos/octo/app"), 2)

			list := actions(t, m)
			require.Len(t, list, 1)
			require.Equal(t, recovery.ActionSnooze, list[0].Action)
			require.Equal(t, recovery.RateLimit, list[0].Class)
			require.Equal(t, res.ID, list[0].JobID)
			require.Equal(t, "octo/app", list[0].Repo)
			require.InDelta(t, tc.want.Seconds(), list[0].Delay.Seconds(), 1.5, "snoozed until the reset")
			raised, _ := alerts.snapshot()
			require.Empty(t, raised)
		})
	}
}

// TestHealRestartsAStuckEngine stops River's client behind the engine's back: the health check's
// auto_recovery finds it stuck and restarts it, and the waiting job runs.
func TestHealRestartsAStuckEngine(t *testing.T) {
	t.Parallel()
	gh := ghapptest.New(t)
	gh.HandleFunc("GET /repos/octo/app", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, http.StatusOK, map[string]any{"id": 1, "name": "app", "full_name": "octo/app"})
	})
	ctx := context.Background()
	for _, autoRestart := range []bool{false, true} {
		st := newStore(t)
		opts := testOptions(&fakeProbe{})
		opts.AutoRestart = autoRestart
		m := recovery.NewManager(st, withAlerts(opts, &fakeAlerts{}))
		engine := startEngine(t, st, m, func(w *river.Workers) {
			river.AddWorker(w, &repoWorker{gh: gh.Client(ghapptest.ClientOptions{})})
		})
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		require.NoError(t, engine.Client().Stop(stopCtx))
		cancel()
		require.False(t, engine.Running())
		res, err := engine.Enqueue(ctx, repoArgs{Owner: "octo", Repo: "app"}, nil)
		require.NoError(t, err)

		require.NoError(t, m.Heal(ctx, monitorReport(50)))
		list := actions(t, m)
		require.Len(t, list, 1)
		require.Equal(t, recovery.ActionRestartEngine, list[0].Action)
		require.Contains(t, list[0].Reason, "not running")
		if !autoRestart {
			require.Equal(t, "skipped: AUTO_RESTART_ENABLED is false", list[0].Outcome)
			require.False(t, engine.Running())
			require.Zero(t, engine.Restarts())
			continue
		}
		require.Equal(t, recovery.OutcomeOK, list[0].Outcome)
		require.True(t, engine.Running())
		require.Equal(t, int64(1), engine.Restarts())
		x := waitTerminal(t, engine, res.ID)
		require.Equal(t, string(rivertype.JobStateCompleted), x.State)

		// Healthy now: a second check restarts nothing.
		require.NoError(t, m.Heal(ctx, monitorReport(100)))
		require.Len(t, actions(t, m), 1)
	}
}

// healArgs is a job that calls Heal from inside the engine, as health_check's auto_recovery does.
type healArgs struct{}

func (healArgs) Kind() string { return "test_heal" }

type healWorker struct {
	river.WorkerDefaults[healArgs]
	m *recovery.Manager
}

func (w *healWorker) Work(ctx context.Context, _ *river.Job[healArgs]) error {
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return err
	}
	// A job that cannot start while this one holds the only worker: to the manager, which
	// believes in more workers, the engine looks stuck.
	if _, err := engine.Enqueue(ctx, repoArgs{Owner: "octo", Repo: "app"}, nil); err != nil {
		return err
	}
	for {
		stuck, _, err := w.m.Stuck(ctx)
		if err != nil {
			return err
		}
		if stuck {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return w.m.Heal(ctx, monitorReport(60))
}

// TestHealFromAJobRestartsBesideIt: the restart waits for running jobs, the healing one
// included, so it runs beside that job instead of deadlocking on it.
func TestHealFromAJobRestartsBesideIt(t *testing.T) {
	t.Parallel()
	gh := ghapptest.New(t)
	gh.HandleFunc("GET /repos/octo/app", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, http.StatusOK, map[string]any{"id": 1, "name": "app", "full_name": "octo/app"})
	})
	st := newStore(t)
	opts := testOptions(&fakeProbe{})
	opts.AutoRestart, opts.StuckAfter = true, time.Millisecond
	m := recovery.NewManager(st, withAlerts(opts, &fakeAlerts{}))
	workers := river.NewWorkers()
	river.AddWorker(workers, &repoWorker{gh: gh.Client(ghapptest.ClientOptions{})})
	river.AddWorker(workers, &healWorker{m: m})
	engine, err := workflows.NewEngine(st, workflows.Options{
		Workers: workers, MaxWorkers: 1, FetchPollInterval: 10 * time.Millisecond,
		Middleware: []rivertype.Middleware{m}, SoftStopTimeout: 10 * time.Second,
	})
	require.NoError(t, err)
	m.Attach(engine)
	ctx := context.Background()
	require.NoError(t, engine.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = engine.Stop(stopCtx)
	})

	heal, err := engine.Enqueue(ctx, healArgs{}, nil)
	require.NoError(t, err)
	x := waitTerminal(t, engine, heal.ID)
	require.Equal(t, string(rivertype.JobStateCompleted), x.State, "errors: %v", x.Errors)
	require.Eventually(t, func() bool { return engine.Restarts() == 1 && engine.Running() }, 30*time.Second, 10*time.Millisecond)
	list, err := engine.List(ctx, workflows.ListFilter{Kinds: []string{"test_repo_read"}})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, string(rivertype.JobStateCompleted), waitTerminal(t, engine, list[0].ID).State)
	require.Eventually(t, func() bool {
		return countAction(actions(t, m), recovery.ActionRestartEngine, recovery.OutcomeOK) == 1
	}, 30*time.Second, 10*time.Millisecond)
}
