package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// deepPayload is a JSON object nested n levels deep: ten million levels overflowed the stack of
// the recursive JSON validator, a fatal error that no recover catches.
func deepPayload(n int) []byte {
	return []byte(`{"action":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
}

// post delivers a signed webhook to base and returns the status and body.
func post(t testing.TB, base, event, delivery string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/github/hook", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", sign(body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(text)
}

// wrongTypeDelivery is a workflow_run delivery with one field of a wrong type or shape.
type wrongTypeDelivery struct {
	field string
	body  []byte
}

// wrongTypeDeliveries are the failed-run fixture with one field replaced by a wrong value.
func wrongTypeDeliveries(t testing.TB) []wrongTypeDelivery {
	t.Helper()
	var out []wrongTypeDelivery
	for _, c := range []struct{ path, raw string }{
		{"workflow_run.id", `"abc"`}, {"workflow_run.id", `1.5`}, {"workflow_run.id", `true`}, {"workflow_run.id", `{"id":1}`},
		{"repository.name", `"../../admin"`}, {"repository.owner.login", `"../.."`},
		{"installation.id", `"5"`}, {"workflow_run.run_attempt", `2.5`},
	} {
		body, err := sjson.SetRawBytes(failedRun(t, 1300, 1), c.path, []byte(c.raw))
		require.NoError(t, err)
		out = append(out, wrongTypeDelivery{c.path, body})
	}
	return out
}

// TestHostilePayloadsGet400AndChangeNothing: a payload nested ten million levels deep and
// payloads with wrong field types are answered 400 naming the problem, enqueue nothing, reach
// no GitHub endpoint, and the server keeps serving.
func TestHostilePayloadsGet400AndChangeNothing(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})

	for _, event := range []string{"workflow_run", "check_run", "check_suite", "issue_comment", "installation", "ping"} {
		code, body := post(t, app.URL(), event, "deep-"+event, deepPayload(10_000_000))
		require.Equal(t, http.StatusBadRequest, code, event)
		require.Contains(t, body, "nests deeper than 512 levels")
	}
	for i, d := range wrongTypeDeliveries(t) {
		code, body := post(t, app.URL(), "workflow_run", fmt.Sprintf("type-%d", i), d.body)
		require.Equal(t, http.StatusBadRequest, code, d.field)
		require.Contains(t, body, "malformed webhook payload: "+d.field, d.field)
	}
	require.Zero(t, countJobs(t, app, "failure_analysis"))
	for _, r := range gh.requestsLog() {
		require.NotContains(t, r, "admin", "no request is built from a hostile name")
		require.NotContains(t, r, "/actions/runs/", "nothing was analyzed")
	}
	resp, err := http.Get(app.URL() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The same server still accepts a good delivery.
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "good", failedRun(t, 1301, 1)))
	require.Equal(t, 1, countJobs(t, app, "failure_analysis"))
}

// buildBinary builds cmd/autonomous into a temporary directory (the build cache makes it a link).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "autonomous")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run())
	return bin
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startBinary runs `autonomous serve` in dir with env and waits for /healthz. Its temp dir (the
// HTTP cache's directory, which the kill at the end leaves behind) is dir.
// It returns the base URL, the process's output and a channel closed when the process exits.
func startBinary(t *testing.T, bin, dir string, env ...string) (string, *syncBuffer, <-chan struct{}) {
	t.Helper()
	port := freePort(t)
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir, fmt.Sprintf("PORT=%d", port),
		"DATABASE_URL=sqlite://" + filepath.Join(dir, "db.sqlite")}, env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		select {
		case <-exited:
			require.FailNow(t, "the server exited", logs.String())
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond)
	return base, logs, exited
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestBuiltBinarySurvivesHostilePayloads runs the real binary, configured, and sends it the
// payload that used to kill it (fatal error: stack overflow): it answers 400 and keeps running.
func TestBuiltBinarySurvivesHostilePayloads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	gh := newFakeGitHub(t)
	dir := t.TempDir()
	base, logs, exited := startBinary(t, buildBinary(t), dir, "GITHUB_APP_ID=1", "GITHUB_PRIVATE_KEY="+testKey(t),
		"GITHUB_WEBHOOK_SECRET="+testSecret, "GITHUB_API_URL="+gh.APIURL(), "GITHUB_APP_SLUG=autonomous-ci", "BIND_ADDR=127.0.0.1")

	code, body := post(t, base, "workflow_run", "deep", deepPayload(10_000_000))
	require.Equal(t, http.StatusBadRequest, code, logs.String())
	require.Contains(t, body, "nests deeper than 512 levels")
	for i, d := range wrongTypeDeliveries(t) {
		code, _ := post(t, base, "workflow_run", fmt.Sprintf("type-%d", i), d.body)
		require.Equal(t, http.StatusBadRequest, code, d.field)
	}
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err, logs.String())
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	select {
	case <-exited:
		require.FailNow(t, "the server exited", logs.String())
	default:
	}
	require.NotContains(t, logs.String(), "fatal error")
}
