package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// Faults of GitHub on the failure-analysis path, against the real wiring.

// TestRefusedCheckRunStillComments: GitHub answers the check-run create with 422; the pull
// request still gets its comment, and the execution completes with the refusal in its output.
func TestRefusedCheckRunStillComments(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.mu.Lock()
	gh.failCheckRunCreates(1)
	gh.mu.Unlock()
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})

	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "refused-check", failedRun(t, 710, 1)))
	waitIdle(t, app)
	require.Len(t, gh.commentsOn(42), 1, "the comment is posted although the check run was refused")
	require.Contains(t, gh.commentsOn(42)[0].Body, "TestGreeting")
	list, err := app.engine.List(t.Context(), listAll("failure_analysis", 10))
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "completed", list[0].State, "errors: %v", list[0].Errors)
	require.Contains(t, string(list[0].Output), `"check_run_error":"HTTP 422: Invalid request."`)
}

// TestCheckRunCreatedBeforeACrashIsNotCreatedAgain kills the server (SIGKILL) after GitHub
// created its check run but before the answer arrived, so its id was never saved; the server
// started again on the same database finishes the job with that one check run.
func TestCheckRunCreatedBeforeACrashIsNotCreatedAgain(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.hangCheckRun = make(chan struct{})
	dbURL := workflowstest.SQLiteURL(t)
	urlFile := filepath.Join(t.TempDir(), "url")
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"=1", "CRASH_KEY="+testKey(t), "CRASH_API_URL="+gh.APIURL(),
		"CRASH_DATABASE_URL="+dbURL, "CRASH_URL_FILE="+urlFile,
		"TMPDIR="+t.TempDir()) // the killed child's HTTP cache directory goes with the test's
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	var base string
	require.Eventually(t, func() bool {
		raw, err := os.ReadFile(urlFile)
		base = strings.TrimSpace(string(raw))
		return err == nil && base != ""
	}, 30*time.Second, 20*time.Millisecond)

	body := failedRun(t, 901, 1)
	require.Equal(t, http.StatusOK, deliverSigned(t, base, "workflow_run", "crash-check", body, sign(body)))
	require.Eventually(t, func() bool { return gh.countExact("POST /repos/octo-org/hello-world/check-runs") == 1 },
		30*time.Second, 5*time.Millisecond)
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	gh.mu.Lock()
	close(gh.hangCheckRun)
	gh.hangCheckRun = nil
	gh.mu.Unlock()

	cfg := testConfig(t, gh.APIURL(), dbURL)
	cfg.WorkflowDefaultTimeout = time.Second
	app := startApp(t, cfg, appOptions{RescueStuckJobsAfter: 2 * time.Second})
	var state string
	require.Eventually(t, func() bool {
		require.NoError(t, app.store.DB.QueryRow(`SELECT state FROM river_job WHERE kind = 'failure_analysis'`).Scan(&state))
		return state == "completed"
	}, 90*time.Second, 50*time.Millisecond, "the rescued job never completed")
	require.Equal(t, 1, gh.countExact("POST /repos/octo-org/hello-world/check-runs"), "the check run is created once")
	require.Equal(t, 1, gh.countExact("PATCH /repos/octo-org/hello-world/check-runs/1"), "the restarted server updates it")
	require.Len(t, gh.commentsOn(42), 1)
}
