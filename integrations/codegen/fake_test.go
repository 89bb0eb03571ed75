package codegen

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

const testToken = "cg_t0ken_S3cr3tValue"

// recorded is one request the fake saw.
type recorded struct {
	Method, Path, Authorization string
	Query                       map[string]string
	Body                        map[string]any
}

// fakeCodegen is a Codegen API on loopback: it keeps agent runs whose
// status walks through a script on each GET, serves a repository listing in
// pages, and records every request. fail, when set, answers instead.
type fakeCodegen struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	nextID   int64
	runs     map[int64]*fakeRun
	// walk is the statuses a new run reports on successive GETs; the last
	// one stays. pr, when set, is attached once the last status is reached.
	walk  []string
	pr    *PullRequest
	repos []Repo
	// listGate, when set, is received from before a listing answers.
	listGate chan struct{}
	fail     func(w http.ResponseWriter, r *http.Request) bool
}

type fakeRun struct {
	run   Run
	gets  int
	walk  []string
	pr    *PullRequest
	resum []string
}

func newFakeCodegen(t *testing.T) *fakeCodegen {
	t.Helper()
	f := &fakeCodegen{nextID: 100, runs: map[int64]*fakeRun{}, walk: []string{"PENDING"}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeCodegen) calls() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

func (f *fakeCodegen) count(method, path string) int {
	n := 0
	for _, c := range f.calls() {
		if c.Method == method && c.Path == path {
			n++
		}
	}
	return n
}

func (f *fakeCodegen) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Query: map[string]string{}}
	for k := range r.URL.Query() {
		rec.Query[k] = r.URL.Query().Get(k)
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &rec.Body); err != nil {
			http.Error(w, `{"detail":"bad json"}`, http.StatusBadRequest)
			return
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	fail := f.fail
	f.mu.Unlock()
	if fail != nil && fail(w, r) {
		return
	}
	if rec.Authorization != "Bearer "+testToken {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid token"})
		return
	}
	const org = "/v1/organizations/42"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == org+"/agent/run":
		f.mu.Lock()
		f.nextID++
		fr := &fakeRun{run: Run{ID: f.nextID, Status: Status(f.walk[0]), WebURL: fmt.Sprintf("https://codegen.com/agent/trace/%d", f.nextID)}, walk: f.walk, pr: f.pr}
		f.runs[fr.run.ID] = fr
		run := fr.run
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, runJSON(run))
	case r.Method == http.MethodPost && r.URL.Path == org+"/agent/run/resume":
		id, _ := rec.Body["agent_run_id"].(float64)
		f.mu.Lock()
		fr, ok := f.runs[int64(id)]
		if ok {
			fr.resum = append(fr.resum, fmt.Sprint(rec.Body["prompt"]))
			fr.gets, fr.run.Status, fr.run.PullRequests = 0, Status(fr.walk[0]), nil
		}
		f.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Agent run not found"})
			return
		}
		writeJSON(w, http.StatusOK, runJSON(fr.run))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, org+"/agent/run/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, org+"/agent/run/"), 10, 64)
		f.mu.Lock()
		fr, ok := f.runs[id]
		var run Run
		if ok {
			fr.gets++
			step := min(fr.gets, len(fr.walk)-1)
			fr.run.Status = Status(fr.walk[step])
			if step == len(fr.walk)-1 && fr.pr != nil {
				fr.run.PullRequests = []PullRequest{*fr.pr}
				fr.run.Summary = "Fixed the failing assertion"
			}
			run = fr.run
		}
		f.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Agent run not found"})
			return
		}
		writeJSON(w, http.StatusOK, runJSON(run))
	case r.Method == http.MethodGet && r.URL.Path == org+"/repos":
		if f.listGate != nil {
			select { // a second listing waits in vain and is then counted
			case <-f.listGate:
			case <-time.After(3 * time.Second):
			}
		}
		skip, _ := strconv.Atoi(r.URL.Query().Get("skip"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		f.mu.Lock()
		total := len(f.repos)
		end := min(skip+limit, total)
		items := append([]Repo{}, f.repos[min(skip, total):end]...)
		f.mu.Unlock()
		pages := (total + limit - 1) / limit
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			out = append(out, map[string]any{"id": it.ID, "name": it.Name, "full_name": it.FullName, "description": nil,
				"github_id": strconv.FormatInt(it.ID*7, 10), "organization_id": 42, "visibility": "private", "archived": false, "setup_status": "COMPLETE", "language": "Go"})
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": total, "page": skip/limit + 1, "size": limit, "pages": pages})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
	}
}

// runJSON writes a run in Codegen's documented AgentRunResponse shape, not
// through the client's own struct tags.
func runJSON(r Run) map[string]any {
	prs := []map[string]any{}
	for _, p := range r.PullRequests {
		prs = append(prs, map[string]any{"id": p.ID, "title": p.Title, "url": p.URL, "created_at": "2026-12-01T10:00:00Z", "head_branch_name": p.HeadBranchName})
	}
	m := map[string]any{
		"id": r.ID, "organization_id": 42, "status": string(r.Status), "created_at": "2026-12-01T09:00:00Z",
		"web_url": r.WebURL, "result": nil, "summary": nil, "source_type": "API", "github_pull_requests": prs,
		"metadata": map[string]any{},
	}
	if r.Summary != "" {
		m["summary"], m["result"] = r.Summary, "Opened a pull request"
	}
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
