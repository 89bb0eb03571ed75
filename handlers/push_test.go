package handlers

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/performancemonitoring"
)

// pushPayload is testdata/push.json (a push to main) with edits.
func pushPayload(t *testing.T, edits ...edit) []byte {
	t.Helper()
	return payload(t, "push.json", edits...)
}

func TestPushHandlerEnqueuesPerformance(t *testing.T) {
	t.Parallel()
	const after = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	tests := []struct {
		name   string
		edits  []edit
		branch string // "" : nothing enqueued
	}{
		{"push to the default branch", nil, "main"},
		// The worker, which reads the repository's configuration, decides whether it is the baseline.
		{"push to another branch", []edit{set("ref", "refs/heads/develop")}, "develop"},
		{"branch with slashes", []edit{set("ref", "refs/heads/release/1.x")}, "release/1.x"},
		{"tag", []edit{set("ref", "refs/tags/v1.0.0")}, ""},
		{"branch deleted", []edit{set("deleted", true), set("after", "0000000000000000000000000000000000000000")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &PushHandler{Base: Base{Jobs: jobs}}
			require.Equal(t, []string{"push"}, h.Handles())
			require.NoError(t, h.Handle(context.Background(), "push", "d1", pushPayload(t, tc.edits...)))
			got := jobs.Kind("performance_monitoring")
			if tc.branch == "" {
				require.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			require.Equal(t, performancemonitoring.Args{Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213,
				Branch: tc.branch, HeadSHA: after, DefaultBranch: "main", Trigger: "push"}, got[0].Args)
		})
	}
}

func TestPushHandlerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		payload   []byte
		enqueue   error
		malformed bool
	}{
		{"not JSON", []byte(`{`), nil, true},
		{"no ref", pushPayload(t, del("ref")), nil, true},
		{"after is not a SHA", pushPayload(t, set("after", "main")), nil, true},
		{"deleted is not a boolean", pushPayload(t, set("deleted", "yes")), nil, true},
		{"owner with a path", pushPayload(t, set("repository.owner.login", "../../admin")), nil, true},
		{"database down", pushPayload(t), errors.New("database is locked"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{err: tc.enqueue}
			h := &PushHandler{Base: Base{Jobs: jobs}}
			err := h.Handle(context.Background(), "push", "d1", tc.payload)
			require.Error(t, err)
			require.Equal(t, tc.malformed, IsMalformed(err), "%v", err)
			require.Equal(t, !tc.malformed, IsEnqueue(err), "%v", err)
		})
	}
}
