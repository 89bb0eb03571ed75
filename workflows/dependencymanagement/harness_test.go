package dependencymanagement_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/botpr/botprtest"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	dm "github.com/contexten/autonomous/workflows/dependencymanagement"
	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

const owner, name = "octo", "app"

// harness is one repository on the fake GitHub, the fake registries and OSV, and a River
// engine over SQLite running the worker.
type harness struct {
	srv    *ghapptest.Server
	repo   *botprtest.Repo
	proxy  *fakeProxy
	osv    *fakeOSV
	reg    *fakeRegistry
	store  *store.Store
	engine *workflows.Engine
	alerts *alertingtest.Notifier

	mu     sync.Mutex
	cfg    config.RepoConfig
	checks map[string][]map[string]any // sha -> check runs
	status map[string]map[string]any   // sha -> combined status
	issues []*github.Issue
	tags   map[string][]map[string]any // "owner/repo" -> tags
}

type fakeClients struct{ srv *ghapptest.Server }

func (f fakeClients) ForRepo(context.Context, string, string, int64) (*github.Client, int64, error) {
	return f.srv.Client(ghapptest.ClientOptions{Timeout: 10 * time.Second}), 7, nil
}

func (f fakeClients) App() (*github.Client, error) {
	return f.srv.Client(ghapptest.ClientOptions{Timeout: 10 * time.Second}), nil
}

type fakeConfigs struct{ h *harness }

func (f fakeConfigs) Load(context.Context, *github.Client, string, string) (config.RepoConfig, error) {
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	return f.h.cfg, nil
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{srv: ghapptest.New(t), proxy: newFakeProxy(t), osv: newFakeOSV(t), reg: newFakeRegistry(t),
		store: workflowstest.OpenStore(t, workflowstest.SQLiteURL(t)), alerts: &alertingtest.Notifier{},
		cfg: config.DefaultRepoConfig(), checks: map[string][]map[string]any{}, status: map[string]map[string]any{},
		tags: map[string][]map[string]any{}}
	h.repo = botprtest.Install(h.srv, owner, name, botprtest.Options{})
	h.routes()
	hc := &http.Client{Timeout: 10 * time.Second}
	w := dm.NewWorker(dm.Deps{
		Clients: fakeClients{h.srv}, Configs: fakeConfigs{h}, Records: h.store, Reports: h.store, PRs: dm.BotPR{},
		Go: registry.NewGoProxy(h.proxy.srv.URL, hc, 0), NPM: registry.NewNPM(h.reg.srv.URL, hc, time.Nanosecond),
		PyPI: registry.NewPyPI(h.reg.srv.URL, hc, time.Nanosecond), OSV: osv.New(h.osv.srv.URL, hc), Alerts: h.alerts,
	})
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	h.engine = workflowstest.StartEngine(t, h.store, workers)
	return h
}

func (h *harness) routes() {
	p := "/repos/" + owner + "/" + name
	h.srv.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, 200, map[string]any{"name": name, "full_name": owner + "/" + name, "default_branch": "main"})
	})
	h.srv.HandleFunc("GET "+p+"/commits/{sha}/check-runs", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		runs := h.checks[r.PathValue("sha")]
		ghapptest.JSON(w, 200, map[string]any{"total_count": len(runs), "check_runs": append([]map[string]any{}, runs...)})
	})
	h.srv.HandleFunc("GET "+p+"/commits/{sha}/status", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		st, ok := h.status[r.PathValue("sha")]
		if !ok {
			st = map[string]any{"state": "pending", "total_count": 0, "statuses": []any{}}
		}
		ghapptest.JSON(w, 200, st)
	})
	h.srv.HandleFunc("GET "+p+"/issues", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		var open []*github.Issue
		for _, is := range h.issues {
			if is.GetState() == "open" {
				open = append(open, is)
			}
		}
		ghapptest.JSON(w, 200, append([]*github.Issue{}, open...))
	})
	h.srv.Handle("POST "+p+"/issues", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req github.IssueRequest
		_ = json.Unmarshal(body, &req)
		h.mu.Lock()
		defer h.mu.Unlock()
		is := &github.Issue{Number: github.Int(1000 + len(h.issues)), Title: req.Title, Body: req.Body, State: github.String("open")}
		h.issues = append(h.issues, is)
		ghapptest.JSON(w, 201, is)
	})
	issue := func(r *http.Request) *github.Issue {
		n, _ := strconv.Atoi(r.PathValue("n"))
		for _, is := range h.issues {
			if is.GetNumber() == n {
				return is
			}
		}
		return nil
	}
	h.srv.HandleFunc("GET "+p+"/issues/{n}", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if is := issue(r); is != nil {
			ghapptest.JSON(w, 200, is)
			return
		}
		ghapptest.NotFound(w)
	})
	h.srv.Handle("PATCH "+p+"/issues/{n}", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req github.IssueRequest
		_ = json.Unmarshal(body, &req)
		h.mu.Lock()
		defer h.mu.Unlock()
		is := issue(r)
		if is == nil {
			ghapptest.NotFound(w)
			return
		}
		if req.Body != nil {
			is.Body = req.Body
		}
		ghapptest.JSON(w, 200, is)
	})
	h.srv.HandleFunc("GET /repos/{owner}/{repo}/tags", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		tags, ok := h.tags[r.PathValue("owner")+"/"+r.PathValue("repo")]
		if !ok {
			ghapptest.NotFound(w)
			return
		}
		ghapptest.JSON(w, 200, tags)
	})
}

// seed commits files as the default branch's content.
func (h *harness) seed(files map[string]string) string {
	b := map[string][]byte{}
	for p, c := range files {
		b[p] = []byte(c)
	}
	return h.repo.Commit("main", "", "dev@example.com", "initial", b)
}

func (h *harness) configure(f func(c *config.DependencyManagementConfig)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(&h.cfg.DependencyManagement)
}

// run runs one job that must complete and returns its output.
func (h *harness) run(t *testing.T, args dm.Args) dm.Output {
	t.Helper()
	ins, err := h.engine.Enqueue(context.Background(), args, nil)
	require.NoError(t, err)
	var x workflows.Execution
	require.Eventually(t, func() bool {
		x, err = h.engine.Status(context.Background(), ins.ID)
		require.NoError(t, err)
		return x.Terminal()
	}, 30*time.Second, 10*time.Millisecond)
	require.Equal(t, "completed", x.State, "errors: %v", x.Errors)
	var out dm.Output
	require.NoError(t, json.Unmarshal(x.Output, &out))
	return out
}

func repoArgs(trigger string) dm.Args {
	return dm.Args{Owner: owner, Repo: name, InstallationID: 7, Trigger: trigger}
}

// openPulls are the fake's open pull requests.
func (h *harness) openPulls() []botprtest.Pull {
	var out []botprtest.Pull
	for _, p := range h.repo.Pulls() {
		if p.State == "open" {
			out = append(out, p)
		}
	}
	return out
}

func (h *harness) setChecks(sha string, runs ...map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[sha] = runs
}

func checkRun(name, status, conclusion string) map[string]any {
	return map[string]any{"id": len(name), "name": name, "status": status, "conclusion": conclusion}
}

// ciRunning gives every open PR's head a check run in progress (nothing is merged yet).
func (h *harness) ciRunning() {
	for _, p := range h.openPulls() {
		h.setChecks(h.repo.Head(p.Head), checkRun("test", "in_progress", ""))
	}
}

func parse(raw map[string]any) (workflows.Params, error) {
	return workflows.ParseParams(workflows.DependencyManagement, raw)
}

func repo() workflows.Repo { return workflows.Repo{Owner: owner, Name: name, InstallationID: 7} }
