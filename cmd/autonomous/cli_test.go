package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// runCLI runs a subcommand as main would and returns its exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	code := 0
	var exit exitError
	switch {
	case errors.As(err, &exit):
		code = exit.code
	case err != nil:
		code = 1
		stderr.WriteString("error: " + err.Error())
	}
	return code, stdout.String(), stderr.String()
}

// writeConfig writes a --config file with the database and the given extra lines.
func writeConfig(t *testing.T, dbURL string, extra ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "autonomous.yml")
	lines := append([]string{"database_url: " + dbURL}, extra...)
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return path
}

func TestCLIVersionAndUsage(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "", "version")
	require.Equal(t, 0, code)
	require.Equal(t, "autonomous dev\n", out)
	code, _, errOut := runCLI(t, "", "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown command "frobnicate"`)
	code, _, _ = runCLI(t, "")
	require.Equal(t, 2, code)
}

func TestCLIAnalyze(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "job.log")
	log := "2026-11-27T06:41:00.0000000Z ##[group]Run go test ./...\n" +
		"2026-11-27T06:41:01.0000000Z ok  \texample.com/other\t0.010s\n" +
		"2026-11-27T06:41:01.0000000Z --- FAIL: TestGreeting (0.00s)\n" +
		"2026-11-27T06:41:01.0000000Z     greet_test.go:12: got \"hullo\", want \"hello\"\n" +
		"2026-11-27T06:41:01.0000000Z FAIL\n" +
		"2026-11-27T06:41:02.0000000Z ##[error]Process completed with exit code 1.\n"
	require.NoError(t, os.WriteFile(logPath, []byte(log), 0o600))

	code, out, errOut := runCLI(t, "", "analyze", "--log", logPath, "--format", "json")
	require.Equal(t, 0, code, errOut)
	var res map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{"classification", "confidence", "summary", "failed_step", "failed_tests", "excerpt", "retryable", "evidence"}, keys)
	require.JSONEq(t, `"test_failure"`, string(res["classification"]))
	require.Contains(t, string(res["failed_tests"]), "TestGreeting")
	var excerpt []struct{ Line int }
	require.NoError(t, json.Unmarshal(res["excerpt"], &excerpt))
	require.Equal(t, 3, excerpt[0].Line, "the root cause is line 3 of the input")

	code, out, _ = runCLI(t, log, "analyze", "--log", "-")
	require.Equal(t, 0, code)
	require.Contains(t, out, "test_failure")

	empty := filepath.Join(dir, "empty.log")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	code, out, _ = runCLI(t, "", "analyze", "--log", empty, "--format", "json")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"unknown"`)

	binary := filepath.Join(dir, "binary.log")
	require.NoError(t, os.WriteFile(binary, []byte{0, 1, 2, 0xff, 0xfe, 0, '\n', 0x7f}, 0o600))
	code, _, _ = runCLI(t, "", "analyze", "--log", binary, "--format", "json")
	require.Equal(t, 0, code)

	code, _, errOut = runCLI(t, "", "analyze", "--log", filepath.Join(dir, "missing.log"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "failed to open the log")
	code, _, _ = runCLI(t, "", "analyze", "--log", dir)
	require.Equal(t, 1, code)
	code, _, _ = runCLI(t, "", "analyze")
	require.Equal(t, 2, code)
	code, _, _ = runCLI(t, "", "analyze", "--log", logPath, "--format", "xml")
	require.Equal(t, 2, code)
}

func TestCLIInitStatusExecute(t *testing.T) {
	t.Parallel()
	dbURL := workflowstest.SQLiteURL(t)
	cfgPath := writeConfig(t, dbURL)
	code, out, errOut := runCLI(t, "", "init", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "database ready (sqlite)")
	require.Contains(t, out, "warning: GITHUB_APP_ID")

	code, out, errOut = runCLI(t, "", "status", "--json", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	var status struct {
		Executions    []map[string]any `json:"executions"`
		Installations []any            `json:"installations"`
		Health        struct{ Score int }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &status))
	require.Empty(t, status.Executions)

	// A server on the same database runs what execute enqueues.
	gh := newFakeGitHub(t)
	startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{})
	code, out, errOut = runCLI(t, "", "execute", "health_check", "--wait", "--json", "--timeout", "30s", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	var x map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &x))
	require.Equal(t, "completed", x["state"])
	require.Contains(t, x, "output")

	code, out, errOut = runCLI(t, "", "status", "--json", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &status))
	require.NotEmpty(t, status.Executions)
	for _, key := range []string{"id", "kind", "state", "repo", "attempt", "created_at", "finished_at", "output"} {
		require.Contains(t, status.Executions[0], key)
	}

	code, out, _ = runCLI(t, "", "status", "--config", cfgPath)
	require.Equal(t, 0, code)
	require.Contains(t, out, "Last executions:")
	require.Contains(t, out, "health_check")
}

func TestCLIExecuteRejectsBadInput(t *testing.T) {
	t.Parallel()
	cfgPath := writeConfig(t, workflowstest.SQLiteURL(t))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"execute", "nope"}, `unknown workflow kind "nope"`},
		{[]string{"execute", "failure_analysis", "--repo", "octo/app"}, "needs the workflow_run_id parameter"},
		{[]string{"execute", "failure_analysis", "--repo", "octo"}, "--repo must be owner/name"},
		{[]string{"execute", "failure_analysis", "--repo", "octo/app", "--param", "workflow_run_id"}, "--param must be key=value"},
		{[]string{"execute", "failure_analysis", "--repo", "octo/app", "--param", "workflow_run_id=abc"}, `parameter "workflow_run_id" must be an integer`},
		{[]string{"execute", "failure_analysis", "--repo", "octo/app", "--parameters", "{not json"}, "--parameters must be a JSON object"},
		{[]string{"execute", "failure_analysis", "--param", "workflow_run_id=1"}, "needs a repository"},
		{[]string{"execute", "test_optimization", "--repo", "octo/app", "--param", "lookback_runs=0"}, "lookback_runs"},
		{[]string{"execute", "security_audit", "--repo", "octo/app", "--param", "fail_on=severe"}, "fail_on"},
	}
	for _, tc := range cases {
		code, _, errOut := runCLI(t, "", append(tc.args, "--config", cfgPath)...)
		require.NotEqual(t, 0, code, tc.args)
		require.Contains(t, errOut, tc.want, tc.args)
	}
	code, out, errOut := runCLI(t, "", "execute", "failure_analysis", "--repo", "octo/app", "--parameters", `{"workflow_run_id": 123, "auto_fix_enabled": true}`, "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "enqueued failure_analysis execution")
	code, out, errOut = runCLI(t, "", "execute", "security_audit", "--repo", "octo/app", "--param", "fail_on=medium", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "enqueued security_audit execution")
}

func TestCLIInitReportsProblemsWithoutSecrets(t *testing.T) {
	t.Parallel()
	secret := "super-secret-webhook-value"
	cfgPath := writeConfig(t, workflowstest.SQLiteURL(t), "port: 0", "github_app_id: 12", "github_private_key: not-a-pem-"+secret,
		"github_webhook_secret: "+secret, "log_level: loud")
	code, out, _ := runCLI(t, "", "init", "--config", cfgPath)
	require.Equal(t, 1, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.GreaterOrEqual(t, len(lines), 3)
	require.Contains(t, out, "error: PORT")
	require.Contains(t, out, "error: LOG_LEVEL")
	require.NotContains(t, out, secret)
}

func TestServeStopsGracefully(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	ctx, cancel := context.WithCancel(context.Background())
	app, err := buildApp(ctx, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	require.NoError(t, app.Listen())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	require.Eventually(t, app.engine.Running, 10*time.Second, 5*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	require.False(t, app.engine.Running())
}
