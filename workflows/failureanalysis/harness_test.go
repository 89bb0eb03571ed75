package failureanalysis

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// harness runs the real worker in a real workflows.Engine (River over SQLite, as in
// production) against the fake GitHub.
type harness struct {
	gh     *fakeGitHub
	store  *store.Store
	worker *Worker
	engine *workflows.Engine
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{gh: newFakeGitHub(t), store: workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))}
	h.worker = NewWorker(Deps{
		Clients: h.gh, Configs: config.NewRepoConfigLoader(0), Records: h.store,
		LogClient: h.gh.blob.Client(),
		// GitHub's fake answers at once: a create whose answer was lost has landed by then.
		CreateSettle: 200 * time.Millisecond,
	})
	workers := river.NewWorkers()
	river.AddWorker(workers, h.worker)
	h.engine = workflowstest.StartEngine(t, h.store, workers)
	return h
}

// enqueue inserts a job as a handler would.
func (h *harness) enqueue(t *testing.T, args Args) workflows.Inserted {
	t.Helper()
	ins, err := h.engine.Enqueue(context.Background(), args, nil)
	require.NoError(t, err)
	return ins
}

// wait waits until the execution is terminal and returns it.
func (h *harness) wait(t *testing.T, id int64) workflows.Execution {
	t.Helper()
	var x workflows.Execution
	require.Eventually(t, func() bool {
		var err error
		x, err = h.engine.Status(context.Background(), id)
		require.NoError(t, err)
		return x.Terminal()
	}, 20*time.Second, 10*time.Millisecond)
	return x
}

// analyze runs one job that must complete and returns its recorded output.
func (h *harness) analyze(t *testing.T, args Args) Output {
	t.Helper()
	x := h.wait(t, h.enqueue(t, args).ID)
	require.Equal(t, "completed", x.State, "errors: %v", x.Errors)
	var out Output
	require.NoError(t, json.Unmarshal(x.Output, &out))
	return out
}

// workDirect calls Work without River, for the error paths (they return before the output is
// recorded) and returns the error River would get.
func (h *harness) workDirect(args Args) error {
	return h.worker.Work(context.Background(), &river.Job[Args]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: args})
}

// webhookArgs are the args the workflow_run handler enqueues for run id and attempt.
func webhookArgs(runID int64, attempt int) Args {
	return Args{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, RunID: runID, RunAttempt: attempt, Trigger: "webhook"}
}

// actionsLog builds a GitHub Actions job log: timestamped lines with the step's group.
func actionsLog(step string, lines ...string) string {
	var b strings.Builder
	stamp := func(i int) string { return fmt.Sprintf("2024-05-01T10:00:%02d.%07dZ ", i%60, 1000*i) }
	head := []string{
		"Current runner version: '2.316.1'",
		"##[group]Operating System",
		"Ubuntu",
		"22.04.4",
		"LTS",
		"##[endgroup]",
		"##[group]Run actions/checkout@v4",
		"Syncing repository: acme/widgets",
		"##[endgroup]",
		"##[group]Run " + step,
		step,
		"shell: /usr/bin/bash -e {0}",
		"##[endgroup]",
	}
	all := append(head, lines...)
	all = append(all, "##[error]Process completed with exit code 1.", "Post job cleanup.", "Cleaning up orphan processes")
	for i, l := range all {
		b.WriteString(stamp(i) + l + "\n")
	}
	return b.String()
}

// Logs of typical failures.
var (
	testFailureLog = actionsLog("go test -race ./...",
		"ok  \tgithub.com/acme/widgets/api\t0.412s",
		"--- FAIL: TestParseWidget (0.00s)",
		"    parser_test.go:42: expected 3 widgets, got 4",
		"FAIL",
		"FAIL\tgithub.com/acme/widgets/parser\t0.019s",
		"FAIL",
	)
	buildErrorLog = actionsLog("go build ./...",
		"go: downloading github.com/jmoiron/sqlx v1.3.5",
		"# github.com/acme/widgets/internal/store",
		"internal/store/store.go:42:17: undefined: sqlx.Connectx",
	)
	networkErrorLog = actionsLog("go mod download",
		"go: github.com/jmoiron/sqlx@v1.3.5: Get \"https://proxy.golang.org/github.com/jmoiron/sqlx/@v/v1.3.5.mod\": dial tcp: lookup proxy.golang.org on 127.0.0.53:53: read udp 127.0.0.1:41234->127.0.0.53:53: i/o timeout",
		"error: connection reset by peer",
	)
)

const (
	headSHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	runID   = int64(30433642)
)

// failedRun is a CI run on pull request #7: a matrix test job failing twice the same way and a
// build job failing differently.
func failedRun() *fakeRun {
	return &fakeRun{
		ID: runID, Name: "CI", WorkflowID: 159038, HeadSHA: headSHA, Status: "completed", PullNumbers: []int{7},
		Attempts: []fakeAttempt{{Conclusion: "failure", Jobs: []fakeJob{
			{ID: 399444496, Name: "test (ubuntu-latest, 1.22)", Conclusion: "failure", FailedStep: "Run go test -race ./...", Log: testFailureLog},
			{ID: 399444497, Name: "test (ubuntu-latest, 1.23)", Conclusion: "failure", FailedStep: "Run go test -race ./...", Log: strings.ReplaceAll(testFailureLog, "0.019s", "0.023s")},
			{ID: 399444498, Name: "build", Conclusion: "failure", FailedStep: "Run go build ./...", Log: buildErrorLog},
			{ID: 399444499, Name: "lint", Conclusion: "success", FailedStep: "", Log: "all good\n"},
		}}},
	}
}

// singleJobRun is a run with one failed job whose log is given.
func singleJobRun(log string, attempts int) *fakeRun {
	run := &fakeRun{ID: runID, Name: "CI", WorkflowID: 159038, HeadSHA: headSHA, Status: "completed", PullNumbers: []int{7}}
	for i := range attempts {
		run.Attempts = append(run.Attempts, fakeAttempt{Conclusion: "failure", Jobs: []fakeJob{
			{ID: 399444496 + int64(10*i), Name: "test", Conclusion: "failure", FailedStep: "Run go mod download", Log: log},
		}})
	}
	return run
}

// checkRunOutput returns a created check run's output fields.
func checkRunOutput(t *testing.T, check map[string]any) (title, summary string, annotations []map[string]any) {
	t.Helper()
	out, ok := check["output"].(map[string]any)
	require.True(t, ok, "check run has no output")
	title, _ = out["title"].(string)
	summary, _ = out["summary"].(string)
	raw, _ := out["annotations"].([]any)
	for _, a := range raw {
		annotations = append(annotations, a.(map[string]any))
	}
	return title, summary, annotations
}
