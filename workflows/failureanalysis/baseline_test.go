package failureanalysis

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
)

// A step that prints a harmless DNS error on every run (a telemetry ping) and fails on a
// coverage gate. Alone, the DNS error outweighs the gate; the passing run of the same job
// shows the same line (other timestamp, duration and temporary path), so the diff drops it.
var (
	decoyFailLog = actionsLog("npm test -- --coverage",
		"> widgets@1.4.0 test",
		"curl: (6) Could not resolve host: telemetry.acme.internal (after 0.31s, cache /tmp/tmp.AbC123)",
		"Tests: 212 passed, 212 total",
		"Coverage failure: total of 71 is less than fail-under=80",
	)
	decoyPassLog = greenLog("npm test -- --coverage",
		"> widgets@1.4.0 test",
		"curl: (6) Could not resolve host: telemetry.acme.internal (after 1.07s, cache /tmp/tmp.XyZ987)",
		"Tests: 211 passed, 211 total",
		"Coverage: total of 84",
	)
)

// greenLog is a passing job's log in the shape of actionsLog, with other timestamps.
func greenLog(step string, lines ...string) string {
	all := append([]string{"Current runner version: '2.316.1'", "##[group]Run " + step, step, "##[endgroup]"}, lines...)
	all = append(all, "Post job cleanup.", "Cleaning up orphan processes")
	var b strings.Builder
	for i, l := range all {
		fmt.Fprintf(&b, "2024-04-30T08:12:%02d.%07dZ %s\n", i%60, 7000*i, l)
	}
	return b.String()
}

const greenRunID = int64(30433500)

// greenRun is the last passing run of the workflow on main, with the jobs named.
func greenRun(jobs map[string]int64, log string) *fakeRun {
	run := &fakeRun{ID: greenRunID, Name: "CI", WorkflowID: 159038, HeadSHA: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", Status: "completed"}
	var js []fakeJob
	for name, id := range jobs {
		js = append(js, fakeJob{ID: id, Name: name, Conclusion: "success", Log: log})
	}
	run.Attempts = []fakeAttempt{{Conclusion: "success", Jobs: js}}
	return run
}

func decoyRun(id int64, names ...string) *fakeRun {
	run := &fakeRun{ID: id, Name: "CI", WorkflowID: 159038, HeadSHA: headSHA, Status: "completed", PullNumbers: []int{7}}
	var js []fakeJob
	for i, name := range names {
		js = append(js, fakeJob{ID: id*10 + int64(i), Name: name, Conclusion: "failure", FailedStep: "Run npm test -- --coverage", Log: decoyFailLog})
	}
	run.Attempts = []fakeAttempt{{Conclusion: "failure", Jobs: js}}
	return run
}

func TestBaselineDropsLinesOfTheLastGreenRun(t *testing.T) {
	t.Parallel()

	t.Run("without a green run the decoy wins", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addRun(decoyRun(runID, "test"))
		out := h.analyze(t, webhookArgs(runID, 1))
		require.Len(t, out.Failures, 1)
		require.Equal(t, "network_error", out.Failures[0].Classification)
		require.Len(t, h.gh.requestsTo("GET", "/actions/workflows/159038/runs"), 1)
		require.Empty(t, h.gh.requestsTo("GET", fmt.Sprintf("/actions/runs/%d/jobs", greenRunID)))
	})

	t.Run("the green run's log removes the decoy; two extra calls per failed job at most", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addRun(greenRun(map[string]int64{"test (1)": 388000001, "test (2)": 388000002, "lint": 388000003}, decoyPassLog))
		h.gh.addRun(decoyRun(runID, "test (1)", "test (2)"))
		// The fake answers 422 unless the query is branch=main&status=success&per_page=1: the
		// run's head branch is "feature", its pull request's base "main".
		out := h.analyze(t, webhookArgs(runID, 1))
		require.Len(t, out.Failures, 1, "both jobs fail the same way: %+v", out.Failures)
		require.Equal(t, "test_failure", out.Failures[0].Classification)
		require.ElementsMatch(t, []string{"test (1)", "test (2)"}, out.Failures[0].Jobs)
		extra := len(h.gh.requestsTo("GET", "/actions/workflows/159038/runs")) +
			len(h.gh.requestsTo("GET", fmt.Sprintf("/actions/runs/%d/jobs", greenRunID))) +
			len(h.gh.requestsTo("GET", "/actions/jobs/388000001/logs")) + len(h.gh.requestsTo("GET", "/actions/jobs/388000002/logs"))
		require.Equal(t, 4, extra)
		require.Empty(t, h.gh.requestsTo("GET", "/actions/jobs/388000003/logs"), "only the failed jobs' namesakes")
		require.Contains(t, h.gh.Comments(7)[0].Body, "fail-under")

		// Another failure on the same base: the passing logs are cached per job and commit.
		h.gh.addRun(decoyRun(runID+1, "test (1)"))
		out = h.analyze(t, webhookArgs(runID+1, 1))
		require.Equal(t, "test_failure", out.Failures[0].Classification)
		require.Len(t, h.gh.requestsTo("GET", fmt.Sprintf("/actions/runs/%d/jobs", greenRunID)), 1)
		require.Len(t, h.gh.requestsTo("GET", "/actions/jobs/388000001/logs"), 1)
	})

	t.Run("a green run without the job gives no baseline", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addRun(greenRun(map[string]int64{"build": 388000004}, decoyPassLog))
		h.gh.addRun(decoyRun(runID, "test"))
		out := h.analyze(t, webhookArgs(runID, 1))
		require.Equal(t, "network_error", out.Failures[0].Classification)
		require.Empty(t, h.gh.requestsTo("GET", "/actions/jobs/388000004/logs"))
	})

	for _, tc := range []struct {
		name string
		path string
		fail apiFailure
	}{
		{"runs look-up fails with 500", "/repos/acme/widgets/actions/workflows/159038/runs", apiFailure{Status: http.StatusInternalServerError, Body: `{"message":"boom"}`}},
		{"runs look-up is rate limited", "/repos/acme/widgets/actions/workflows/159038/runs", apiFailure{Status: http.StatusTooManyRequests, Headers: map[string]string{"Retry-After": "60"}, Body: `{"message":"slow down"}`}},
		{"green jobs are forbidden", fmt.Sprintf("/repos/acme/widgets/actions/runs/%d/jobs", greenRunID), apiFailure{Status: http.StatusForbidden, Body: `{"message":"no"}`}},
		{"green log is gone", "/repos/acme/widgets/actions/jobs/388000001/logs", apiFailure{Status: http.StatusGone, Body: `{"message":"expired"}`}},
	} {
		t.Run(tc.name+": the analysis goes on without a baseline", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.gh.addRun(greenRun(map[string]int64{"test": 388000001}, decoyPassLog))
			h.gh.addRun(decoyRun(runID, "test"))
			h.gh.fail("GET", tc.path, tc.fail)
			out := h.analyze(t, webhookArgs(runID, 1))
			require.Len(t, out.Failures, 1)
			require.Equal(t, "network_error", out.Failures[0].Classification)
			require.Len(t, h.gh.Comments(7), 1)
		})
	}
}

// A passing log that does not come is given up after the timeout, and the error names no
// signed address.
func TestBaselineDownloadIsBoundedAndRedacted(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	// slow stands in for GitHub's log storage (the signed blob address the API redirects to),
	// not for the API, so it stays its own server.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	api := ghapptest.New(t)
	api.HandleFunc("GET /repos/{owner}/{repo}/actions/jobs/{id}/logs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", slow.URL+"/logs/"+r.PathValue("id")+"?sig=s3cr3t-signature")
		w.WriteHeader(http.StatusFound)
	})
	client := api.Client(ghapptest.ClientOptions{})
	s := &session{w: NewWorker(Deps{LogClient: slow.Client()}), client: client, args: Args{Owner: fakeOwner, Repo: fakeRepo}}
	b := &baselines{s: s, workflowID: 1, branch: "main", timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := b.download(context.Background(), 5)
	require.Error(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)
	require.NotContains(t, err.Error(), "s3cr3t")
	require.Equal(t, []string{"GET /repos/" + fakeOwner + "/" + fakeRepo + "/actions/jobs/5/logs"}, api.Calls(""))
}
