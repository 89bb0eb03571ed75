package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestCLIExecuteTestOptimizationPrintsTheReport: `execute test_optimization --wait` prints
// the report people read (flaky and slowest tests), not the output's JSON, which --json prints
// whole with the same report in it.
func TestCLIExecuteTestOptimizationPrintsTheReport(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.srv.HandleFunc("GET /repos/octo-org/hello-world/installation", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 2311213})
	})
	gh.srv.HandleFunc("GET /repos/{owner}/{repo}/issues", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, []any{})
	})
	gh.srv.HandleFunc("POST /repos/{owner}/{repo}/issues", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusCreated, map[string]any{"number": 77})
	})
	gh.srv.HandleFunc("PATCH /repos/{owner}/{repo}/issues/{n}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"number": 77})
	})
	dbURL := workflowstest.SQLiteURL(t)
	startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{})
	creds := writeConfig(t, dbURL, credentialLines(t, gh.APIURL())...)

	code, out, errOut := runCLI(t, "", "execute", "test_optimization", "--repo", "octo-org/hello-world",
		"--param", "lookback_runs=200", "--wait", "--timeout", "30s", "--config", creds)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^execution \d+ completed\n\n`, out)
	require.Contains(t, out, "## Flaky tests\n")
	require.Contains(t, out, "## Slowest tests\n")
	require.NotContains(t, out, `"lookback_runs"`, "the report, not the JSON")
	require.NotContains(t, out, "<!--", "no issue marker in the terminal")

	code, out, errOut = runCLI(t, "", "execute", "test_optimization", "--repo", "octo-org/hello-world",
		"--param", "lookback_runs=200", "--wait", "--json", "--timeout", "30s", "--config", creds)
	require.Equal(t, 0, code, errOut)
	var x struct {
		State  string `json:"state"`
		Output struct {
			LookbackRuns int    `json:"lookback_runs"`
			Report       string `json:"report"`
		} `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x), out)
	require.Equal(t, "completed", x.State)
	require.Equal(t, 200, x.Output.LookbackRuns)
	require.Contains(t, x.Output.Report, "## Flaky tests")
}

// TestCLIExecuteWaitWithoutOutputPrintsNoNull: an execution that ends without output (the app
// is not installed on the repository, so it is cancelled) prints its state and the attempt's
// error, not a JSON "null".
func TestCLIExecuteWaitWithoutOutputPrintsNoNull(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t) // answers 404 for GET /repos/octo-org/elsewhere/installation
	dbURL := workflowstest.SQLiteURL(t)
	startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{})
	creds := writeConfig(t, dbURL, credentialLines(t, gh.APIURL())...)
	code, out, errOut := runCLI(t, "", "execute", "test_optimization", "--repo", "octo-org/elsewhere", "--wait", "--timeout", "30s", "--config", creds)
	require.Equal(t, 1, code, errOut)
	require.Regexp(t, `^execution \d+ cancelled\n$`, out)
	require.Contains(t, errOut, "attempt 1 failed:")
	require.Contains(t, errOut, "404")
}
