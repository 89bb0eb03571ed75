package handlers

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkSuitePayload is a check_suite completed event, in GitHub's shape.
func checkSuitePayload(t *testing.T, mutate func(p, suite map[string]any)) []byte {
	t.Helper()
	suite := map[string]any{
		"id": 5551, "node_id": "CS_kwDOA", "head_branch": "feature", "head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
		"status": "completed", "conclusion": "failure", "before": "0000111122223333444455556666777788889999",
		"after": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "latest_check_runs_count": 3,
		"check_runs_url": "https://api.github.com/repos/acme/widgets/check-suites/5551/check-runs",
		"app":            map[string]any{"id": 18001, "slug": "circleci-checks", "name": "CircleCI Checks"},
		"pull_requests":  []any{map[string]any{"number": 7, "head": map[string]any{"ref": "feature", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"}}},
	}
	p := map[string]any{
		"action": "completed", "check_suite": suite, "repository": repositoryJSON(),
		"installation": map[string]any{"id": 5}, "sender": map[string]any{"login": "circleci[bot]", "type": "Bot"},
	}
	return marshal(t, p, func(p map[string]any) {
		if mutate != nil {
			mutate(p, suite)
		}
	})
}

func TestCheckSuiteHandlerEnqueuesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(p, s map[string]any)
	}{
		{"failed suite of another CI (its check runs are analyzed instead)", nil},
		{"timed out suite", func(_, s map[string]any) { s["conclusion"] = "timed_out" }},
		{"GitHub Actions suite", func(_, s map[string]any) { s["app"] = map[string]any{"id": 15368, "slug": "github-actions"} }},
		{"the bot's suite", func(_, s map[string]any) { s["app"] = map[string]any{"id": 321, "slug": "autonomous-ci"} }},
		{"success", func(_, s map[string]any) { s["conclusion"] = "success" }},
		{"requested", func(p, s map[string]any) {
			p["action"] = "requested"
			s["status"], s["conclusion"] = "queued", nil
		}},
		{"no app", func(_, s map[string]any) { delete(s, "app") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &CheckSuiteHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci"}
			require.Equal(t, []string{"check_suite"}, h.Handles())
			require.NoError(t, h.Handle(context.Background(), "check_suite", "d1", checkSuitePayload(t, tc.mutate)))
			require.Empty(t, jobs.Jobs())
		})
	}
}

func TestCheckSuiteHandlerRejectsMalformedPayloads(t *testing.T) {
	t.Parallel()
	for name, payload := range map[string][]byte{
		"not JSON":      []byte("check_suite"),
		"not an object": []byte(`"completed"`),
		"no suite":      []byte(`{"action":"completed","repository":{"name":"w","owner":{"login":"a"}}}`),
		"no repository": checkSuitePayload(t, func(p, _ map[string]any) { delete(p, "repository") }),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := &CheckSuiteHandler{Base: Base{Jobs: &optsEnqueuer{}}}
			err := h.Handle(context.Background(), "check_suite", "d1", payload)
			require.Error(t, err)
			require.True(t, IsMalformed(err))
		})
	}
}
