package commands

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/dependencymanagement"
	"github.com/contexten/autonomous/workflows/failureanalysis"
	"github.com/contexten/autonomous/workflows/performancemonitoring"
)

// fakeClients returns the fake GitHub's client for every repository.
type fakeClients struct{ client *github.Client }

func (f fakeClients) ForRepo(context.Context, string, string, int64) (*github.Client, int64, error) {
	return f.client, 5, nil
}

func (f fakeClients) App() (*github.Client, error) { return f.client, nil }

// fakeConfigs returns a fixed repository configuration.
type fakeConfigs struct {
	cfg config.RepoConfig
	err error
}

func (f fakeConfigs) Load(context.Context, *github.Client, string, string) (config.RepoConfig, error) {
	return f.cfg, f.err
}

// analysisWorker stands in for the failure_analysis worker.
type analysisWorker struct {
	river.WorkerDefaults[failureanalysis.Args]
}

func (analysisWorker) Work(context.Context, *river.Job[failureanalysis.Args]) error { return nil }

// perfWorker stands in for performance monitoring: the tests look at the jobs commands enqueue.
type perfWorker struct {
	river.WorkerDefaults[performancemonitoring.Args]
}

func (perfWorker) Work(context.Context, *river.Job[performancemonitoring.Args]) error { return nil }

// testNow is the fixed clock of the worker tests.
var testNow = time.Date(2030, 1, 2, 15, 0, 0, 0, time.UTC)

type harness struct {
	gh     *fakeGitHub
	engine *workflows.Engine
}

func newHarness(t *testing.T, gh *fakeGitHub, configs fakeConfigs, opts ...func(*Deps)) *harness {
	t.Helper()
	ctx := context.Background()
	store, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	require.NoError(t, store.Migrate(ctx))
	require.NoError(t, store.Migrate(ctx), "Migrate is idempotent")

	workers := river.NewWorkers()
	deps := Deps{
		Clients: fakeClients{client: gh.client()}, Configs: configs, Store: store,
		AppSlug: "autonomous-ci", Now: func() time.Time { return testNow },
		// The fake answers at once: a create whose answer was lost has landed by then.
		CreateSettle: 200 * time.Millisecond,
	}
	for _, opt := range opts {
		opt(&deps)
	}
	river.AddWorker(workers, NewWorker(deps))
	river.AddWorker[failureanalysis.Args](workers, analysisWorker{})
	river.AddWorker[performancemonitoring.Args](workers, perfWorker{})
	river.AddWorker[dependencymanagement.Args](workers, depsWorker{})
	engine, err := workflows.NewEngine(store, workflows.Options{Workers: workers, Logger: zerolog.Nop(), RetryDelay: time.Hour})
	require.NoError(t, err)
	engine.Register(workflows.FailureAnalysis, failureanalysis.Build)
	engine.Register(workflows.PerformanceMonitoring, performancemonitoring.Build)
	engine.Register(workflows.DependencyManagement, dependencymanagement.Build)
	require.NoError(t, engine.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(stopCtx)
	})
	return &harness{gh: gh, engine: engine}
}

func defaultConfigs() fakeConfigs { return fakeConfigs{cfg: config.DefaultRepoConfig()} }

var testArgs = Args{Owner: "acme", Repo: "widgets", InstallationID: 5, RepoID: 42, Number: 7, CommentID: 9001, Author: "alice"}

// run enqueues the comment's job and waits until it left the running states.
func (h *harness) run(t *testing.T) *rivertype.JobRow {
	t.Helper()
	return h.runArgs(t, testArgs)
}

// runArgs is run with other args.
func (h *harness) runArgs(t *testing.T, args Args) *rivertype.JobRow {
	t.Helper()
	ins, err := h.engine.Enqueue(context.Background(), args, nil)
	require.NoError(t, err)
	return h.wait(t, ins.ID, 1)
}

// wait waits until job id has been attempted at least attempts times and is no longer running.
func (h *harness) wait(t *testing.T, id int64, attempts int) *rivertype.JobRow {
	t.Helper()
	var row *rivertype.JobRow
	require.Eventually(t, func() bool {
		var err error
		row, err = h.engine.Client().JobGet(context.Background(), id)
		require.NoError(t, err)
		switch row.State {
		case rivertype.JobStateAvailable, rivertype.JobStateRunning:
			return false
		case rivertype.JobStateScheduled:
			return row.AttemptedAt != nil // snoozed
		}
		return row.Attempt >= attempts
	}, 15*time.Second, 10*time.Millisecond)
	return row
}

func TestRetryByWriter(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "Flaky again.\n/ci retry")
	gh.addRun(101, 1, "abc1234def")
	gh.addRun(102, 1, "abc1234def") // newer run of the same workflow
	gh.addRun(201, 2, "abc1234def")
	gh.addRun(301, 3, "0ther")
	h := newHarness(t, gh, defaultConfigs())

	row := h.run(t)
	require.Equal(t, rivertype.JobStateCompleted, row.State)
	require.Equal(t, []string{
		"POST /repos/acme/widgets/actions/runs/102/rerun-failed-jobs",
		"POST /repos/acme/widgets/actions/runs/201/rerun-failed-jobs",
	}, gh.calls("rerun"))
	require.Equal(t, []string{"eyes", "rocket"}, gh.reactions())
	replies := gh.replies()
	require.Len(t, replies, 1)
	require.Contains(t, replies[0], ReplyMarker(9001))
	require.Contains(t, replies[0], "`/ci retry`")
	require.Contains(t, replies[0], "Re-ran 2 of 2 failed workflows")
	require.Contains(t, replies[0], "CI &lt;1&gt; #2", "workflow names are escaped")
	require.NotContains(t, replies[0], "CI <1>")

	var out Output
	require.NoError(t, json.Unmarshal(row.Output(), &out))
	require.Equal(t, []string{"retry"}, out.Commands)
	require.Equal(t, []string{"done"}, out.Statuses)
}

// TestRetryLatestRunPerWorkflowAndEvent re-runs the latest run of each workflow and event when
// it failed: a workflow run for both push and pull_request has two red checks, and a failed run
// superseded by a newer successful one of the same workflow is left alone.
func TestRetryLatestRunPerWorkflowAndEvent(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci retry")
	gh.addRunWith(101, 1, "abc1234def", "push", "failure")
	gh.addRunWith(102, 1, "abc1234def", "pull_request", "failure")
	gh.addRunWith(201, 2, "abc1234def", "pull_request", "failure")
	gh.addRunWith(202, 2, "abc1234def", "pull_request", "success") // the pull request was reopened
	gh.addRunWith(301, 3, "abc1234def", "pull_request", "cancelled")
	gh.addRunWith(401, 4, "abc1234def", "pull_request", "startup_failure") // nothing to re-run
	h := newHarness(t, gh, defaultConfigs())

	require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
	require.ElementsMatch(t, []string{
		"POST /repos/acme/widgets/actions/runs/101/rerun-failed-jobs",
		"POST /repos/acme/widgets/actions/runs/102/rerun-failed-jobs",
	}, gh.calls("rerun"))
	require.Contains(t, gh.replies()[0], "Re-ran 2 of 2 failed workflows")
}

func TestRetryRedeliveryActsOnce(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci retry")
	gh.addRun(101, 1, "abc1234def")
	h := newHarness(t, gh, defaultConfigs())

	first := h.run(t)
	require.Equal(t, rivertype.JobStateCompleted, first.State)

	// A redelivered webhook is a duplicate of the same job.
	ins, err := h.engine.Enqueue(context.Background(), testArgs, nil)
	require.NoError(t, err)
	require.True(t, ins.Duplicate)
	require.Equal(t, first.ID, ins.ID)

	// The same job run again (an operator retry): no second re-run, the reply is edited.
	gh.mu.Lock()
	gh.runs[0]["status"] = "completed" // even if the run failed again, the ledger says done
	gh.mu.Unlock()
	_, err = h.engine.Client().JobRetry(context.Background(), first.ID)
	require.NoError(t, err)
	second := h.wait(t, first.ID, 2)
	require.Equal(t, rivertype.JobStateCompleted, second.State)

	require.Len(t, gh.calls("rerun-failed-jobs"), 1)
	require.Len(t, gh.calls("POST /repos/acme/widgets/issues/7/comments"), 1)
	require.Len(t, gh.calls("PATCH /repos/acme/widgets/issues/comments/"), 1)
	require.Len(t, gh.replies(), 1)
	require.Contains(t, gh.replies()[0], "Re-ran 1 of 1")
}

// TestEditedCommentIsIgnored runs a comment only while it still reads as it was posted: an edit
// made before the job ran (or between its retries) runs nothing.
func TestEditedCommentIsIgnored(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci help\n/ci retry") // the body now, after an edit
	gh.addRun(101, 1, "abc1234def")
	h := newHarness(t, gh, defaultConfigs())

	args := testArgs
	args.BodyHash = BodyHash("/ci help") // the body the webhook reported
	require.Equal(t, rivertype.JobStateCompleted, h.runArgs(t, args).State)
	require.Empty(t, gh.calls("rerun"))
	require.Empty(t, gh.reactions())
	require.Empty(t, gh.replies())

	// The same comment unedited runs.
	args.BodyHash = BodyHash("/ci help\n/ci retry")
	_, err := h.engine.Client().JobDeleteMany(context.Background(), river.NewJobDeleteManyParams().Kinds(Kind))
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, h.runArgs(t, args).State)
	require.Len(t, gh.calls("rerun"), 1)
	require.Equal(t, []string{"eyes", "rocket"}, gh.reactions())
}

// TestReplyIgnoresOtherBotsQuotingTheMarker: only the app's own comment is its reply; another
// bot's comment carrying the marker (a quote) cannot be edited and is left alone.
func TestReplyIgnoresOtherBotsQuotingTheMarker(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci help")
	gh.prComments = append(gh.prComments, map[string]any{"id": int64(40000), "body": "quoting: " + ReplyMarker(9001),
		"user": map[string]any{"login": "quote-bot[bot]", "type": "Bot"}})
	gh.setOverride("PATCH", "/repos/acme/widgets/issues/comments/40000", override{Status: 403, Body: `{"message":"Forbidden"}`})
	h := newHarness(t, gh, defaultConfigs())

	require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
	require.Empty(t, gh.calls("PATCH"))
	require.Len(t, gh.calls("POST /repos/acme/widgets/issues/7/comments"), 1)
}

func TestReadOnlyUserIsRefused(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci retry")
	gh.author = "rita"
	gh.addRun(101, 1, "abc1234def")
	h := newHarness(t, gh, defaultConfigs())

	require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
	require.Empty(t, gh.calls("rerun"))
	require.Equal(t, []string{"GET /repos/acme/widgets/collaborators/rita/permission"}, gh.calls("collaborators"))
	require.Equal(t, []string{"eyes", "confused"}, gh.reactions())
	require.Len(t, gh.replies(), 1)
	require.Contains(t, gh.replies()[0], "needs the **write** permission")
	require.Contains(t, gh.replies()[0], "you have read permission")
}

func TestCommandReplies(t *testing.T) {
	t.Parallel()
	raised := config.DefaultRepoConfig()
	raised.Commands.Permissions = map[string]string{"retry": "admin", "help": "read"}
	custom := config.DefaultRepoConfig()
	custom.Commands.Prefix = "/bot"
	tests := []struct {
		name      string
		body      string
		author    string
		fork      bool
		configs   fakeConfigs
		reactions []string
		contains  []string
		absent    []string
		noCalls   []string
	}{
		{name: "help by mention", body: "@autonomous-ci help", author: "stranger",
			reactions: []string{"eyes", "rocket"}, contains: []string{"`/ci analyze [run-id]`", "`/ci retry`", "`/ci flaky`"}, absent: []string{"not available in this version"},
			noCalls: []string{"collaborators"}},
		{name: "unknown command", body: "/ci frobnicate <b>x</b>",
			reactions: []string{"eyes", "confused"}, contains: []string{"Unknown command `frobnicate`", "`/ci status`", "`/ci frobnicate <b>x</b>`"}, absent: []string{"\n<b>"}},
		{name: "audit needs write", body: "/ci audit", author: "rita",
			reactions: []string{"eyes", "confused"}, contains: []string{"needs the **write** permission"}},
		{name: "fix is honest", body: "/ci fix",
			reactions: []string{"eyes", "confused"}, contains: []string{"No AI fix agent is configured on this server"}},
		{name: "fix on a fork needs maintain", body: "/ci fix", fork: true,
			reactions: []string{"eyes", "confused"}, contains: []string{"needs the **maintain** permission", "you have write permission"}},
		{name: "configuration raises a permission", body: "/ci retry", configs: fakeConfigs{cfg: raised},
			reactions: []string{"eyes", "confused"}, contains: []string{"needs the **admin** permission"}, noCalls: []string{"rerun"}},
		{name: "configuration raises help", body: "/ci help", author: "stranger", configs: fakeConfigs{cfg: raised},
			reactions: []string{"eyes", "confused"}, contains: []string{"needs the **read** permission", "you have no permission"}},
		{name: "custom prefix", body: "/ci retry\n/bot help", configs: fakeConfigs{cfg: custom},
			reactions: []string{"eyes", "rocket"}, contains: []string{"`/bot help`", "`/bot retry`"}, noCalls: []string{"rerun"}},
		{name: "invalid config is shown", body: "/ci help", configs: fakeConfigs{cfg: config.DefaultRepoConfig(), err: errors.New("invalid .github/autonomous.yml: line 3: `oops`")},
			reactions: []string{"eyes", "rocket"}, contains: []string{"The repository configuration could not be used", "```text\ninvalid .github/autonomous.yml: line 3: `oops`\n```"}},
		{name: "nothing failed", body: "/ci retry\n/ci analyze",
			reactions: []string{"eyes", "rocket"}, contains: []string{"nothing to re-run", "nothing to analyze"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := newFakeGitHub(t, tt.body)
			gh.roles["stranger"] = "none"
			if tt.author != "" {
				gh.author = tt.author
			}
			gh.fork = tt.fork
			configs := tt.configs
			if configs.cfg.Commands.Prefix == "" {
				configs = defaultConfigs()
			}
			h := newHarness(t, gh, configs)
			require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
			require.Equal(t, tt.reactions, gh.reactions())
			require.Len(t, gh.replies(), 1)
			for _, s := range tt.contains {
				require.Contains(t, gh.replies()[0], s)
			}
			for _, s := range tt.absent {
				require.NotContains(t, gh.replies()[0], s)
			}
			for _, s := range tt.noCalls {
				require.Empty(t, gh.calls(s))
			}
		})
	}
}
