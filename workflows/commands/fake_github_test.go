package commands

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

	"github.com/google/go-github/v62/github"
	"github.com/gregjones/httpcache"
)

// request is one call the fake GitHub received.
type request struct {
	Method string
	Path   string
	Query  string
	Body   string
}

// override answers one "METHOD /path" with a fixed response.
type override struct {
	Status  int
	Headers map[string]string
	Body    string
	// Times is how many requests it answers; zero means all.
	Times int
	// Content limits it to reactions with this content.
	Content string
}

// fakeGitHub is an in-memory GitHub REST API for one repository, acme/widgets (id 42), with
// pull request 7 and the command comment 9001.
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	requests    []request
	body        string            // the command comment's body
	author      string            // the command comment's author
	roles       map[string]string // login → role_name
	headSHA     string
	fork        bool
	runs        []map[string]any
	prComments  []map[string]any
	nextID      int64
	overrides   map[string]override
	commentGone bool
	// cached makes client() cache as the server's clients do (httpcache, honouring GitHub's
	// "max-age=60" on lists).
	cached bool
	// clientTimeout is the timeout of client(); zero means none.
	clientTimeout time.Duration
	// slow delays "METHOD /path" before it is served, Times requests (zero: all): the request
	// then takes effect after the client may have given up.
	slow map[string]override
	// slowDelay is how long slow requests wait.
	slowDelay time.Duration
}

func newFakeGitHub(t *testing.T, body string) *fakeGitHub {
	f := &fakeGitHub{
		t: t, body: body, author: "alice", headSHA: "abc1234def",
		roles:     map[string]string{"alice": "write", "rita": "read"},
		nextID:    50000,
		overrides: map[string]override{}, slow: map[string]override{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a go-github client pointed at the fake.
func (f *fakeGitHub) client() *github.Client {
	hc := &http.Client{Timeout: f.clientTimeout}
	if f.cached {
		hc.Transport = httpcache.NewMemoryCacheTransport()
	}
	c, err := github.NewClient(hc).WithEnterpriseURLs(f.srv.URL+"/", f.srv.URL+"/")
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fakeGitHub) addRun(id, workflowID int64, sha string, prs ...int) {
	f.addRunWith(id, workflowID, sha, "pull_request", "failure", prs...)
}

// addRunWith adds a completed run of a workflow triggered by event that ended with conclusion.
func (f *fakeGitHub) addRunWith(id, workflowID int64, sha, event, conclusion string, prs ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var pulls []map[string]any
	for _, n := range prs {
		pulls = append(pulls, map[string]any{"number": n, "base": map[string]any{"repo": map[string]any{"id": 42}}})
	}
	f.runs = append(f.runs, map[string]any{
		"id": id, "workflow_id": workflowID, "name": fmt.Sprintf("CI <%d>", workflowID), "run_number": id % 100,
		"run_attempt": 1, "head_sha": sha, "status": "completed", "conclusion": conclusion, "event": event,
		"html_url":      fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d", id),
		"created_at":    fmt.Sprintf("2030-01-01T10:%02d:00Z", id%60),
		"pull_requests": pulls, "repository": map[string]any{"id": 42},
	})
}

func (f *fakeGitHub) setOverride(method, path string, o override) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.overrides[method+" "+path] = o
}

// calls returns the recorded "METHOD /path" strings, optionally only those containing substr.
func (f *fakeGitHub) calls(substr string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if s := r.Method + " " + r.Path; strings.Contains(s, substr) {
			out = append(out, s)
		}
	}
	return out
}

// reactions returns the reaction contents posted, in order.
func (f *fakeGitHub) reactions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if strings.HasSuffix(r.Path, "/reactions") {
			var b struct{ Content string }
			_ = json.Unmarshal([]byte(r.Body), &b)
			out = append(out, b.Content)
		}
	}
	return out
}

// replies returns the bodies of the bot comments on the pull request.
func (f *fakeGitHub) replies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.prComments {
		out = append(out, c["body"].(string))
	}
	return out
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	raw, _ := io.ReadAll(r.Body)
	key := r.Method + " " + path
	f.mu.Lock()
	slow, slowing := f.slow[key]
	if slowing && slow.Times > 0 {
		if slow.Times--; slow.Times == 0 {
			delete(f.slow, key)
		} else {
			f.slow[key] = slow
		}
	}
	delay := f.slowDelay
	f.mu.Unlock()
	if slowing {
		time.Sleep(delay) // the client may be gone by now; the request still takes effect
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, request{Method: r.Method, Path: path, Query: r.URL.RawQuery, Body: string(raw)})
	var content struct{ Content string }
	_ = json.Unmarshal(raw, &content)
	if o, ok := f.overrides[key]; ok && (o.Content == "" || o.Content == content.Content) {
		if o.Times > 0 {
			if o.Times--; o.Times == 0 {
				delete(f.overrides, key)
			} else {
				f.overrides[key] = o
			}
		}
		for k, v := range o.Headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(o.Status)
		_, _ = io.WriteString(w, o.Body)
		return
	}
	const repo = "/repos/acme/widgets"
	parts := strings.Split(strings.TrimPrefix(path, repo+"/"), "/")
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	notFound := func() { reply(http.StatusNotFound, map[string]any{"message": "Not Found"}) }
	switch {
	case r.Method == "GET" && path == repo+"/issues/comments/9001":
		if f.commentGone {
			notFound()
			return
		}
		reply(200, map[string]any{"id": 9001, "body": f.body, "user": map[string]any{"login": f.author, "type": "User"},
			"html_url": "https://github.com/acme/widgets/pull/7#issuecomment-9001", "created_at": "2030-01-01T11:00:00Z"})
	case r.Method == "POST" && path == repo+"/issues/comments/9001/reactions":
		reply(201, map[string]any{"id": 1, "content": "x"})
	case r.Method == "GET" && path == repo+"/pulls/7":
		headRepo := 42
		if f.fork {
			headRepo = 99
		}
		reply(200, map[string]any{"number": 7, "head": map[string]any{"sha": f.headSHA, "repo": map[string]any{"id": headRepo}},
			"base": map[string]any{"repo": map[string]any{"id": 42}}})
	case r.Method == "GET" && len(parts) == 3 && parts[0] == "collaborators" && parts[2] == "permission":
		role, ok := f.roles[parts[1]]
		if !ok {
			notFound()
			return
		}
		perm := map[string]string{"maintain": "write", "triage": "read"}[role]
		if perm == "" {
			perm = role
		}
		reply(200, map[string]any{"permission": perm, "role_name": role, "user": map[string]any{"login": parts[1]}})
	case r.Method == "GET" && path == repo+"/actions/runs":
		q := r.URL.Query()
		var out []map[string]any
		for _, run := range f.runs {
			if run["head_sha"] == q.Get("head_sha") && (q.Get("status") == "" || run["conclusion"] == q.Get("status") && run["status"] == "completed") {
				out = append(out, run)
			}
		}
		reply(200, map[string]any{"total_count": len(out), "workflow_runs": out})
	case len(parts) >= 3 && parts[0] == "actions" && parts[1] == "runs":
		id, _ := strconv.ParseInt(parts[2], 10, 64)
		for _, run := range f.runs {
			if run["id"] == id {
				if r.Method == "POST" && len(parts) == 4 && parts[3] == "rerun-failed-jobs" {
					run["status"] = "queued"
					reply(201, map[string]any{})
					return
				}
				reply(200, run)
				return
			}
		}
		notFound()
	case r.Method == "GET" && path == repo+"/issues/7/comments":
		// As GitHub does: lists may be served from a cache for a minute.
		w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
		w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
		reply(200, f.prComments)
	case r.Method == "POST" && path == repo+"/issues/7/comments":
		var in map[string]any
		_ = json.Unmarshal(raw, &in)
		f.nextID++
		c := map[string]any{"id": f.nextID, "body": in["body"], "user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}}
		f.prComments = append(f.prComments, c)
		reply(201, c)
	case r.Method == "PATCH" && len(parts) == 3 && parts[0] == "issues" && parts[1] == "comments":
		id, _ := strconv.ParseInt(parts[2], 10, 64)
		var in map[string]any
		_ = json.Unmarshal(raw, &in)
		for _, c := range f.prComments {
			if c["id"] == id {
				c["body"] = in["body"]
				reply(200, c)
				return
			}
		}
		notFound()
	default:
		notFound()
	}
}
