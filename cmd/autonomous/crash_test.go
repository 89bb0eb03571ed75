package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// crashChildEnv marks the test binary re-executed as a server that the crash test kills.
const crashChildEnv = "AUTONOMOUS_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		runCrashChild()
		return
	}
	os.Exit(m.Run())
}

// runCrashChild serves like `autonomous serve` until it is killed, writing its URL to a file.
func runCrashChild() {
	cfg := config.Default()
	cfg.GitHubAppID = 1
	cfg.GitHubPrivateKey = os.Getenv("CRASH_KEY")
	cfg.GitHubWebhookSecret = testSecret
	cfg.GitHubAPIURL = os.Getenv("CRASH_API_URL")
	cfg.GitHubAppSlug = "autonomous-ci"
	cfg.DatabaseURL = os.Getenv("CRASH_DATABASE_URL")
	ctx := context.Background()
	app, err := buildApp(ctx, cfg, appOptions{Logger: zerolog.New(os.Stderr), Addr: "127.0.0.1:0", ClientID: "crash-child"})
	if err != nil {
		panic(err)
	}
	if err := app.Listen(); err != nil {
		panic(err)
	}
	if err := os.WriteFile(os.Getenv("CRASH_URL_FILE"), []byte(app.URL()), 0o600); err != nil {
		panic(err)
	}
	_ = app.Run(ctx)
}

// TestRunningJobSurvivesACrash kills a server (SIGKILL) while it runs a failure analysis, then
// starts another on the same database: River's rescuer makes the stuck job available again and
// it finishes, reporting once.
func TestRunningJobSurvivesACrash(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.hangRun = make(chan struct{})
	dbURL := workflowstest.SQLiteURL(t)
	urlFile := filepath.Join(t.TempDir(), "url")

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"=1", "CRASH_KEY="+testKey(t), "CRASH_API_URL="+gh.APIURL(),
		"CRASH_DATABASE_URL="+dbURL, "CRASH_URL_FILE="+urlFile)
	child.Stderr = os.Stderr
	if os.Getenv("TEST_LOG") == "" {
		child.Stderr = nil
	}
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	var base string
	require.Eventually(t, func() bool {
		raw, err := os.ReadFile(urlFile)
		base = strings.TrimSpace(string(raw))
		return err == nil && base != ""
	}, 30*time.Second, 20*time.Millisecond)

	body := failedRun(t, 900, 1)
	require.Equal(t, 200, deliverSigned(t, base, "workflow_run", "c-1", body, sign(body)))
	// The child is now inside the job, blocked on GitHub: kill it there.
	require.Eventually(t, func() bool {
		return gh.countExact("GET /repos/octo-org/hello-world/actions/runs/900") == 1
	}, 30*time.Second, 5*time.Millisecond)
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	gh.mu.Lock()
	close(gh.hangRun)
	gh.hangRun = nil
	gh.mu.Unlock()

	var state string
	store := workflowstest.OpenStore(t, dbURL)
	require.NoError(t, store.DB.QueryRow(`SELECT state FROM river_job WHERE kind = 'failure_analysis'`).Scan(&state))
	require.Equal(t, "running", state, "the killed server left the job running")
	require.NoError(t, store.Close())

	cfg := testConfig(t, gh.APIURL(), dbURL)
	cfg.WorkflowDefaultTimeout = time.Second
	app := startApp(t, cfg, appOptions{RescueStuckJobsAfter: 2 * time.Second})

	require.Eventually(t, func() bool {
		require.NoError(t, app.store.DB.QueryRow(`SELECT state FROM river_job WHERE kind = 'failure_analysis'`).Scan(&state))
		return state == "completed"
	}, 90*time.Second, 50*time.Millisecond, "the rescued job never completed")
	require.Len(t, gh.commentsOn(42), 1)
}
