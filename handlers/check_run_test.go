package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/failureanalysis"
)

// insertedJob is one job given to the fake enqueuer, with its options.
type insertedJob struct {
	Args river.JobArgs
	Opts *river.InsertOpts
}

// optsEnqueuer is a fake Enqueuer that records the args and insert options it is given.
type optsEnqueuer struct {
	mu   sync.Mutex
	jobs []insertedJob
	err  error
}

func (e *optsEnqueuer) Enqueue(_ context.Context, args river.JobArgs, opts *river.InsertOpts) (workflows.Inserted, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return workflows.Inserted{}, e.err
	}
	e.jobs = append(e.jobs, insertedJob{Args: args, Opts: opts})
	return workflows.Inserted{ID: int64(len(e.jobs))}, nil
}

func (e *optsEnqueuer) Jobs() []insertedJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]insertedJob(nil), e.jobs...)
}

// repositoryJSON and installationJSON are the common parts of every payload.
func repositoryJSON() map[string]any {
	return map[string]any{
		"id": 42, "node_id": "R_kgDOA", "name": "widgets", "full_name": "acme/widgets", "private": false,
		"owner":    map[string]any{"login": "acme", "id": 7, "type": "Organization"},
		"html_url": "https://github.com/acme/widgets", "default_branch": "main",
	}
}

func marshal(t *testing.T, p map[string]any, mutate func(map[string]any)) []byte {
	t.Helper()
	if mutate != nil {
		mutate(p)
	}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return b
}

// checkRunPayload is a check_run completed event of a third-party CI, in GitHub's shape.
func checkRunPayload(t *testing.T, mutate func(p, checkRun map[string]any)) []byte {
	t.Helper()
	checkRun := map[string]any{
		"id": 4242, "node_id": "CR_kwDOA", "name": "ci/circleci: build", "head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
		"external_id": "8812", "status": "completed", "conclusion": "failure",
		"url":         "https://api.github.com/repos/acme/widgets/check-runs/4242",
		"html_url":    "https://github.com/acme/widgets/runs/4242",
		"details_url": "https://circleci.com/gh/acme/widgets/8812",
		"started_at":  "2024-05-01T10:00:00Z", "completed_at": "2024-05-01T10:04:00Z",
		"output": map[string]any{"title": "Build failed", "summary": "1 error", "text": nil, "annotations_count": 0},
		"check_suite": map[string]any{"id": 5551, "head_branch": "feature", "head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
			"status": "completed", "conclusion": "failure"},
		"app": map[string]any{"id": 18001, "slug": "circleci-checks", "name": "CircleCI Checks",
			"owner": map[string]any{"login": "circleci", "type": "Organization"}},
		"pull_requests": []any{map[string]any{
			"url": "https://api.github.com/repos/acme/widgets/pulls/7", "id": 1007, "number": 7,
			"head": map[string]any{"ref": "feature", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "repo": map[string]any{"id": 42, "name": "widgets"}},
			"base": map[string]any{"ref": "main", "sha": "0000111122223333444455556666777788889999", "repo": map[string]any{"id": 42, "name": "widgets"}},
		}},
	}
	p := map[string]any{
		"action": "completed", "check_run": checkRun, "repository": repositoryJSON(),
		"installation": map[string]any{"id": 5, "node_id": "MDIzOk"}, "sender": map[string]any{"login": "circleci[bot]", "type": "Bot"},
	}
	return marshal(t, p, func(p map[string]any) {
		if mutate != nil {
			mutate(p, checkRun)
		}
	})
}

func TestCheckRunHandlerEnqueues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(p, c map[string]any)
		tags   []string
	}{
		{"failure on a pull request", nil, []string{"pr-42-7"}},
		{"timed out", func(_, c map[string]any) { c["conclusion"] = "timed_out" }, []string{"pr-42-7"}},
		{"no pull request", func(_, c map[string]any) { c["pull_requests"] = []any{} }, nil},
		{"two pull requests", func(_, c map[string]any) {
			prs := c["pull_requests"].([]any)
			c["pull_requests"] = append(prs, map[string]any{"number": 9, "head": map[string]any{"sha": "x"}})
		}, []string{"pr-42-7", "pr-42-9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &CheckRunHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci", AppID: 321}
			require.Equal(t, []string{"check_run"}, h.Handles())
			require.NoError(t, h.Handle(context.Background(), "check_run", "d1", checkRunPayload(t, tc.mutate)))
			got := jobs.Jobs()
			require.Len(t, got, 1)
			require.Equal(t, failureanalysis.Args{
				Owner: "acme", Repo: "widgets", InstallationID: 5, CheckRunID: 4242, Trigger: "webhook",
			}, got[0].Args)
			if tc.tags == nil {
				require.Nil(t, got[0].Opts)
			} else {
				require.NotNil(t, got[0].Opts)
				require.Equal(t, tc.tags, got[0].Opts.Tags)
				require.Empty(t, got[0].Opts.UniqueOpts, "uniqueness comes from the args")
			}
		})
	}
}

func TestCheckRunHandlerIgnores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(p, c map[string]any)
	}{
		{"GitHub Actions job", func(_, c map[string]any) {
			c["app"] = map[string]any{"id": 15368, "slug": "github-actions", "name": "GitHub Actions"}
		}},
		{"the bot's check run by name", func(_, c map[string]any) { c["name"] = failureanalysis.CheckRunName }},
		{"the bot's check run by slug", func(_, c map[string]any) {
			c["name"] = "something else"
			c["app"] = map[string]any{"id": 999, "slug": "Autonomous-CI"}
		}},
		{"the bot's check run by app id", func(_, c map[string]any) {
			c["app"] = map[string]any{"id": 321, "slug": "renamed"}
		}},
		{"success", func(_, c map[string]any) { c["conclusion"] = "success" }},
		{"neutral", func(_, c map[string]any) { c["conclusion"] = "neutral" }},
		{"cancelled", func(_, c map[string]any) { c["conclusion"] = "cancelled" }},
		{"action created", func(p, c map[string]any) {
			p["action"] = "created"
			c["status"], c["conclusion"] = "queued", nil
		}},
		{"action rerequested", func(p, _ map[string]any) { p["action"] = "rerequested" }},
		{"action requested_action", func(p, _ map[string]any) { p["action"] = "requested_action" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &CheckRunHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci", AppID: 321}
			require.NoError(t, h.Handle(context.Background(), "check_run", "d1", checkRunPayload(t, tc.mutate)))
			require.Empty(t, jobs.Jobs())
		})
	}
}

func TestCheckRunHandlerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		payload   []byte
		enqueue   error
		malformed bool
	}{
		{"not JSON", []byte(`{"action":`), nil, true},
		{"not an object", []byte(`[1,2]`), nil, true},
		{"no check run", []byte(`{"action":"completed","repository":{"name":"w","owner":{"login":"a"}}}`), nil, true},
		{"no repository", checkRunPayload(t, func(p, _ map[string]any) { delete(p, "repository") }), nil, true},
		{"database down", checkRunPayload(t, nil), errors.New("database is locked"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &CheckRunHandler{Base: Base{Jobs: &optsEnqueuer{err: tc.enqueue}}}
			err := h.Handle(context.Background(), "check_run", "d1", tc.payload)
			require.Error(t, err)
			require.Equal(t, tc.malformed, IsMalformed(err))
			require.Equal(t, !tc.malformed, IsEnqueue(err))
		})
	}
}
