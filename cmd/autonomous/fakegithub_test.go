package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub is the GitHub REST API (Enterprise-style /api/v3 prefix) on loopback, with just
// what the server's workflows call. It records every request.
type fakeGitHub struct {
	t    testing.TB
	srv  *httptest.Server
	blob *httptest.Server

	mu       sync.Mutex
	requests []string
	comments map[int][]fakeComment
	nextID   int64
	checks   int
	reruns   map[int64]int
	// runAttempt is the latest attempt of every run (default 1).
	runAttempt map[int64]int
	// hangRun makes GET run block until the channel is closed (crash tests).
	hangRun chan struct{}
	// logText is every job's log.
	logText string
}

type fakeComment struct {
	ID   int64
	Body string
	// Edits counts PATCHes.
	Edits int
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{t: t, comments: map[int][]fakeComment{}, nextID: 1000, reruns: map[int64]int{}, runAttempt: map[int64]int{},
		logText: "2026-11-27T06:41:00.0000000Z ##[group]Run go test ./...\n" +
			"2026-11-27T06:41:01.0000000Z --- FAIL: TestGreeting (0.00s)\n" +
			"2026-11-27T06:41:01.0000000Z     greet_test.go:12: got \"hullo\", want \"hello\"\n" +
			"2026-11-27T06:41:01.0000000Z FAIL\n" +
			"2026-11-27T06:41:01.0000000Z FAIL\texample.com/hello\t0.012s\n" +
			"2026-11-27T06:41:02.0000000Z ##[error]Process completed with exit code 1.\n"}
	f.blob = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		text := f.logText
		f.mu.Unlock()
		_, _ = io.WriteString(w, text)
	}))
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.mu.Lock()
		if f.hangRun != nil {
			select {
			case <-f.hangRun:
			default:
				close(f.hangRun)
			}
		}
		f.mu.Unlock()
		f.srv.Close()
		f.blob.Close()
	})
	return f
}

// APIURL is GITHUB_API_URL for the server under test.
func (f *fakeGitHub) APIURL() string { return f.srv.URL + "/api/v3/" }

func (f *fakeGitHub) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// countExact counts requests equal to "METHOD /path".
func (f *fakeGitHub) countExact(request string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r == request {
			n++
		}
	}
	return n
}

func (f *fakeGitHub) commentsOn(number int) []fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeComment(nil), f.comments[number]...)
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+path)
	hang := f.hangRun
	f.mu.Unlock()
	parts := strings.Split(strings.Trim(path, "/"), "/")
	const repo = "/repos/octo-org/hello-world/"
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/app/installations/") && strings.HasSuffix(path, "/access_tokens"):
		writeJSONBody(w, http.StatusCreated, map[string]any{"token": "ghs_faketoken", "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	case r.Method == http.MethodGet && path == "/app":
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 1, "slug": "autonomous-ci", "name": "Autonomous CI"})
	case r.Method == http.MethodGet && strings.HasPrefix(path, repo+"contents/"), r.Method == http.MethodGet && path == "/repos/octo-org/.github":
		writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "actions" && parts[4] == "runs":
		if hang != nil {
			<-hang
		}
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		writeJSONBody(w, http.StatusOK, f.run(id))
	case r.Method == http.MethodGet && len(parts) == 9 && parts[6] == "attempts" && parts[8] == "jobs":
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		writeJSONBody(w, http.StatusOK, map[string]any{"total_count": 1, "jobs": []any{map[string]any{
			"id": id*10 + 1, "run_id": id, "name": "test (ubuntu-latest)", "status": "completed", "conclusion": "failure",
			"head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "html_url": fmt.Sprintf("https://github.com/octo-org/hello-world/actions/runs/%d/job/%d", id, id*10+1),
			"steps": []any{
				map[string]any{"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1},
				map[string]any{"name": "Run go test ./...", "status": "completed", "conclusion": "failure", "number": 2},
			},
		}}})
	case r.Method == http.MethodGet && len(parts) == 7 && parts[4] == "jobs" && parts[6] == "logs":
		http.Redirect(w, r, f.blob.URL+"/logs/"+parts[5], http.StatusFound)
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "issues" && parts[5] == "comments":
		n, _ := strconv.Atoi(parts[4])
		var out []any
		for _, c := range f.commentsOn(n) {
			out = append(out, map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}})
		}
		writeJSONBody(w, http.StatusOK, out)
	case r.Method == http.MethodPost && len(parts) == 6 && parts[3] == "issues" && parts[5] == "comments":
		n, _ := strconv.Atoi(parts[4])
		var body struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.nextID++
		c := fakeComment{ID: f.nextID, Body: body.Body}
		f.comments[n] = append(f.comments[n], c)
		f.mu.Unlock()
		writeJSONBody(w, http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body})
	case r.Method == http.MethodPatch && len(parts) == 6 && parts[3] == "issues" && parts[4] == "comments":
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		var body struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		for n, list := range f.comments {
			for i := range list {
				if list[i].ID == id {
					list[i].Body = body.Body
					list[i].Edits++
					f.comments[n] = list
					writeJSONBody(w, http.StatusOK, map[string]any{"id": id, "body": body.Body})
					return
				}
			}
		}
		writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	case r.Method == http.MethodPost && path == repo+"check-runs":
		f.mu.Lock()
		f.checks++
		id := f.checks
		f.mu.Unlock()
		writeJSONBody(w, http.StatusCreated, map[string]any{"id": id})
	case r.Method == http.MethodPatch && strings.HasPrefix(path, repo+"check-runs/"):
		id, _ := strconv.ParseInt(parts[4], 10, 64)
		writeJSONBody(w, http.StatusOK, map[string]any{"id": id})
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/rerun-failed-jobs"):
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		f.mu.Lock()
		f.reruns[id]++
		f.mu.Unlock()
		writeJSONBody(w, http.StatusCreated, map[string]any{})
	default:
		writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found (fake)"})
	}
}

// run is a failed pull-request run in GitHub's shape.
func (f *fakeGitHub) run(id int64) map[string]any {
	f.mu.Lock()
	attempt := f.runAttempt[id]
	f.mu.Unlock()
	if attempt == 0 {
		attempt = 1
	}
	sha := "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	return map[string]any{
		"id": id, "name": "CI", "head_sha": sha, "head_branch": "fix-greeting", "run_attempt": attempt, "workflow_id": 159038,
		"status": "completed", "conclusion": "failure", "event": "pull_request",
		"html_url":      fmt.Sprintf("https://github.com/octo-org/hello-world/actions/runs/%d", id),
		"pull_requests": []any{map[string]any{"number": 42, "head": map[string]any{"sha": sha, "ref": "fix-greeting"}}},
	}
}
