package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// listExecutions is `status --json`'s executions.
func listExecutions(t *testing.T, cfgPath string) []map[string]any {
	t.Helper()
	code, out, errOut := runCLI(t, "", "status", "--json", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	var status struct{ Executions []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(out), &status))
	return status.Executions
}

// TestCLIExecuteFlagsAnywhere: flags before, between and after the kind all count; a stray
// second word is an error that says so, not a silently dropped flag.
func TestCLIExecuteFlagsAnywhere(t *testing.T) {
	t.Parallel()
	gh := newAppAPI(t)
	cfgPath := writeConfig(t, workflowstest.SQLiteURL(t), credentialLines(t, gh.URL())...)
	for i, args := range [][]string{
		{"--repo", "octo-org/hello-world", "failure_analysis", "--param", "workflow_run_id=11"},
		{"--repo=octo-org/hello-world", "--param", "workflow_run_id=12", "failure_analysis"},
		{"failure_analysis", "--repo", "octo-org/hello-world", "--param", "workflow_run_id=13"},
		{"--repo", "octo-org/hello-world", "--", "failure_analysis", "--param", "workflow_run_id=14"},
	} {
		code, out, errOut := runCLI(t, "", append(append([]string{"execute"}, args...), "--config", cfgPath)...)
		if i == 3 { // after "--" everything is an argument
			require.Equal(t, 2, code)
			require.Contains(t, errOut, `execute takes one workflow kind, got "failure_analysis --param workflow_run_id=14`)
			continue
		}
		require.Equal(t, 0, code, "%v: %s", args, errOut)
		require.Contains(t, out, "enqueued failure_analysis execution")
		x := listExecutions(t, cfgPath)[0]
		require.Equal(t, "octo-org/hello-world", x["repo"], args)
		var a struct {
			RunID int64 `json:"run_id"`
		}
		raw, err := json.Marshal(x["args"])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &a))
		require.Equal(t, int64(11+i), a.RunID, "%v: the --param on the other side of the kind was used", args)
	}

	code, _, errOut := runCLI(t, "", "execute", "failure_analysis", "health_check", "--config", cfgPath)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `execute takes one workflow kind, got "failure_analysis health_check"`)
	for _, cmd := range []string{"status", "health-check", "init"} {
		code, _, errOut = runCLI(t, "", cmd, "--config", cfgPath, "extra")
		require.Equal(t, 2, code, cmd)
		require.Contains(t, errOut, cmd+` takes no arguments, only flags; got "extra"`)
	}
}

// TestCLIExecuteRejectsBadRepo: --repo is checked against GitHub's naming rules before anything
// is enqueued.
func TestCLIExecuteRejectsBadRepo(t *testing.T) {
	t.Parallel()
	gh := newAppAPI(t)
	cfgPath := writeConfig(t, workflowstest.SQLiteURL(t), credentialLines(t, gh.URL())...)
	for _, repo := range []string{"octo/ap p", "../../admin", "octo/..", "octo/.", "-octo/app", "oc--to/app",
		strings.Repeat("o", 40) + "/app", "octo/" + strings.Repeat("r", 101), "octo/app/extra", "octo/app?x=1", "octo"} {
		code, _, errOut := runCLI(t, "", "execute", "failure_analysis", "--repo", repo, "--param", "workflow_run_id=1", "--config", cfgPath)
		require.Equal(t, 1, code, repo)
		require.Contains(t, errOut, "--repo must be owner/name: invalid repository", repo)
	}
	require.Empty(t, listExecutions(t, cfgPath), "nothing was enqueued")
}

// TestCLIExecuteWaitNamesTheCause: --wait says what keeps an execution from finishing: missing
// credentials (refused before enqueuing), no server, or the attempts' errors.
func TestCLIExecuteWaitNamesTheCause(t *testing.T) {
	t.Parallel()
	dbURL := workflowstest.SQLiteURL(t)
	bare := writeConfig(t, dbURL)
	code, _, errOut := runCLI(t, "", "execute", "failure_analysis", "--repo", "octo-org/hello-world",
		"--param", "workflow_run_id=5", "--wait", "--timeout", "2s", "--config", bare)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "failure_analysis needs GitHub and this configuration has no GitHub App credentials")
	require.Contains(t, errOut, "nothing was enqueued")
	require.NotContains(t, errOut, "is autonomous serve running")
	require.Empty(t, listExecutions(t, bare))

	// Without --wait it is enqueued, with a warning.
	code, _, errOut = runCLI(t, "", "execute", "failure_analysis", "--repo", "octo-org/hello-world",
		"--param", "workflow_run_id=5", "--config", bare)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "warning: this configuration has no GitHub App credentials")

	// No server on this database: nobody starts the execution.
	code, _, errOut = runCLI(t, "", "execute", "health_check", "--wait", "--timeout", "1s", "--config", bare)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "it is available and no worker has started it: is autonomous serve running on this database?")

	// A server runs, but GitHub refuses every call: the attempts' errors are the cause.
	gh := newAppAPI(t)
	gh.failWith(500)
	creds := writeConfig(t, dbURL, credentialLines(t, gh.URL())...)
	startApp(t, testConfig(t, gh.URL(), dbURL), appOptions{})
	code, _, errOut = runCLI(t, "", "execute", "failure_analysis", "--repo", "octo-org/hello-world",
		"--param", "workflow_run_id=77", "--wait", "--timeout", "3s", "--config", creds)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "attempt 1 failed:")
	require.Contains(t, errOut, "500")
	require.NotContains(t, errOut, "is autonomous serve running")
}
