package failureanalysis

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp/ghapptest"
)

// apiRequest is one request the fake GitHub API received (path without /api/v3).
type apiRequest = ghapptest.Request

// apiFailure is a canned error answer for one "METHOD /path".
type apiFailure struct {
	Status  int
	Headers map[string]string
	Body    string
	// Times is how many requests fail; zero means all.
	Times int
}

// fakeRun is a workflow run and its attempts, in GitHub's shapes.
type fakeRun struct {
	ID          int64
	Name        string
	WorkflowID  int64
	HeadSHA     string
	Status      string
	Attempts    []fakeAttempt // index 0 is attempt 1; the last is the run's latest attempt
	PullNumbers []int
	// PRHeadSHA is the pull requests' head commit; empty means HeadSHA.
	PRHeadSHA string
	// ForkOwner makes the run a pull request run from that owner's fork: as GitHub does, the
	// run then lists no pull requests, and GET /pulls?head=<owner>:feature finds them.
	ForkOwner string
	// HeadBranch is the run's head branch; empty means "feature".
	HeadBranch string
	// Event is the run's event; empty means "pull_request".
	Event string
}

// fakeAttempt is one attempt of a run.
type fakeAttempt struct {
	Conclusion string
	Jobs       []fakeJob
}

// fakeJob is one job of an attempt; Log is served by the blob server.
type fakeJob struct {
	ID         int64
	Name       string
	Conclusion string
	FailedStep string
	Log        string
	// CompletedAt is when the job completed; zero means long ago.
	CompletedAt time.Time
}

// fakeComment is an issue comment held by the fake.
type fakeComment struct {
	ID     int64
	Number int
	Body   string
	Login  string
	Type   string
}

// fakeGitHub is the in-memory state of a repository served by the shared fake GitHub
// (ghapptest: routing, recording, faults); job logs go through a 302 to a separate blob server,
// as GitHub does.
type fakeGitHub struct {
	t    testing.TB
	api  *ghapptest.Server
	blob *httptest.Server

	mu         sync.Mutex
	forkPulls  map[string][]int
	blobRanges []string
	runs       map[int64]*fakeRun
	logs       map[int64]string
	comments   []*fakeComment
	checkRuns  map[int64]map[string]any
	nextID     int64
	config     string // .github/autonomous.yml; empty answers 404
	reruns     []int64
	// ignoreRange makes the blob server answer 200 with the whole log.
	ignoreRange bool
	// clientTimeout is the timeout of the clients the fake hands out; zero means none.
	clientTimeout time.Duration
}

// apiSlow delays requests; Times is how many (zero means all).
type apiSlow struct {
	Delay time.Duration
	Times int
}

const (
	fakeOwner = "acme"
	fakeRepo  = "widgets"
)

func newFakeGitHub(t testing.TB) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{
		t: t, runs: map[int64]*fakeRun{}, logs: map[int64]string{},
		checkRuns: map[int64]map[string]any{}, nextID: 5000, api: ghapptest.New(t),
	}
	f.blob = httptest.NewServer(http.HandlerFunc(f.serveBlob))
	t.Cleanup(f.blob.Close)
	mux := f.api
	p := "/repos/{owner}/{repo}"
	mux.HandleFunc("GET "+p+"/actions/runs/{id}", f.getRun)
	mux.HandleFunc("GET "+p+"/actions/runs/{id}/attempts/{n}", f.getAttempt)
	mux.HandleFunc("GET "+p+"/actions/runs/{id}/attempts/{n}/jobs", f.listJobs)
	mux.HandleFunc("POST "+p+"/actions/runs/{id}/rerun-failed-jobs", f.rerunFailedJobs)
	mux.HandleFunc("GET "+p+"/actions/jobs/{id}/logs", f.jobLogs)
	mux.HandleFunc("GET "+p+"/actions/workflows/{id}/runs", f.listWorkflowRuns) // fakegithub_baseline_test.go
	mux.HandleFunc("GET "+p+"/actions/runs/{id}/jobs", f.listRunJobs)
	mux.HandleFunc("GET "+p+"/issues/{n}/comments", f.listComments)
	mux.HandleFunc("POST "+p+"/issues/{n}/comments", f.createComment)
	mux.HandleFunc("PATCH "+p+"/issues/comments/{id}", f.editComment)
	mux.HandleFunc("POST "+p+"/check-runs", f.createCheckRun)
	mux.HandleFunc("PATCH "+p+"/check-runs/{id}", f.updateCheckRun)
	mux.HandleFunc("GET "+p+"/check-runs/{id}", f.getCheckRun)
	mux.HandleFunc("GET "+p+"/check-runs/{id}/annotations", f.listAnnotations)
	mux.HandleFunc("GET "+p+"/contents/{path...}", f.getContents)
	mux.HandleFunc("GET "+p+"/pulls", f.listPulls)
	mux.HandleFunc("GET "+p+"/commits/{sha}/pulls", f.listCommitPulls)
	mux.HandleFunc("GET "+p+"/commits/{sha}/check-runs", f.listCommitCheckRuns)
	mux.HandleFunc("GET "+p, f.notFound) // the organization's .github repository
	return f
}

// client returns a go-github client pointed at the fake.
func (f *fakeGitHub) client() *github.Client {
	f.mu.Lock()
	timeout := f.clientTimeout
	f.mu.Unlock()
	return f.api.Client(ghapptest.ClientOptions{Timeout: timeout})
}

// ForRepo implements ghapp.Clients.
func (f *fakeGitHub) ForRepo(_ context.Context, _, _ string, installationID int64) (*github.Client, int64, error) {
	if installationID == 0 {
		installationID = 99
	}
	return f.client(), installationID, nil
}

// App implements ghapp.Clients.
func (f *fakeGitHub) App() (*github.Client, error) { return f.client(), nil }

// fail makes "METHOD path" (path without the /api/v3 prefix) answer with the failure.
func (f *fakeGitHub) fail(method, path string, failure apiFailure) {
	f.api.Fail(ghapptest.Fault{Method: method, Path: path, Status: failure.Status, Headers: failure.Headers, Body: failure.Body, Times: failure.Times})
}

// slowDown delays "METHOD path" (path without the /api/v3 prefix).
func (f *fakeGitHub) slowDown(method, path string, slow apiSlow) {
	f.api.Fail(ghapptest.Fault{Method: method, Path: path, Delay: slow.Delay, Times: slow.Times})
}

// addRun registers a run and the logs of its jobs.
func (f *fakeGitHub) addRun(run *fakeRun) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs[run.ID] = run
	for _, a := range run.Attempts {
		for _, j := range a.Jobs {
			f.logs[j.ID] = j.Log
		}
	}
}

// addCheckRun registers a third-party check run.
func (f *fakeGitHub) addCheckRun(id int64, check map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkRuns[id] = check
}

func (f *fakeGitHub) setConfig(yaml string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.config = yaml
}

// Requests returns the API requests so far.
func (f *fakeGitHub) Requests() []apiRequest { return f.api.Requests() }

// requestsTo returns the requests with the method whose path ends with suffix.
func (f *fakeGitHub) requestsTo(method, suffix string) []apiRequest {
	var out []apiRequest
	for _, r := range f.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// Comments returns the comments on a pull request.
func (f *fakeGitHub) Comments(number int) []fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeComment
	for _, c := range f.comments {
		if c.Number == number {
			out = append(out, *c)
		}
	}
	return out
}

// BotCheckRuns returns the check runs the bot created, by id.
func (f *fakeGitHub) BotCheckRuns() map[int64]map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]map[string]any{}
	for id, c := range f.checkRuns {
		if c["name"] == CheckRunName {
			out[id] = c
		}
	}
	return out
}

// Reruns returns the runs whose failed jobs were re-run.
func (f *fakeGitHub) Reruns() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.reruns...)
}

// BlobRanges returns the Range headers the blob server received.
func (f *fakeGitHub) BlobRanges() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.blobRanges...)
}

// listPulls answers GET /pulls?head=<owner>:<branch> with the open pull requests of the runs
// from that owner's fork.
func (f *fakeGitHub) listPulls(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	for _, run := range f.runs {
		if run.ForkOwner == "" || r.URL.Query().Get("head") != run.ForkOwner+":feature" || r.URL.Query().Get("state") != "open" {
			continue
		}
		sha := run.PRHeadSHA
		if sha == "" {
			sha = run.HeadSHA
		}
		for _, number := range run.PullNumbers {
			out = append(out, map[string]any{
				"id": 1000 + number, "number": number, "state": "open", "title": "Add widgets",
				"user": map[string]any{"login": run.ForkOwner, "type": "User"},
				"head": map[string]any{"ref": "feature", "sha": sha, "label": run.ForkOwner + ":feature",
					"repo": map[string]any{"id": 4242, "name": fakeRepo, "full_name": run.ForkOwner + "/" + fakeRepo}},
				"base": map[string]any{"ref": "main", "sha": "0000111122223333444455556666777788889999",
					"repo": map[string]any{"id": 42, "name": fakeRepo, "full_name": fakeOwner + "/" + fakeRepo}},
			})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// listCommitCheckRuns answers GET /commits/{sha}/check-runs[?check_name=]: the check runs
// created on the commit.
func (f *fakeGitHub) listCommitCheckRuns(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	name := r.URL.Query().Get("check_name")
	for _, id := range sortedKeys(f.checkRuns) {
		c := f.checkRuns[id]
		if c["head_sha"] == r.PathValue("sha") && (name == "" || c["name"] == name) {
			out = append(out, c)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(out), "check_runs": out})
}

// listCommitPulls answers GET /commits/{sha}/pulls: forkPulls maps a head commit to the open
// fork pull requests that have it as their head.
func (f *fakeGitHub) listCommitPulls(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	sha := r.PathValue("sha")
	for _, number := range f.forkPulls[sha] {
		out = append(out, map[string]any{
			"id": 2000 + number, "number": number, "state": "open",
			"head": map[string]any{"ref": "feature", "sha": sha, "repo": map[string]any{"id": 4242, "full_name": "someone/" + fakeRepo}},
		})
	}
	writeJSON(w, http.StatusOK, out)
}
