package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// crashChildEnv marks the test binary re-executed as a server that the crash tests kill.
const crashChildEnv = "AUTONOMOUS_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		runCrashChild()
		return
	}
	os.Exit(m.Run())
}

// runCrashChild serves like `autonomous serve` with the default engine options (CRASH_CLIENT_ID
// names its River client when set) until it is killed, writing its URL to a file.
func runCrashChild() {
	cfg := config.Default()
	cfg.GitHubAppID = 1
	cfg.GitHubPrivateKey = os.Getenv("CRASH_KEY")
	cfg.GitHubWebhookSecret = testSecret
	cfg.GitHubAPIURL = os.Getenv("CRASH_API_URL")
	cfg.GitHubAppSlug = "autonomous-ci"
	cfg.DatabaseURL = os.Getenv("CRASH_DATABASE_URL")
	ctx := context.Background()
	logger := zerolog.Nop()
	if os.Getenv("TEST_LOG") != "" {
		logger = zerolog.New(os.Stderr).With().Timestamp().Str("process", "child").Logger()
	}
	app, err := buildApp(ctx, cfg, appOptions{Logger: logger, Addr: "127.0.0.1:0", ClientID: os.Getenv("CRASH_CLIENT_ID")})
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

// startCrashChild starts a server process on dbURL and returns it with its base URL.
func startCrashChild(t *testing.T, gh *fakeGitHub, dbURL, clientID string) (*exec.Cmd, string) {
	t.Helper()
	urlFile := filepath.Join(t.TempDir(), "url")
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"=1", "CRASH_KEY="+testKey(t), "CRASH_API_URL="+gh.APIURL(),
		"CRASH_DATABASE_URL="+dbURL, "CRASH_URL_FILE="+urlFile, "CRASH_CLIENT_ID="+clientID,
		"TMPDIR="+t.TempDir()) // the killed child's HTTP cache directory goes with the test's
	if os.Getenv("TEST_LOG") != "" {
		child.Stderr = os.Stderr
	}
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	var base string
	require.Eventually(t, func() bool {
		raw, err := os.ReadFile(urlFile)
		base = strings.TrimSpace(string(raw))
		return err == nil && base != ""
	}, 30*time.Second, 20*time.Millisecond)
	return child, base
}

// burst is a set of failed-run deliveries, one per run, and which of them were acknowledged.
type burst struct {
	runs  []int64
	acked []bool
}

func newBurst(firstRun int64, n int) *burst {
	b := &burst{runs: make([]int64, n), acked: make([]bool, n)}
	for i := range b.runs {
		b.runs[i] = firstRun + int64(i)
	}
	return b
}

func (b *burst) delivery(i int) string { return fmt.Sprintf("burst-%d", b.runs[i]) }

// send delivers every run of the burst, 8 at a time, to the server whose URL base(i) names; a
// delivery answered 200 is acknowledged, one that failed (the server was killed) is not.
func (b *burst) send(t *testing.T, base func(i int) string) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	for i := range b.runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			code, err := postDelivery(base(i), b.delivery(i), failedRun(t, b.runs[i], 1))
			mu.Lock()
			b.acked[i] = err == nil && code == http.StatusOK
			mu.Unlock()
		}()
	}
	wg.Wait()
}

func (b *burst) ackedCount() int {
	n := 0
	for _, ok := range b.acked {
		if ok {
			n++
		}
	}
	return n
}

// postDelivery POSTs a signed workflow_run delivery; it returns the error of a refused connection
// instead of failing the test, as a server being killed refuses some.
func postDelivery(base, delivery string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/api/github/hook", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "workflow_run")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", sign(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// hungRuns is how many analyses are blocked inside GitHub's GET run (the fake's hangRun).
func hungRuns(gh *fakeGitHub, b *burst) int {
	n := 0
	for _, id := range b.runs {
		n += gh.countExact(fmt.Sprintf("GET /repos/octo-org/hello-world/actions/runs/%d", id))
	}
	return n
}

// release unblocks every request waiting on the fake's hangRun.
func (f *fakeGitHub) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hangRun != nil {
		close(f.hangRun)
		f.hangRun = nil
	}
}

// jobStates counts the failure analyses by state.
func jobStates(t *testing.T, store *store.Store) map[string]int {
	t.Helper()
	rows, err := store.DB.Query(`SELECT state, count(*) FROM river_job WHERE kind = 'failure_analysis' GROUP BY state`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		require.NoError(t, rows.Scan(&state, &n))
		out[state] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// requireAllProcessedOnce waits until every run of the burst was analyzed, at most until
// deadline, then checks that nothing was done twice: one job per run, one check run per run
// (the crash came before any was created), one sticky comment on the pull request, and no run
// read more often than its attempts.
func requireAllProcessedOnce(t *testing.T, gh *fakeGitHub, store *store.Store, b *burst, deadline time.Time) {
	t.Helper()
	var states map[string]int
	for time.Now().Before(deadline) {
		states = jobStates(t, store)
		if states["completed"] == len(b.runs) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, map[string]int{"completed": len(b.runs)}, states, "not every delivery was processed within a minute of the restart")
	require.Equal(t, len(b.runs), gh.count("POST /repos/octo-org/hello-world/check-runs"), "check runs created more than once")
	require.Len(t, gh.commentsOn(42), 1, "one sticky comment on the pull request")
	for _, id := range b.runs {
		require.LessOrEqual(t, gh.countExact(fmt.Sprintf("GET /repos/octo-org/hello-world/actions/runs/%d", id)), 2, "run %d analyzed more than twice", id)
	}
}

// TestCrashMidBurstResumesWithinAMinute kills a server (SIGKILL) in the middle of a burst of
// deliveries, while its workers are inside their jobs, restarts it with the default engine
// options, and redelivers the whole burst as GitHub does: every delivery is processed within a
// minute of the restart, exactly once. The redelivered ones that were already stored are
// duplicates of their rescued job, not second jobs.
func TestCrashMidBurstResumesWithinAMinute(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// childID and restartID name the River clients; empty takes the default, which is
		// unique per process start. The same explicit id on both sides is a restarted
		// process recognising its own previous incarnation.
		childID, restartID string
		postgres           bool
	}{
		{name: "sqlite"},
		{name: "sqlite_same_client_id", childID: "autonomous-1", restartID: "autonomous-1"},
		{name: "postgres", postgres: true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbURL := workflowstest.SQLiteURL(t)
			if tc.postgres {
				dbURL = workflowstest.PostgresURL(t)
			}
			gh := newFakeGitHub(t)
			gh.hangRun = make(chan struct{})
			child, base := startCrashChild(t, gh, dbURL, tc.childID)

			b := newBurst(int64(31000+1000*i), 100)
			sent := make(chan struct{})
			go func() { defer close(sent); b.send(t, func(int) string { return base }) }()
			// Kill the server once its ten workers are all blocked inside a job.
			require.Eventually(t, func() bool { return hungRuns(gh, b) >= config.Default().MaxConcurrentWorkflows },
				30*time.Second, 5*time.Millisecond)
			require.NoError(t, child.Process.Kill())
			_ = child.Wait()
			<-sent
			gh.release()

			store := workflowstest.OpenStore(t, dbURL)
			stuck := jobStates(t, store)["running"]
			require.Positive(t, stuck, "the killed server left jobs running")
			t.Logf("killed with %d of %d deliveries acknowledged and %d jobs running", b.ackedCount(), len(b.runs), stuck)

			restart := time.Now()
			app := startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{ClientID: tc.restartID})
			for i := range b.runs {
				code, err := postDelivery(app.URL(), b.delivery(i), failedRun(t, b.runs[i], 1))
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, code, "redelivery %s", b.delivery(i))
			}
			requireAllProcessedOnce(t, gh, store, b, restart.Add(time.Minute))
			t.Logf("all %d deliveries processed %.1f s after the restart", len(b.runs), time.Since(restart).Seconds())
		})
	}
}
