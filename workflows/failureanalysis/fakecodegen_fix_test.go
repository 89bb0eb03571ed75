package failureanalysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/budget"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeCodegen is Codegen's agent API on loopback: it records every prompt, and a run walks
// through walk (one status per GET, the last one stays), with pr attached once it reaches the
// last status. A resume starts the walk again. fail, when set, answers instead.
type fakeCodegen struct {
	srv     *httptest.Server
	mu      sync.Mutex
	nextID  int64
	runs    map[int64]*fakeAgentRun
	walk    []string
	pr      map[string]any
	creates []string // prompts of created runs
	resumes []string // prompts of resumes
	gets    int
	seen    []string // methods of /agent/run requests, refused ones included
	hold    bool     // every run reports RUNNING and does not advance
	fail    func(r *http.Request) (int, string)
}

type fakeAgentRun struct {
	gets int
	walk []string
}

func newFakeCodegen(t *testing.T) *fakeCodegen {
	t.Helper()
	f := &fakeCodegen{nextID: 500, runs: map[int64]*fakeAgentRun{}, walk: []string{"PENDING", "RUNNING", "COMPLETE"},
		pr: map[string]any{"id": 8008, "title": "Fix the widget parser", "url": "https://github.com/acme/widgets/pull/8", "head_branch_name": "codegen-bot/fix-parser"}}
	mux := http.NewServeMux()
	org := "/v1/organizations/{org}"
	mux.HandleFunc("POST "+org+"/agent/run", f.create)
	mux.HandleFunc("POST "+org+"/agent/run/resume", f.resume)
	mux.HandleFunc("GET "+org+"/agent/run/{id}", f.get)
	mux.HandleFunc("GET "+org+"/repos", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"items": []map[string]any{{"id": 77, "name": fakeRepo, "full_name": fakeOwner + "/" + fakeRepo}}, "total": 1, "pages": 1})
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer cg-test-token" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid token"})
			return
		}
		f.mu.Lock()
		fail := f.fail
		if strings.Contains(r.URL.Path, "/agent/run") {
			f.seen = append(f.seen, r.Method)
		}
		f.mu.Unlock()
		if fail != nil {
			if status, body := fail(r); status != 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, body)
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCodegen) client(t *testing.T) *codegen.Client {
	t.Helper()
	c, err := codegen.New("42", "cg-test-token", codegen.WithURL(f.srv.URL), codegen.WithCreateLimiter(nil))
	require.NoError(t, err)
	return c
}

func (f *fakeCodegen) setFail(fn func(r *http.Request) (int, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

func (f *fakeCodegen) setWalk(walk ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.walk = walk
}

func (f *fakeCodegen) prompts() (creates, resumes []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.creates...), append([]string(nil), f.resumes...)
}

func (f *fakeCodegen) runJSON(id int64, r *fakeAgentRun) map[string]any {
	status := r.walk[min(r.gets, len(r.walk)-1)]
	out := map[string]any{"id": id, "status": status, "web_url": fmt.Sprintf("https://codegen.com/agent/trace/%d", id), "github_pull_requests": []any{}}
	if r.gets >= len(r.walk)-1 && (codegen.Status(status).Succeeded()) {
		out["summary"] = "Fixed the off-by-one in the widget parser."
		out["github_pull_requests"] = []any{f.pr}
	}
	if codegen.Status(status).Failed() {
		out["result"] = "The agent could not reproduce the failure."
	}
	return out
}

func (f *fakeCodegen) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Prompt string `json:"prompt"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, body.Prompt)
	f.nextID++
	run := &fakeAgentRun{walk: append([]string(nil), f.walk...)}
	f.runs[f.nextID] = run
	writeJSON(w, http.StatusOK, map[string]any{"id": f.nextID, "status": "PENDING", "web_url": fmt.Sprintf("https://codegen.com/agent/trace/%d", f.nextID)})
}

func (f *fakeCodegen) resume(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID     int64  `json:"agent_run_id"`
		Prompt string `json:"prompt"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	defer f.mu.Unlock()
	run, ok := f.runs[body.ID]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Agent run not found"})
		return
	}
	f.resumes = append(f.resumes, body.Prompt)
	run.gets, run.walk = 0, append([]string(nil), f.walk...)
	writeJSON(w, http.StatusOK, map[string]any{"id": body.ID, "status": "RUNNING"})
}

func (f *fakeCodegen) get(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	run, ok := f.runs[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Agent run not found"})
		return
	}
	if f.hold {
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": "RUNNING", "web_url": fmt.Sprintf("https://codegen.com/agent/trace/%d", id)})
		return
	}
	out := f.runJSON(id, run)
	run.gets++
	writeJSON(w, http.StatusOK, out)
}

// fakePull is a pull request GET /pulls/{n} answers.
type fakePull struct {
	Login   string
	HeadRef string
	Labels  []string
	Fork    bool
}

// fixHarness is the harness with AI fixes on: both workers in one engine, the fake Codegen
// and pull requests the fake GitHub serves one by one.
type fixHarness struct {
	*harness
	cg     *fakeCodegen
	alerts *alertingtest.Notifier
	fixW   *FixWorker
	mu     sync.Mutex
	pulls  map[int]fakePull
}

func newFixHarness(t *testing.T) *fixHarness {
	t.Helper()
	h := &fixHarness{harness: &harness{gh: newFakeGitHub(t), store: workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))},
		cg: newFakeCodegen(t), alerts: &alertingtest.Notifier{}, pulls: map[int]fakePull{}}
	h.gh.api.HandleFunc("GET /repos/{owner}/{repo}/pulls/{n}", h.getPull)
	h.gh.api.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", h.listBranchRuns)
	deps := Deps{
		Clients: h.gh, Configs: config.NewRepoConfigLoader(0), Records: h.store,
		LogClient: h.gh.blob.Client(), CreateSettle: 200 * time.Millisecond,
		Agent: h.cg.client(t), Fixes: h.store, Budget: budget.Ledger{DB: h.store.DB, Dialect: h.store.Dialect},
		Alerts: h.alerts, AppSlug: "autonomous-ci",
		FixPoll: 5 * time.Millisecond, FixPollMax: 20 * time.Millisecond,
	}
	h.worker = NewWorker(deps)
	h.fixW = NewFixWorker(deps)
	workers := river.NewWorkers()
	river.AddWorker(workers, h.worker)
	river.AddWorker(workers, h.fixW)
	h.engine = workflowstest.StartEngine(t, h.store, workers)
	h.engine.Register(workflows.FailureAnalysis, Build) // the fix re-checks its PR's runs through Trigger
	h.gh.setConfig("auto_fix:\n  enabled: true\n")
	h.addPull(7, fakePull{Login: "alice", HeadRef: "feature"})
	return h
}

func (h *fixHarness) addPull(n int, p fakePull) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pulls[n] = p
}

func (h *fixHarness) getPull(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	h.mu.Lock()
	p, ok := h.pulls[n]
	h.mu.Unlock()
	if !ok {
		h.gh.notFound(w, r)
		return
	}
	labels := []map[string]any{}
	for i, l := range p.Labels {
		labels = append(labels, map[string]any{"id": 100 + i, "name": l})
	}
	headRepo := map[string]any{"id": 42, "name": fakeRepo, "full_name": fakeOwner + "/" + fakeRepo}
	if p.Fork {
		headRepo = map[string]any{"id": 4242, "name": fakeRepo, "full_name": "someone/" + fakeRepo}
	}
	userType := "User"
	if strings.HasSuffix(p.Login, "[bot]") {
		userType = "Bot"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": 1000 + n, "number": n, "state": "open", "title": "Add widgets",
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d", fakeOwner, fakeRepo, n),
		"user":     map[string]any{"login": p.Login, "type": userType}, "labels": labels,
		"head": map[string]any{"ref": p.HeadRef, "sha": headSHA, "repo": headRepo},
		"base": map[string]any{"ref": "main", "sha": "0000111122223333444455556666777788889999", "repo": map[string]any{"id": 42, "name": fakeRepo, "full_name": fakeOwner + "/" + fakeRepo}},
	})
}

// fix returns the fix of the newest row for pull request number, waiting until it is in state.
func (h *fixHarness) waitFix(t *testing.T, key, state string) store.AIFix {
	t.Helper()
	var fix store.AIFix
	require.Eventually(t, func() bool {
		f, ok, err := h.store.AIFixByKey(context.Background(), key)
		require.NoError(t, err)
		fix = f
		return ok && f.State == state
	}, 20*time.Second, 10*time.Millisecond, "fix %s never reached %s (last %s: %s)", key, state, fix.State, fix.Data)
	return fix
}

// stickyBody is the bot's sticky comment on pull request number.
func (h *fixHarness) stickyBody(t *testing.T, number int) string {
	t.Helper()
	for _, c := range h.gh.Comments(number) {
		if strings.Contains(c.Body, "<!-- autonomous-ci:failure-analysis -->") {
			return c.Body
		}
	}
	return ""
}

// srvRequests lists the methods of the agent-run requests the fake answered or refused.
func (f *fakeCodegen) srvRequests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

func newTestFix(key string) store.AIFix {
	fix := store.AIFix{Key: key, Owner: fakeOwner, Repo: fakeRepo, Number: 7, State: fixQueued, Attempts: 1}
	encodeFix(&fix, fixData{HeadSHA: headSHA, Fingerprint: "fp1", Branch: "feature", Class: "test_failure", Job: "test",
		Prompt: "Fix the failing test.", MaxAttempts: 3, Version: 1})
	return fix
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }

func (f *fakeCodegen) setHold(hold bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = hold
}

// listBranchRuns answers GET /actions/runs?branch=: the completed runs on the branch, created
// now (after any agent run started).
func (h *fixHarness) listBranchRuns(w http.ResponseWriter, r *http.Request) {
	h.gh.mu.Lock()
	defer h.gh.mu.Unlock()
	out := []map[string]any{}
	for _, id := range sortedKeys(h.gh.runs) {
		run := h.gh.runs[id]
		if run.HeadBranch == "" || run.HeadBranch != r.URL.Query().Get("branch") {
			continue
		}
		j := run.json(len(run.Attempts))
		j["created_at"] = time.Now().UTC().Format(time.RFC3339)
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(out), "workflow_runs": out})
}
