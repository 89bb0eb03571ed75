package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/workflows"
)

const testSecret = "webhook-secret-for-tests"

var (
	keyOnce sync.Once
	keyPEM  string
)

// testKey is an RSA key for the app's JWTs, made once per test binary.
func testKey(t testing.TB) string {
	keyOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	})
	return keyPEM
}

// testConfig is a valid configuration pointing at the fake GitHub and database.
func testConfig(t testing.TB, apiURL, databaseURL string) config.Config {
	cfg := config.Default()
	cfg.GitHubAppID = 1
	cfg.GitHubPrivateKey = testKey(t)
	cfg.GitHubWebhookSecret = testSecret
	cfg.GitHubAPIURL = apiURL
	cfg.GitHubAppSlug = "autonomous-ci"
	cfg.DatabaseURL = databaseURL
	cfg.AdminToken = "admin-token"
	cfg.WorkflowRetryDelay = 100 * time.Millisecond
	cfg.GitHubHTTPCacheDir = t.TempDir()
	require.Empty(t, filterFatal(cfg.Validate()))
	return cfg
}

func filterFatal(problems []string) []string {
	var out []string
	for _, p := range problems {
		if config.HasFatal([]string{p}) {
			out = append(out, p)
		}
	}
	return out
}

var clientSeq atomic.Int64

// startApp runs the real wiring on 127.0.0.1 and stops it at the end of the test.
func startApp(t testing.TB, cfg config.Config, opts appOptions) *App {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.ClientID == "" {
		opts.ClientID = fmt.Sprintf("test-%d", clientSeq.Add(1))
	}
	if os.Getenv("TEST_LOG") != "" {
		opts.Logger = zerolog.New(os.Stderr).With().Timestamp().Logger()
	}
	app, err := buildApp(ctx, cfg, opts)
	require.NoError(t, err)
	require.NoError(t, app.Listen())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Logf("app stopped with: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("app did not stop within 60 s")
		}
	})
	if !opts.IngestOnly {
		require.Eventually(t, func() bool { return app.engine.Running() }, 10*time.Second, 5*time.Millisecond)
	}
	return app
}

func sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// deliver POSTs a signed webhook and returns the status code once the jobs the delivery stored
// are in River (the inbox drained), so a test can read them at once.
func deliver(t testing.TB, app *App, event, delivery string, body []byte) int {
	t.Helper()
	status := deliverSigned(t, app.URL(), event, delivery, body, sign(body))
	require.NoError(t, app.inbox.Drain(context.Background()))
	return status
}

func deliverSigned(t testing.TB, base, event, delivery string, body []byte, signature string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/github/hook", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

var fixtureOnce sync.Once
var fixture []byte

// failedRun is the workflow_run fixture (a 22 KB failed pull-request run) with the run id and
// attempt set.
func failedRun(t testing.TB, runID int64, attempt int) []byte {
	t.Helper()
	fixtureOnce.Do(func() {
		var err error
		fixture, err = os.ReadFile("testdata/workflow_run.completed.json")
		if err != nil {
			panic(err)
		}
	})
	body, err := sjson.SetBytes(fixture, "workflow_run.id", runID)
	require.NoError(t, err)
	body, err = sjson.SetBytes(body, "workflow_run.run_attempt", attempt)
	require.NoError(t, err)
	return body
}

// countJobs counts jobs of a kind in the app's database, once the inbox moved what it holds
// into River.
func countJobs(t testing.TB, app *App, kind string) int {
	t.Helper()
	require.NoError(t, app.inbox.Drain(context.Background()))
	var n int
	require.NoError(t, app.store.DB.QueryRow(`SELECT count(*) FROM river_job WHERE kind = '`+kind+`'`).Scan(&n))
	return n
}

// listAll selects up to limit executions of kind.
func listAll(kind string, limit int) workflows.ListFilter {
	return workflows.ListFilter{Kinds: []string{kind}, Limit: limit}
}
