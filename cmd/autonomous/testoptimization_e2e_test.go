package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestFlakyTestEndToEnd runs the real wiring: two attempts of one run on the same commit, the
// first failing TestGreeting in its JUnit artifact and the second passing it, make TestGreeting
// quarantined — one Linear issue and one Slack message through alerting, a CI health issue on
// GitHub; the next failure of TestGreeting on pull request 42 is reported as known flaky.
func TestFlakyTestEndToEnd(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	slackFake, linearFake := alertingtest.NewSlack(t), alertingtest.NewLinear(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.SlackWebhookURL = slackFake.URL()
	cfg.LinearAPIKey, cfg.LinearTeamID, cfg.LinearAPIURL = "lin_api_e2e", alertingtest.Team, linearFake.URL()
	cfg.MonitoringEnabled = false // no scheduled health check: its alerts would reach the same fakes

	started := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	conclusions := map[string]string{"501/1": "failure", "501/2": "success", "502/1": "failure"}
	gh.srv.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{id}/attempts/{n}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("id") + "/" + r.PathValue("n")
		c, ok := conclusions[key]
		if !ok {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		n := int(r.PathValue("n")[0] - '0')
		at := started.Add(time.Duration(n) * 10 * time.Minute)
		runID, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		writeJSONBody(w, http.StatusOK, map[string]any{"id": runID, "name": "CI", "head_sha": fakeHeadSHA, "status": "completed",
			"conclusion": c, "run_attempt": n, "event": "pull_request", "head_branch": "fix-greeting",
			"html_url":       "https://github.com/octo-org/hello-world/actions/runs/" + r.PathValue("id"),
			"run_started_at": at.Format(time.RFC3339), "updated_at": at.Add(5 * time.Minute).Format(time.RFC3339)})
	})
	junit := func(failed bool) []byte {
		body := `<testcase classname="example.com/hello" name="TestGreeting" time="0.2"/>`
		if failed {
			body = `<testcase classname="example.com/hello" name="TestGreeting" time="0.2"><failure message="got hullo">got hullo</failure></testcase>`
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.Create("TEST-hello.xml")
		require.NoError(t, err)
		_, _ = fmt.Fprintf(w, `<testsuite name="example.com/hello" tests="1">%s</testsuite>`, body)
		require.NoError(t, zw.Close())
		return buf.Bytes()
	}
	zips := map[string][]byte{"1": junit(true), "2": junit(false)}
	gh.srv.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{id}/artifacts", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "501" {
			writeJSONBody(w, http.StatusOK, map[string]any{"total_count": 0, "artifacts": []any{}})
			return
		}
		var arts []any
		for n := range 2 {
			arts = append(arts, map[string]any{"id": n + 1, "name": fmt.Sprintf("junit-attempt-%d", n+1), "size_in_bytes": len(zips[fmt.Sprint(n+1)]),
				"created_at": started.Add(time.Duration(n+1)*10*time.Minute + 3*time.Minute).Format(time.RFC3339)})
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"total_count": 2, "artifacts": arts})
	})
	blob := newBlobServer(t, zips)
	gh.srv.HandleFunc("GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, blob+"/"+r.PathValue("id"), http.StatusFound)
	})
	var mu sync.Mutex
	var issues []string
	gh.srv.HandleFunc("GET /repos/{owner}/{repo}/issues", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, []any{})
	})
	gh.srv.HandleFunc("POST /repos/{owner}/{repo}/issues", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		issues = append(issues, r.URL.Path)
		mu.Unlock()
		writeJSONBody(w, http.StatusCreated, map[string]any{"number": 77})
	})
	gh.srv.HandleFunc("PATCH /repos/{owner}/{repo}/issues/{n}", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"number": 77})
	})

	app := startApp(t, cfg, appOptions{})
	settle := func() {
		t.Helper()
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, app.store.DB.QueryRow(`SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n))
			return n == 0
		}, 60*time.Second, 20*time.Millisecond)
	}
	attempt := func(runID int64, n int, conclusion string) []byte {
		body := failedRun(t, runID, n)
		body, err := sjson.SetBytes(body, "workflow_run.conclusion", conclusion)
		require.NoError(t, err)
		return body
	}
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "d-501-1", attempt(501, 1, "failure")))
	settle()
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "d-501-2", attempt(501, 2, "success")))
	settle()

	runs, err := app.engine.List(t.Context(), listAll(string(workflows.TestOptimization), 10))
	require.NoError(t, err)
	require.Len(t, runs, 2)
	for _, x := range runs {
		require.Equal(t, "completed", x.State, "%s", x.Errors)
	}
	require.Len(t, linearFake.Issues(), 1, "a quarantined test files one Linear issue")
	require.Contains(t, linearFake.Issues()[0].Title, "TestGreeting")
	require.Len(t, slackFake.Posts(), 1)
	mu.Lock()
	require.Len(t, issues, 1, "one CI health issue")
	mu.Unlock()

	// The next failure of the quarantined test on the pull request is known flaky.
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "d-502-1", attempt(502, 1, "failure")))
	settle()
	comments := gh.commentsOn(42)
	require.NotEmpty(t, comments)
	last := comments[len(comments)-1].Body
	require.Contains(t, last, "**Known flaky:** `TestGreeting` known flaky (")
	require.Contains(t, last, "not caused by this change")
	require.Contains(t, last, "known flaky (100% over 1 run)", "one commit, failed then passed")
	require.Contains(t, last, "re-run of failed jobs requested", "a known flaky failure is re-run")
}

// newBlobServer serves the artifact zips by id, as GitHub's pre-signed storage does.
func newBlobServer(t *testing.T, zips map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := zips[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
