package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

func TestWebhookResponses(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			gh := newFakeGitHub(t)
			app := startApp(t, testConfig(t, gh.APIURL(), db.URL), appOptions{})
			body := failedRun(t, 501, 1)

			require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "d-1", body))
			require.Equal(t, 1, countJobs(t, app, "failure_analysis"))

			// A redelivery (same delivery id, same payload) does not add a job.
			require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "d-1", body))
			require.Equal(t, 1, countJobs(t, app, "failure_analysis"))

			cases := []struct {
				name      string
				event     string
				body      []byte
				signature string
				want      int
			}{
				{"wrong signature", "workflow_run", failedRun(t, 502, 1), sign([]byte("something else")), http.StatusUnauthorized},
				{"no signature", "workflow_run", failedRun(t, 503, 1), "", http.StatusUnauthorized},
				{"malformed signature", "workflow_run", failedRun(t, 504, 1), "sha256=zz", http.StatusUnauthorized},
				{"not JSON", "workflow_run", []byte("this is not json"), "", http.StatusBadRequest},
				{"JSON array", "workflow_run", []byte(`[1,2]`), "", http.StatusBadRequest},
				{"missing fields", "workflow_run", []byte(`{"action":"completed"}`), "", http.StatusBadRequest},
				{"unknown event", "sponsorship", []byte(`{"action":"created"}`), "", http.StatusAccepted},
				{"ping", "ping", []byte(`{"zen":"Design for failure.","hook_id":1}`), "", http.StatusOK},
				{"successful run without PR", "workflow_run", successfulPushRun(t), "", http.StatusOK},
			}
			for _, tc := range cases {
				sig := tc.signature
				if sig == "" && !strings.Contains(tc.name, "no signature") {
					sig = sign(tc.body)
				}
				got := deliverSigned(t, app.URL(), tc.event, "d-"+tc.name, tc.body, sig)
				require.Equal(t, tc.want, got, tc.name)
			}
			require.Equal(t, 1, countJobs(t, app, "failure_analysis"), "rejected deliveries enqueue nothing")

			// Over GitHub's 25 MB maximum: 413 without reading the body.
			big := bytes.Repeat([]byte(" "), maxWebhookBytes+1)
			require.Equal(t, http.StatusRequestEntityTooLarge, deliver(t, app, "workflow_run", "d-big", big))
			// The same without a Content-Length (chunked): cut off at the limit, still 413.
			req, err := http.NewRequest(http.MethodPost, app.URL()+"/api/github/hook", io.MultiReader(bytes.NewReader(big)))
			require.NoError(t, err)
			req.ContentLength = -1
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "workflow_run")
			req.Header.Set("X-Hub-Signature-256", sign(big))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		})
	}
}

func TestWebhookAnswers503WhenDatabaseIsDown(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})
	// The ack path writes the inbox (SQLite's own file); both it and the database are gone.
	require.NoError(t, app.inboxStore.Close())
	require.NoError(t, app.store.DB.Close())
	body := failedRun(t, 600, 1)
	require.Equal(t, http.StatusServiceUnavailable, deliverSigned(t, app.URL(), "workflow_run", "d-down", body, sign(body)))
	resp, err := http.Get(app.URL() + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestInstallationEventsAreRecorded(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})
	created := handlersFixture(t, "installation.created.json")
	require.Equal(t, http.StatusOK, deliver(t, app, "installation", "i-1", created))
	added := handlersFixture(t, "installation_repositories.added.json")
	require.Equal(t, http.StatusOK, deliver(t, app, "installation_repositories", "i-2", added))
	insts, err := app.store.Installations(t.Context())
	require.NoError(t, err)
	require.Len(t, insts, 1)
	require.ElementsMatch(t, []string{"octo-org/hello-world", "octo-org/widgets"}, insts[0].Repositories)
}

// TestFailedRunIsReportedOnce is the end-to-end path: a failed workflow_run with one pull
// request produces exactly one sticky comment; a redelivery changes nothing; a new attempt edits
// the same comment.
func TestFailedRunIsReportedOnce(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})

	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "e-1", failedRun(t, 700, 1)))
	require.Eventually(t, func() bool { return len(gh.commentsOn(42)) == 1 }, 20*time.Second, 10*time.Millisecond)
	waitIdle(t, app)
	comment := gh.commentsOn(42)[0]
	require.Contains(t, comment.Body, "TestGreeting")
	require.Contains(t, comment.Body, "<!-- autonomous-ci:failure-analysis -->")

	// Redelivery: no new execution, no new comment.
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "e-1", failedRun(t, 700, 1)))
	waitIdle(t, app)
	require.Len(t, gh.commentsOn(42), 1)
	require.Equal(t, 0, gh.commentsOn(42)[0].Edits)

	// A new attempt of the same run: the same comment is edited.
	gh.mu.Lock()
	gh.runAttempt[700] = 2
	gh.mu.Unlock()
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "e-2", failedRun(t, 700, 2)))
	require.Eventually(t, func() bool {
		c := gh.commentsOn(42)
		return len(c) == 1 && c[0].Edits == 1
	}, 20*time.Second, 10*time.Millisecond)
	require.Contains(t, gh.commentsOn(42)[0].Body, "attempt 2")
	require.Equal(t, 1, gh.count("POST /repos/octo-org/hello-world/issues/42/comments"))
	waitIdle(t, app)
	require.Len(t, gh.commentsOn(42), 1)
}

// waitIdle waits until no failure_analysis job is pending or running.
func waitIdle(t testing.TB, app *App) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, app.store.DB.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'failure_analysis'
			AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n))
		return n == 0
	}, 20*time.Second, 10*time.Millisecond, fmt.Sprintf("jobs still pending: %v", app.store.Dialect))
}

func TestOperatorEndpointsNeedTheToken(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			testOperatorEndpoints(t, db.URL)
		})
	}
}

func testOperatorEndpoints(t *testing.T, dbURL string) {
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{})
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "op-1", failedRun(t, 1200, 1)))
	get := func(path, bearer, basic string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, app.URL()+path, nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if basic != "" {
			req.SetBasicAuth("operator", basic)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, path := range []string{"/api/executions", "/api/metrics", "/api/executions/1", "/riverui/"} {
		code, _ := get(path, "", "")
		require.Equal(t, http.StatusUnauthorized, code, path)
		code, _ = get(path, "wrong", "")
		require.Equal(t, http.StatusUnauthorized, code, path)
	}
	code, body := get("/api/executions?kind=failure_analysis", "admin-token", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"kind":"failure_analysis"`)
	code, body = get("/api/metrics", "admin-token", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"counts"`)
	// The go-metrics registry that the GitHub clients' middleware fills is served too.
	require.Eventually(t, func() bool {
		_, body = get("/api/metrics", "admin-token", "")
		return strings.Contains(body, `"registry":{`) && strings.Contains(body, `"`+githubapp.MetricsKeyRequests+`"`)
	}, 20*time.Second, 50*time.Millisecond, body)
	code, _ = get("/api/executions/999999", "admin-token", "")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = get("/api/executions/abc", "admin-token", "")
	require.Equal(t, http.StatusBadRequest, code)
	code, body = get("/riverui/", "", "admin-token")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "<html")
	code, body = get("/riverui/api/jobs?state=available&limit=5", "", "admin-token")
	require.Equal(t, http.StatusOK, code, body)
	// The open endpoints stay open.
	code, _ = get("/healthz", "", "")
	require.Equal(t, http.StatusOK, code)
}

// handlersFixture reads a webhook payload of handlers/testdata (testdata/<event>.<action>.json, in
// GitHub's documented shape).
func handlersFixture(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "handlers", "testdata", file))
	require.NoError(t, err)
	return b
}

// successfulPushRun is the workflow_run fixture as a first-attempt success with no pull request.
func successfulPushRun(t testing.TB) []byte {
	t.Helper()
	b, err := sjson.SetBytes(failedRun(t, 9, 1), "workflow_run.conclusion", "success")
	require.NoError(t, err)
	b, err = sjson.SetRawBytes(b, "workflow_run.pull_requests", []byte(`[]`))
	require.NoError(t, err)
	return b
}
