package commands

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp/ghapptest"
)

// override answers one "METHOD /path" with a fixed response (a ghapptest.Fault).
type override struct {
	Status  int
	Headers map[string]string
	Body    string
	// Times is how many requests it answers; zero means all.
	Times int
	// Content limits it to reactions with this content.
	Content string
}

// fakeGitHub is the state of one repository, acme/widgets (id 42), with pull request 7 and the
// command comment 9001, served by the shared fake GitHub (ghapptest).
type fakeGitHub struct {
	t   *testing.T
	srv *ghapptest.Server

	mu          sync.Mutex
	body        string            // the command comment's body
	author      string            // the command comment's author
	roles       map[string]string // login → role_name
	headSHA     string
	fork        bool
	runs        []map[string]any
	prComments  []map[string]any
	nextID      int64
	commentGone bool
	// cached makes client() cache as the server's clients do (httpcache, honouring GitHub's
	// "max-age=60" on lists).
	cached bool
	// clientTimeout is the timeout of client(); zero means none.
	clientTimeout time.Duration
}

func newFakeGitHub(t *testing.T, body string) *fakeGitHub {
	f := &fakeGitHub{
		t: t, body: body, author: "alice", headSHA: "abc1234def",
		roles:  map[string]string{"alice": "write", "rita": "read"},
		nextID: 50000,
		srv:    ghapptest.New(t),
	}
	f.routes()
	return f
}

// client returns a go-github client pointed at the fake.
func (f *fakeGitHub) client() *github.Client {
	return f.srv.Client(ghapptest.ClientOptions{Timeout: f.clientTimeout, Cached: f.cached})
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
	fault := ghapptest.Fault{Method: method, Path: path, Status: o.Status, Headers: o.Headers, Body: o.Body, Times: o.Times}
	if o.Content != "" {
		fault.Match = func(r ghapptest.Request) bool {
			var b struct{ Content string }
			_ = json.Unmarshal([]byte(r.Body), &b)
			return b.Content == o.Content
		}
	}
	f.srv.Fail(fault)
}

// calls returns the recorded "METHOD /path" strings, optionally only those containing substr.
func (f *fakeGitHub) calls(substr string) []string { return f.srv.Calls(substr) }

// reactions returns the reaction contents posted, in order.
func (f *fakeGitHub) reactions() []string {
	var out []string
	for _, r := range f.srv.Requests() {
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

// routes serves the repository's state.
func (f *fakeGitHub) routes() {
	const repo = "/repos/acme/widgets"
	reply, notFound := ghapptest.JSON, ghapptest.NotFound
	handle := func(pattern string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
		f.srv.Handle(pattern, func(w http.ResponseWriter, r *http.Request, body []byte) {
			f.mu.Lock()
			defer f.mu.Unlock()
			h(w, r, body)
		})
	}
	handle("GET "+repo+"/issues/comments/9001", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if f.commentGone {
			notFound(w)
			return
		}
		reply(w, 200, map[string]any{"id": 9001, "body": f.body, "user": map[string]any{"login": f.author, "type": "User"},
			"html_url": "https://github.com/acme/widgets/pull/7#issuecomment-9001", "created_at": "2030-01-01T11:00:00Z"})
	})
	handle("POST "+repo+"/issues/comments/9001/reactions", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		reply(w, 201, map[string]any{"id": 1, "content": "x"})
	})
	handle("GET "+repo+"/pulls/7", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		headRepo := 42
		if f.fork {
			headRepo = 99
		}
		reply(w, 200, map[string]any{"number": 7, "head": map[string]any{"sha": f.headSHA, "repo": map[string]any{"id": headRepo}},
			"base": map[string]any{"repo": map[string]any{"id": 42}}})
	})
	handle("GET "+repo+"/collaborators/{login}/permission", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		login := r.PathValue("login")
		role, ok := f.roles[login]
		if !ok {
			notFound(w)
			return
		}
		perm := map[string]string{"maintain": "write", "triage": "read"}[role]
		if perm == "" {
			perm = role
		}
		reply(w, 200, map[string]any{"permission": perm, "role_name": role, "user": map[string]any{"login": login}})
	})
	handle("GET "+repo+"/actions/runs", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		q := r.URL.Query()
		var out []map[string]any
		for _, run := range f.runs {
			if run["head_sha"] == q.Get("head_sha") && (q.Get("status") == "" || run["conclusion"] == q.Get("status") && run["status"] == "completed") {
				out = append(out, run)
			}
		}
		reply(w, 200, map[string]any{"total_count": len(out), "workflow_runs": out})
	})
	run := func(w http.ResponseWriter, r *http.Request) map[string]any {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		for _, run := range f.runs {
			if run["id"] == id {
				return run
			}
		}
		notFound(w)
		return nil
	}
	handle("GET "+repo+"/actions/runs/{id}", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if run := run(w, r); run != nil {
			reply(w, 200, run)
		}
	})
	handle("POST "+repo+"/actions/runs/{id}/rerun-failed-jobs", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if run := run(w, r); run != nil {
			run["status"] = "queued"
			reply(w, 201, map[string]any{})
		}
	})
	handle("GET "+repo+"/issues/7/comments", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		// As GitHub does: lists may be served from a cache for a minute.
		w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
		w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
		reply(w, 200, f.prComments)
	})
	handle("POST "+repo+"/issues/7/comments", func(w http.ResponseWriter, _ *http.Request, raw []byte) {
		var in map[string]any
		_ = json.Unmarshal(raw, &in)
		f.nextID++
		c := map[string]any{"id": f.nextID, "body": in["body"], "user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}}
		f.prComments = append(f.prComments, c)
		reply(w, 201, c)
	})
	handle("PATCH "+repo+"/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request, raw []byte) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		var in map[string]any
		_ = json.Unmarshal(raw, &in)
		for _, c := range f.prComments {
			if c["id"] == id {
				c["body"] = in["body"]
				reply(w, 200, c)
				return
			}
		}
		notFound(w)
	})
}
