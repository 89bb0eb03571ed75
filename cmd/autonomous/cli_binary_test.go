package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestBuiltBinaryWithCredentials builds the autonomous binary and runs the operator commands as
// processes, configured through the environment as an install is (GITHUB_APP_ID,
// GITHUB_PRIVATE_KEY, GITHUB_WEBHOOK_SECRET, GITHUB_API_URL) against a fake GitHub on loopback.
func TestBuiltBinaryWithCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "autonomous")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	gh := newAppAPI(t)
	dbURL := workflowstest.SQLiteURL(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"), "GITHUB_APP_ID=1", "GITHUB_PRIVATE_KEY=" + testKey(t),
		"GITHUB_WEBHOOK_SECRET=" + testSecret, "GITHUB_API_URL=" + gh.URL(), "DATABASE_URL=" + dbURL,
		"ADMIN_TOKEN=admin-token", "ALERT_CPU_PERCENT=100", "ALERT_MEMORY_PERCENT=100",
	}
	work := t.TempDir() // no .env here
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = env, work
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		require.NotContains(t, stderr.String(), "panic", args)
		require.NotContains(t, stderr.String(), "SIGSEGV", args)
		return code, stdout.String(), stderr.String()
	}

	code, stdout, stderr := cli("init")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "database ready (sqlite)")

	code, stdout, stderr = cli("health-check")
	require.Equal(t, 0, code, stdout+stderr)
	require.Contains(t, stdout, "app autonomous-ci, rate limit 4990/5000")

	code, stdout, stderr = cli("status", "--json")
	require.Equal(t, 0, code, stderr)
	var status struct{ Health healthJSON }
	require.NoError(t, json.Unmarshal([]byte(stdout), &status))
	require.True(t, status.Health.Healthy, stdout)

	// A server on the same database runs what the binary enqueues and waits for.
	startApp(t, testConfig(t, gh.URL(), dbURL), appOptions{})
	code, stdout, stderr = cli("execute", "--wait", "--json", "--timeout", "60s", "health_check")
	require.Equal(t, 0, code, stdout+stderr)
	var x struct {
		State  string
		Output healthJSON
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &x))
	require.Equal(t, "completed", x.State)
	ok, detail := x.Output.github(t)
	require.True(t, ok, detail)

	code, stdout, _ = cli("status")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "health_check")

	// GitHub refuses the app: degraded, exit 1, no crash.
	gh.failWith(http.StatusUnauthorized)
	code, stdout, _ = cli("health-check")
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "down           github    failed to authenticate as the app")

	// The exit code follows ALERT_HEALTH_SCORE: a down GitHub caps the score at 40, which a
	// threshold of 30 accepts; the JSON report says the same.
	code, stdout, _ = cli("health-check", "--json")
	require.Equal(t, 1, code)
	var report healthJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &report))
	require.False(t, report.Healthy)
	require.Equal(t, 40, report.Score)
	require.Equal(t, 70.0, report.Threshold)
	env = append(env, "ALERT_HEALTH_SCORE=30")
	code, stdout, _ = cli("health-check", "--json")
	require.Equal(t, 0, code, stdout)
	require.NoError(t, json.Unmarshal([]byte(stdout), &report))
	require.True(t, report.Healthy)
	require.Equal(t, 40, report.Score)
}
