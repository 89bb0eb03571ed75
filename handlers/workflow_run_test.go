package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/failureanalysis"
	"github.com/contexten/autonomous/workflows/performancemonitoring"
	"github.com/contexten/autonomous/workflows/testoptimization"
)

// workflowRun is testdata/workflow_run.completed.json (a failed run of a pull request) with edits.
func workflowRun(t *testing.T, edits ...edit) []byte {
	t.Helper()
	return payload(t, "workflow_run.completed.json", edits...)
}

func TestWorkflowRunHandlerEnqueues(t *testing.T) {
	t.Parallel()
	noPRs := set("workflow_run.pull_requests", json.RawMessage(`[]`))
	pr := []string{"pr-1296269-42"}
	tests := []struct {
		name    string
		edits   []edit
		attempt int
		tags    []string
	}{
		{"failure on a pull request", nil, 1, pr},
		{"timed out", []edit{set("workflow_run.conclusion", "timed_out")}, 1, pr},
		{"failure on a push", []edit{noPRs}, 1, nil},
		{"failure of a second attempt", []edit{set("workflow_run.run_attempt", 2)}, 2, pr},
		{"success on a pull request (may resolve a reported failure)", []edit{set("workflow_run.conclusion", "success")}, 1, pr},
		{"first-attempt success of a push to the default branch (may clear a red-branch alert)", []edit{
			set("workflow_run.conclusion", "success"), set("workflow_run.event", "push"), set("workflow_run.head_branch", "main"), noPRs,
		}, 1, nil},
		{"success of a re-run without pull request (may be flaky)", []edit{
			set("workflow_run.conclusion", "success"), set("workflow_run.run_attempt", 3), noPRs,
		}, 3, nil},
		{"two pull requests", []edit{
			set("workflow_run.pull_requests.-1", json.RawMessage(`{"number":12,"head":{"sha":"x"}}`)),
			set("workflow_run.pull_requests.-1", json.RawMessage(`{"number":42}`)),
		}, 1, []string{"pr-1296269-42", "pr-1296269-12"}},
		{"no run_attempt (older GitHub Enterprise)", []edit{del("workflow_run.run_attempt")}, 1, pr},
		{"startup failure", []edit{set("workflow_run.conclusion", "startup_failure")}, 1, pr},
		{"success of a fork's pull request (GitHub lists no pull requests)", []edit{
			set("workflow_run.conclusion", "success"), noPRs,
			set("workflow_run.head_repository", json.RawMessage(`{"id":4242,"name":"hello-world","full_name":"mallory/hello-world","owner":{"login":"mallory"}}`)),
		}, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &WorkflowRunHandler{Base: Base{Jobs: jobs}}
			require.NoError(t, h.Handle(context.Background(), "workflow_run", "d1", workflowRun(t, tc.edits...)))
			got := jobs.Kind("failure_analysis")
			require.Len(t, got, 1)
			require.Equal(t, failureanalysis.Args{
				Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213, RunID: 30433642, RunAttempt: tc.attempt, Trigger: "webhook",
			}, got[0].Args)
			if tc.tags == nil {
				require.Nil(t, got[0].Opts)
				return
			}
			require.NotNil(t, got[0].Opts)
			require.Equal(t, tc.tags, got[0].Opts.Tags)
			for _, tag := range got[0].Opts.Tags {
				require.Regexp(t, `^[\w][\w\-]+[\w]$`, tag, "River rejects other tags")
			}
		})
	}
}

func TestWorkflowRunHandlerIgnores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []edit
	}{
		{"first-attempt success on a push", []edit{
			set("workflow_run.conclusion", "success"), set("workflow_run.pull_requests", json.RawMessage(`[]`)),
		}},
		{"first-attempt success of a push to another branch", []edit{
			set("workflow_run.conclusion", "success"), set("workflow_run.event", "push"), set("workflow_run.head_branch", "feature"),
			set("workflow_run.pull_requests", json.RawMessage(`[]`)),
		}},
		{"cancelled", []edit{set("workflow_run.conclusion", "cancelled")}},
		{"skipped", []edit{set("workflow_run.conclusion", "skipped")}},
		{"neutral", []edit{set("workflow_run.conclusion", "neutral")}},
		{"action requested", []edit{
			set("action", "requested"), set("workflow_run.status", "queued"), set("workflow_run.conclusion", nil),
		}},
		{"action in_progress", []edit{
			set("action", "in_progress"), set("workflow_run.status", "in_progress"), set("workflow_run.conclusion", nil),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &WorkflowRunHandler{Base: Base{Jobs: jobs}}
			require.Equal(t, []string{"workflow_run"}, h.Handles())
			require.NoError(t, h.Handle(context.Background(), "workflow_run", "d1", workflowRun(t, tc.edits...)))
			require.Empty(t, jobs.Kind("failure_analysis"))
		})
	}
}

// TestWorkflowRunHandlerCollectsTests: every completed attempt with test verdicts (passes too)
// is test optimization's evidence, one job per run attempt; runs without verdicts are not.
func TestWorkflowRunHandlerCollectsTests(t *testing.T) {
	t.Parallel()
	noPRs := set("workflow_run.pull_requests", json.RawMessage(`[]`))
	tests := []struct {
		name    string
		edits   []edit
		attempt int
		collect bool
	}{
		{"failure on a pull request", nil, 1, true},
		{"first-attempt success on a push", []edit{set("workflow_run.conclusion", "success"), noPRs}, 1, true},
		{"timed out second attempt", []edit{set("workflow_run.conclusion", "timed_out"), set("workflow_run.run_attempt", 2)}, 2, true},
		{"cancelled", []edit{set("workflow_run.conclusion", "cancelled")}, 0, false},
		{"skipped", []edit{set("workflow_run.conclusion", "skipped")}, 0, false},
		{"startup failure (no tests ran)", []edit{set("workflow_run.conclusion", "startup_failure")}, 0, false},
		{"in progress", []edit{set("action", "in_progress"), set("workflow_run.status", "in_progress"), set("workflow_run.conclusion", nil)}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &WorkflowRunHandler{Base: Base{Jobs: jobs}}
			require.NoError(t, h.Handle(context.Background(), "workflow_run", "d1", workflowRun(t, tc.edits...)))
			got := jobs.Kind("test_optimization")
			if !tc.collect {
				require.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			require.Equal(t, testoptimization.Args{
				Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213, RunID: 30433642, RunAttempt: tc.attempt, Trigger: "webhook",
			}, got[0].Args)
		})
	}
}

func TestWorkflowRunHandlerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		payload   []byte
		enqueue   error
		malformed bool
	}{
		{"not JSON", []byte(`{`), nil, true},
		{"no run", []byte(`{"action":"completed","repository":{"name":"w","owner":{"login":"a"}}}`), nil, true},
		{"no owner", workflowRun(t, del("repository.owner")), nil, true},
		{"database down", workflowRun(t), errors.New("database is locked"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &WorkflowRunHandler{Base: Base{Jobs: &optsEnqueuer{err: tc.enqueue}}}
			err := h.Handle(context.Background(), "workflow_run", "d1", tc.payload)
			require.Error(t, err)
			require.Equal(t, tc.malformed, IsMalformed(err))
			require.Equal(t, !tc.malformed, IsEnqueue(err))
		})
	}
}

// ofKind keeps the jobs of one kind.
func ofKind(jobs []insertedJob, kind string) []insertedJob {
	var out []insertedJob
	for _, j := range jobs {
		if j.Args.Kind() == kind {
			out = append(out, j)
		}
	}
	return out
}

// TestWorkflowRunHandlerEnqueuesPerformance: a completed run of a pull request, whatever its
// conclusion but cancelled or skipped, enqueues one performance check per pull request, tagged
// with it; a run without pull requests or not completed enqueues none.
func TestWorkflowRunHandlerEnqueuesPerformance(t *testing.T) {
	t.Parallel()
	perf := func(number int) performancemonitoring.Args {
		return performancemonitoring.Args{Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213, PullRequest: number,
			RunID: 30433642, HeadSHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e", Trigger: "webhook"}
	}
	tests := []struct {
		name  string
		edits []edit
		want  []performancemonitoring.Args
	}{
		{"failure", nil, []performancemonitoring.Args{perf(42)}},
		{"success", []edit{set("workflow_run.conclusion", "success")}, []performancemonitoring.Args{perf(42)}},
		{"neutral", []edit{set("workflow_run.conclusion", "neutral")}, []performancemonitoring.Args{perf(42)}},
		{"timed out", []edit{set("workflow_run.conclusion", "timed_out")}, []performancemonitoring.Args{perf(42)}},
		{"two pull requests, one twice", []edit{
			set("workflow_run.pull_requests.-1", json.RawMessage(`{"number":12}`)),
			set("workflow_run.pull_requests.-1", json.RawMessage(`{"number":42}`)),
		}, []performancemonitoring.Args{perf(42), perf(12)}},
		{"cancelled", []edit{set("workflow_run.conclusion", "cancelled")}, nil},
		{"skipped", []edit{set("workflow_run.conclusion", "skipped")}, nil},
		{"no pull request (a push)", []edit{set("workflow_run.pull_requests", json.RawMessage(`[]`))}, nil},
		{"in progress", []edit{set("action", "in_progress"), set("workflow_run.conclusion", nil)}, nil},
		{"a fork's pull request (GitHub lists none): found by the fork's head", []edit{
			set("workflow_run.conclusion", "success"), set("workflow_run.pull_requests", json.RawMessage(`[]`)),
			set("workflow_run.head_repository", json.RawMessage(`{"id":4242,"name":"hello-world","full_name":"mallory/hello-world","owner":{"login":"mallory"}}`)),
		}, []performancemonitoring.Args{{Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213, RunID: 30433642,
			HeadSHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e", ForkHead: "mallory:fix-greeting", Trigger: "webhook"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &WorkflowRunHandler{Base: Base{Jobs: jobs}}
			require.NoError(t, h.Handle(context.Background(), "workflow_run", "d1", workflowRun(t, tc.edits...)))
			got := ofKind(jobs.Jobs(), "performance_monitoring")
			require.Len(t, got, len(tc.want))
			for i, w := range tc.want {
				require.Equal(t, w, got[i].Args)
				if w.PullRequest == 0 {
					continue // a fork's: its number is not known yet
				}
				require.NotNil(t, got[i].Opts)
				require.Equal(t, []string{fmt.Sprintf("pr-1296269-%d", w.PullRequest)}, got[i].Opts.Tags)
			}
		})
	}
}
