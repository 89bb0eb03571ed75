package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestPushStartsPerformanceMonitoringOnce signs and POSTs GitHub's push payload: the push to
// the default branch is one performance_monitoring execution, which a redelivery does not
// repeat and which runs to completion against the fake GitHub; a push to another branch is
// checked and skipped, as the repository's baseline is its default branch.
func TestPushStartsPerformanceMonitoringOnce(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})
	push := handlersFixture(t, "push.json")

	require.Equal(t, http.StatusOK, deliver(t, app, "push", "push-1", push))
	require.Equal(t, http.StatusOK, deliver(t, app, "push", "push-1", push), "a redelivery")
	require.Equal(t, 1, countJobs(t, app, "performance_monitoring"))

	other, err := sjson.SetBytes(push, "ref", "refs/heads/feature")
	require.NoError(t, err)
	other, err = sjson.SetBytes(other, "after", "1111111111111111111111111111111111111111")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, deliver(t, app, "push", "push-2", other))

	var done []workflows.Execution
	require.Eventually(t, func() bool {
		xs, err := app.engine.List(context.Background(), listAll("performance_monitoring", 10))
		require.NoError(t, err)
		done = done[:0]
		for _, x := range xs {
			if x.Terminal() {
				done = append(done, x)
			}
		}
		return len(done) == 2
	}, 20*time.Second, 10*time.Millisecond)
	var skipped []string
	for _, x := range done {
		require.Equal(t, "completed", x.State, "%v", x.Errors)
		var out struct {
			Skipped        string `json:"skipped"`
			BaselineBranch string `json:"baseline_branch"`
		}
		require.NoError(t, json.Unmarshal(x.Output, &out))
		require.Equal(t, "main", out.BaselineBranch)
		skipped = append(skipped, out.Skipped)
	}
	// The fake lists no successful run of main: the check of main has nothing to judge yet.
	require.ElementsMatch(t, []string{"push to feature, not to the baseline branch main", "no successful workflow run on main yet"}, skipped)
	require.Zero(t, gh.count("POST /repos/octo-org/hello-world/issues"), "a push comments nowhere")
}

// TestCLIExecutePerformanceMonitoringPrintsTheReport: execute --wait prints the execution's
// report rather than its JSON, which --json prints whole.
func TestCLIExecutePerformanceMonitoringPrintsTheReport(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	// GET /repos/{owner}/{repo}/installation: execute names no installation.
	gh.srv.HandleFunc("GET /repos/octo-org/hello-world/installation", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 2311213})
	})
	dbURL := workflowstest.SQLiteURL(t)
	startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{})
	creds := writeConfig(t, dbURL, credentialLines(t, gh.APIURL())...)
	code, out, errOut := runCLI(t, "", "execute", "performance_monitoring", "--repo", "octo-org/hello-world",
		"--param", "baseline_branch=develop", "--wait", "--timeout", "20s", "--config", creds)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^execution \d+ completed\n\n### ⏱️ Performance: nothing to compare\n\nno successful workflow run on develop yet\n`, out)

	code, out, errOut = runCLI(t, "", "execute", "performance_monitoring", "--repo", "octo-org/hello-world",
		"--param", "baseline_branch=develop", "--wait", "--json", "--timeout", "20s", "--config", creds)
	require.Equal(t, 0, code, errOut)
	var x struct {
		State  string `json:"state"`
		Output struct {
			BaselineBranch string `json:"baseline_branch"`
			Report         string `json:"report"`
		} `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x), out)
	require.Equal(t, "completed", x.State)
	require.Equal(t, "develop", x.Output.BaselineBranch)
	require.Contains(t, x.Output.Report, "nothing to compare")

	code, _, errOut = runCLI(t, "", "execute", "performance_monitoring", "--repo", "octo-org/hello-world",
		"--param", "baseline_branch=a b", "--config", creds)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, `"baseline_branch" must be a branch name`)
}
