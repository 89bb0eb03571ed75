package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/workflows"
)

// A completed check suite on a dependency update branch, signed and POSTed like GitHub does,
// starts one merge-when-green check for that head (a redelivery adds nothing); the check finds
// no open update PR for the branch and says so.
func TestCheckSuiteOnUpdateBranchStartsOneMergeCheck(t *testing.T) {
	e := startE2E(t)
	e.gh.srv.HandleFunc("GET "+e2eRepo+"/pulls", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, []any{})
	})
	body, err := sjson.SetBytes(handlersFixture(t, "check_suite.completed.json"), "check_suite.head_branch", "autonomous-ci/deps/go-example.com-dep")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, deliver(t, e.app, "check_suite", "deps-1", body))
	require.Equal(t, http.StatusOK, deliver(t, e.app, "check_suite", "deps-1", body), "redelivery")

	var x workflows.Execution
	require.Eventually(t, func() bool {
		list, err := e.app.engine.List(t.Context(), listAll(string(workflows.DependencyManagement), 10))
		require.NoError(t, err)
		n := 0
		for _, it := range list {
			var a struct{ Branch string }
			_ = json.Unmarshal(it.Args, &a)
			if a.Branch != "" {
				x, n = it, n+1
			}
		}
		require.LessOrEqual(t, n, 1, "one job for the suite")
		return n == 1 && x.Terminal()
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "completed", x.State, "errors: %v", x.Errors)
	var out struct{ Skipped string }
	require.NoError(t, json.Unmarshal(x.Output, &out))
	require.Contains(t, out.Skipped, "no open update PR")
}
