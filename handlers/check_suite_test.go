package handlers

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkSuite is testdata/check_suite.completed.json (a failed suite of another CI) with edits.
func checkSuite(t *testing.T, edits ...edit) []byte {
	t.Helper()
	return payload(t, "check_suite.completed.json", edits...)
}

func TestCheckSuiteHandlerEnqueuesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []edit
	}{
		{"failed suite of another CI (its check runs are analyzed instead)", nil},
		{"timed out suite", []edit{set("check_suite.conclusion", "timed_out")}},
		{"GitHub Actions suite", []edit{set("check_suite.app", json.RawMessage(`{"id":15368,"slug":"github-actions"}`))}},
		{"the bot's suite", []edit{set("check_suite.app", json.RawMessage(`{"id":321,"slug":"autonomous-ci"}`))}},
		{"success", []edit{set("check_suite.conclusion", "success")}},
		{"requested", []edit{set("action", "requested"), set("check_suite.status", "queued"), set("check_suite.conclusion", nil)}},
		{"no app", []edit{del("check_suite.app")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &CheckSuiteHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci"}
			require.Equal(t, []string{"check_suite"}, h.Handles())
			require.NoError(t, h.Handle(context.Background(), "check_suite", "d1", checkSuite(t, tc.edits...)))
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
		"no repository": checkSuite(t, del("repository")),
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
