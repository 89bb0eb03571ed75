package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// testArgs is a job whose outcome the test chooses.
type testArgs struct {
	Owner string `json:"owner" river:"unique"`
	Repo  string `json:"repo" river:"unique"`
	N     int    `json:"n" river:"unique"`
	Fail  bool   `json:"fail"`
}

func (testArgs) Kind() string { return "test_job" }

func (testArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}, MaxAttempts: 1}
}

type testWorker struct {
	river.WorkerDefaults[testArgs]
}

func (testWorker) Work(ctx context.Context, job *river.Job[testArgs]) error {
	if job.Args.Fail {
		return errors.New("chosen failure")
	}
	return river.RecordOutput(ctx, map[string]int{"n": job.Args.N})
}

func newEngine(t testing.TB, url string, start bool) *workflows.Engine {
	t.Helper()
	st := workflowstest.OpenStore(t, url)
	workers := river.NewWorkers()
	river.AddWorker(workers, testWorker{})
	engine, err := workflows.NewEngine(st, workflows.Options{Workers: workers, FetchPollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	engine.Register(workflows.TestOptimization, func(repo workflows.Repo, p workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
		return testArgs{Owner: repo.Owner, Repo: repo.Name, N: int(p.Int("lookback_runs", 0))}, nil, nil
	})
	if start {
		require.NoError(t, engine.Start(context.Background()))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	return engine
}

func waitState(t testing.TB, engine *workflows.Engine, id int64, state string) workflows.Execution {
	t.Helper()
	var x workflows.Execution
	require.Eventually(t, func() bool {
		var err error
		x, err = engine.Status(context.Background(), id)
		require.NoError(t, err)
		return x.State == state
	}, 10*time.Second, 10*time.Millisecond, "execution %d never reached %s", id, state)
	return x
}

func TestEngineTriggerStatusListMetrics(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			engine := newEngine(t, db.URL, true)
			repo := workflows.Repo{Owner: "octo", Name: "app"}

			ins, err := engine.Trigger(ctx, workflows.TestOptimization, repo, map[string]any{"lookback_runs": "7"})
			require.NoError(t, err)
			require.False(t, ins.Duplicate)
			x := waitState(t, engine, ins.ID, "completed")
			require.Equal(t, "octo/app", x.Repo)
			require.JSONEq(t, `{"n":7}`, string(x.Output))
			require.NotNil(t, x.FinishedAt)

			failed, err := engine.Enqueue(ctx, testArgs{Owner: "octo", Repo: "app", N: 99, Fail: true}, nil)
			require.NoError(t, err)
			waitState(t, engine, failed.ID, "discarded")

			list, err := engine.List(ctx, workflows.ListFilter{Kinds: []string{"test_job"}})
			require.NoError(t, err)
			require.Len(t, list, 2)
			require.Equal(t, failed.ID, list[0].ID, "newest first")

			m, err := engine.Metrics(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, m.Counts["test_job"]["completed"])
			require.Equal(t, 1, m.Counts["test_job"]["discarded"])
			require.InDelta(t, 0.5, m.SuccessRate, 0.001)
			require.Greater(t, m.ErrorRate, 0.0)
			require.GreaterOrEqual(t, m.DurationP95MS, m.DurationP50MS)

			_, err = engine.Status(ctx, 424242)
			require.ErrorIs(t, err, workflows.ErrNotFound)
		})
	}
}

func TestEngineTriggerErrors(t *testing.T) {
	t.Parallel()
	engine := newEngine(t, workflowstest.SQLiteURL(t), false)
	ctx := context.Background()
	repo := workflows.Repo{Owner: "octo", Name: "app"}
	_, err := engine.Trigger(ctx, "nope", repo, nil)
	require.ErrorContains(t, err, `unknown workflow kind "nope"`)
	_, err = engine.Trigger(ctx, workflows.DependencyManagement, repo, nil)
	require.ErrorIs(t, err, workflows.ErrNoWorker)
	_, err = engine.Trigger(ctx, workflows.TestOptimization, workflows.Repo{}, nil)
	require.ErrorContains(t, err, "needs a repository")
	_, err = engine.Trigger(ctx, workflows.TestOptimization, repo, map[string]any{"lookback_runs": "many"})
	require.ErrorContains(t, err, `parameter "lookback_runs" must be an integer`)
	// Every one of them is the caller's mistake, told apart from the engine's own failures.
	for _, tc := range []struct {
		kind workflows.Kind
		repo workflows.Repo
		raw  map[string]any
	}{
		{"nope", repo, nil}, {workflows.DependencyManagement, repo, nil}, {workflows.TestOptimization, workflows.Repo{}, nil},
		{workflows.TestOptimization, repo, map[string]any{"lookback_runs": "many"}},
	} {
		_, err := engine.Trigger(ctx, tc.kind, tc.repo, tc.raw)
		var invalid *workflows.InvalidRequestError
		require.ErrorAs(t, err, &invalid, "%s", tc.kind)
	}
}

// TestEnqueueGroupsAndDeduplicates sends many concurrent inserts: distinct jobs all land, and
// identical ones (a redelivered webhook) land once, whether they share a batch or not.
func TestEnqueueGroupsAndDeduplicates(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			engine := newEngine(t, db.URL, false)
			const distinct, copies = 200, 5
			var mu sync.Mutex
			ids := map[int]map[int64]int{}
			fresh := map[int]int{}
			var wg sync.WaitGroup
			for n := range distinct {
				for range copies {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ins, err := engine.Enqueue(ctx, testArgs{Owner: "o", Repo: "r", N: n}, nil)
						require.NoError(t, err)
						mu.Lock()
						defer mu.Unlock()
						if ids[n] == nil {
							ids[n] = map[int64]int{}
						}
						ids[n][ins.ID]++
						if !ins.Duplicate {
							fresh[n]++
						}
					}()
				}
			}
			wg.Wait()
			for n := range distinct {
				require.Len(t, ids[n], 1, "job %d got several ids", n)
				require.Equal(t, 1, fresh[n], "job %d inserted %d times", n, fresh[n])
			}
			m, err := engine.Metrics(ctx)
			require.NoError(t, err)
			require.Equal(t, distinct, m.Counts["test_job"]["available"])
			require.Equal(t, distinct, m.QueueDepth)
		})
	}
}

func TestEnqueueAfterStop(t *testing.T) {
	t.Parallel()
	engine := newEngine(t, workflowstest.SQLiteURL(t), true)
	require.NoError(t, engine.Stop(context.Background()))
	_, err := engine.Enqueue(context.Background(), testArgs{N: 1}, nil)
	require.ErrorIs(t, err, workflows.ErrStopped)
	require.False(t, engine.Running())
}

func TestInstallationsAndRecords(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			now := time.Now().UTC().Truncate(time.Second)
			inst := store.Installation{ID: 7, Account: "octo", AccountType: "Organization", Repositories: []string{"octo/b", "octo/a"}, UpdatedAt: now}
			require.NoError(t, st.SaveInstallation(ctx, inst))
			require.NoError(t, st.ChangeInstallationRepositories(ctx, store.Installation{ID: 7, Account: "octo", UpdatedAt: now},
				[]string{"octo/c"}, []string{"octo/a"}))
			got, err := st.Installation(ctx, 7)
			require.NoError(t, err)
			require.ElementsMatch(t, []string{"octo/b", "octo/c"}, got.Repositories)
			all, err := st.Installations(ctx)
			require.NoError(t, err)
			require.Len(t, all, 1)
			require.NoError(t, st.DeleteInstallation(ctx, 7))
			got, err = st.Installation(ctx, 7)
			require.NoError(t, err)
			require.Nil(t, got)

			rep, err := st.PRReport(ctx, "octo", "a", 5)
			require.NoError(t, err)
			require.Zero(t, rep.CommentID)
			rep.CommentID, rep.Sections = 99, `{"k":{}}`
			require.NoError(t, st.SavePRReport(ctx, rep))
			rep, err = st.PRReport(ctx, "octo", "a", 5)
			require.NoError(t, err)
			require.Equal(t, int64(99), rep.CommentID)

			for attempt := 1; attempt <= 2; attempt++ {
				require.NoError(t, st.SaveRunResult(ctx, store.RunResult{
					Owner: "octo", Repo: "a", RunID: 3, Attempt: attempt, HeadSHA: "abc", Workflow: "ci",
					Conclusion: "failure", Fingerprints: []string{fmt.Sprint("fp", attempt)},
				}))
			}
			runs, err := st.RunResults(ctx, "octo", "a", 3)
			require.NoError(t, err)
			require.Len(t, runs, 2)
			require.Equal(t, []string{"fp2"}, runs[1].Fingerprints)
			byCommit, err := st.RunResultsForCommit(ctx, "octo", "a", "abc")
			require.NoError(t, err)
			require.Len(t, byCommit, 2)
		})
	}
}

// TestTriggerPassesOnlyGivenParams: the builder sees as given only what the caller passed (the
// defaults stay readable but unset), the origin it was told, and the job carries the tags.
func TestTriggerPassesOnlyGivenParams(t *testing.T) {
	t.Parallel()
	engine := newEngine(t, workflowstest.SQLiteURL(t), false)
	ctx := context.Background()
	var seen []workflows.Params
	engine.Register(workflows.FailureAnalysis, func(repo workflows.Repo, p workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
		seen = append(seen, p)
		return testArgs{Owner: repo.Owner, Repo: repo.Name, N: len(seen)}, nil, nil
	})
	repo := workflows.Repo{Owner: "octo", Name: "app"}
	ins, err := engine.Trigger(ctx, workflows.FailureAnalysis, repo, map[string]any{"workflow_run_id": int64(5)},
		workflows.By("comment:9"), workflows.Tagged("pr-1-2"))
	require.NoError(t, err)
	_, err = engine.Trigger(ctx, workflows.FailureAnalysis, repo, map[string]any{"workflow_run_id": "6", "auto_fix_enabled": "false"})
	require.NoError(t, err)

	require.Len(t, seen, 2)
	require.Equal(t, map[string]any{"workflow_run_id": int64(5)}, seen[0].Given())
	require.False(t, seen[0].Has("auto_fix_enabled"))
	require.False(t, seen[0].Has("create_pr_for_fixes"))
	require.True(t, seen[0].Bool("create_pr_for_fixes", false), "the spec's default is still readable")
	require.Equal(t, "comment:9", seen[0].Origin())
	require.True(t, seen[1].Has("auto_fix_enabled"))
	require.Regexp(t, `^cli:\d+$`, seen[1].Origin())

	job, err := engine.Client().JobGet(ctx, ins.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"pr-1-2"}, job.Tags)
}
