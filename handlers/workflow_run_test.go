package handlers

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/failureanalysis"
)

// workflowRunPayload is a workflow_run completed event, in GitHub's shape.
func workflowRunPayload(t *testing.T, mutate func(p, run map[string]any)) []byte {
	t.Helper()
	run := map[string]any{
		"id": 30433642, "name": "CI", "node_id": "WFR_kwLOA", "head_branch": "feature",
		"head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "path": ".github/workflows/ci.yml",
		"run_number": 562, "event": "pull_request", "status": "completed", "conclusion": "failure",
		"workflow_id": 159038, "check_suite_id": 414944374, "run_attempt": 1,
		"html_url": "https://github.com/acme/widgets/actions/runs/30433642",
		"pull_requests": []any{map[string]any{
			"url": "https://api.github.com/repos/acme/widgets/pulls/7", "id": 1007, "number": 7,
			"head": map[string]any{"ref": "feature", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "repo": map[string]any{"id": 42, "name": "widgets"}},
			"base": map[string]any{"ref": "main", "sha": "0000111122223333444455556666777788889999", "repo": map[string]any{"id": 42, "name": "widgets"}},
		}},
		"created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:07:00Z",
		"repository": repositoryJSON(), "head_repository": repositoryJSON(),
	}
	p := map[string]any{
		"action": "completed", "workflow_run": run, "repository": repositoryJSON(),
		"workflow":     map[string]any{"id": 159038, "name": "CI", "path": ".github/workflows/ci.yml"},
		"installation": map[string]any{"id": 5}, "sender": map[string]any{"login": "alice", "type": "User"},
	}
	return marshal(t, p, func(p map[string]any) {
		if mutate != nil {
			mutate(p, run)
		}
	})
}

func TestWorkflowRunHandlerEnqueues(t *testing.T) {
	t.Parallel()
	noPRs := func(r map[string]any) { r["pull_requests"] = []any{} }
	tests := []struct {
		name    string
		mutate  func(p, r map[string]any)
		attempt int
		tags    []string
	}{
		{"failure on a pull request", nil, 1, []string{"pr-42-7"}},
		{"timed out", func(_, r map[string]any) { r["conclusion"] = "timed_out" }, 1, []string{"pr-42-7"}},
		{"failure on a push", func(_, r map[string]any) { noPRs(r) }, 1, nil},
		{"failure of a second attempt", func(_, r map[string]any) { r["run_attempt"] = 2 }, 2, []string{"pr-42-7"}},
		{"success on a pull request (may resolve a reported failure)", func(_, r map[string]any) { r["conclusion"] = "success" }, 1, []string{"pr-42-7"}},
		{"success of a re-run without pull request (may be flaky)", func(_, r map[string]any) {
			r["conclusion"], r["run_attempt"] = "success", 3
			noPRs(r)
		}, 3, nil},
		{"two pull requests", func(_, r map[string]any) {
			r["pull_requests"] = append(r["pull_requests"].([]any), map[string]any{"number": 12, "head": map[string]any{"sha": "x"}}, map[string]any{"number": 7})
		}, 1, []string{"pr-42-7", "pr-42-12"}},
		{"no run_attempt (older GitHub Enterprise)", func(_, r map[string]any) { delete(r, "run_attempt") }, 1, []string{"pr-42-7"}},
		{"startup failure", func(_, r map[string]any) { r["conclusion"] = "startup_failure" }, 1, []string{"pr-42-7"}},
		{"success of a fork's pull request (GitHub lists no pull requests)", func(_, r map[string]any) {
			r["conclusion"] = "success"
			noPRs(r)
			r["head_repository"] = map[string]any{"id": 4242, "name": "widgets", "full_name": "mallory/widgets", "owner": map[string]any{"login": "mallory"}}
		}, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &WorkflowRunHandler{Base: Base{Jobs: jobs}}
			require.NoError(t, h.Handle(context.Background(), "workflow_run", "d1", workflowRunPayload(t, tc.mutate)))
			got := jobs.Jobs()
			require.Len(t, got, 1)
			require.Equal(t, failureanalysis.Args{
				Owner: "acme", Repo: "widgets", InstallationID: 5, RunID: 30433642, RunAttempt: tc.attempt, Trigger: "webhook",
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
		name   string
		mutate func(p, r map[string]any)
	}{
		{"first-attempt success on a push", func(_, r map[string]any) {
			r["conclusion"], r["pull_requests"] = "success", []any{}
		}},
		{"cancelled", func(_, r map[string]any) { r["conclusion"] = "cancelled" }},
		{"skipped", func(_, r map[string]any) { r["conclusion"] = "skipped" }},
		{"neutral", func(_, r map[string]any) { r["conclusion"] = "neutral" }},
		{"action requested", func(p, r map[string]any) {
			p["action"] = "requested"
			r["status"], r["conclusion"] = "queued", nil
		}},
		{"action in_progress", func(p, r map[string]any) {
			p["action"] = "in_progress"
			r["status"], r["conclusion"] = "in_progress", nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &WorkflowRunHandler{Base: Base{Jobs: jobs}}
			require.Equal(t, []string{"workflow_run"}, h.Handles())
			require.NoError(t, h.Handle(context.Background(), "workflow_run", "d1", workflowRunPayload(t, tc.mutate)))
			require.Empty(t, jobs.Jobs())
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
		{"no owner", workflowRunPayload(t, func(p, _ map[string]any) { delete(p["repository"].(map[string]any), "owner") }), nil, true},
		{"database down", workflowRunPayload(t, nil), errors.New("database is locked"), false},
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
