package securityaudit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/botpr/botprtest"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/securityaudit/workflowaudit"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

const (
	owner = "octo-org"
	name  = "hello-world"
	dev   = "dev@example.com"
)

// triage is a workflow with a template injection (line 11), an unpinned third-party action
// (line 10) and no top-level permissions.
const triage = `name: triage
on:
  issues:
    types: [opened]
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: tj-actions/changed-files@v45
      - run: echo "${{ github.event.issue.title }}"
`

// triageFixed is triage after the fix pull request: every other byte kept.
const triageFixed = `name: triage
on:
  issues:
    types: [opened]
permissions:
  contents: read
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: tj-actions/changed-files@0123456789abcdef0123456789abcdef01234567 # v45
      - run: echo "${ISSUE_TITLE}"
        env:
          ISSUE_TITLE: ${{ github.event.issue.title }}
`

// tagCommit stands for the commit of tj-actions/changed-files@v45 in triageFixed.
const tagCommit = "0123456789abcdef0123456789abcdef01234567"

func (e *env) fixed(s string) string { return strings.ReplaceAll(s, tagCommit, e.tagCommit) }

type fakeClients struct{ gh *github.Client }

func (f fakeClients) ForRepo(context.Context, string, string, int64) (*github.Client, int64, error) {
	return f.gh, 7, nil
}
func (f fakeClients) App() (*github.Client, error) { return f.gh, nil }

type fakeConfigs struct{ cfg config.RepoConfig }

func (f fakeConfigs) Load(context.Context, *github.Client, string, string) (config.RepoConfig, error) {
	return f.cfg, nil
}

// checkRun is a check run the fake GitHub holds.
type checkRun struct {
	ID          int64
	Name        string
	HeadSHA     string
	ExternalID  string
	Conclusion  string
	Title       string
	Summary     string
	Annotations []map[string]any
	Requests    int
}

// env is one test's fake GitHub (the repository, two action repositories, check runs) and
// fake OSV.
type env struct {
	srv     *ghapptest.Server
	repo    *botprtest.Repo
	private bool
	mu      sync.Mutex
	runs    []*checkRun
	files   map[int][]string // pull request → changed files
	osv     *httptest.Server
	vulns   map[string][]osv.Vuln // "ecosystem/name@version" → advisories
	alerts  *alertingtest.Notifier
	cfg     config.RepoConfig
	// tagCommit is the commit tj-actions/changed-files's annotated tag v45 points at.
	tagCommit string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{srv: ghapptest.New(t), files: map[int][]string{}, vulns: map[string][]osv.Vuln{}, alerts: &alertingtest.Notifier{}, cfg: config.DefaultRepoConfig()}
	e.repo = botprtest.Install(e.srv, owner, name, botprtest.Options{})
	changed := botprtest.Install(e.srv, "tj-actions", "changed-files", botprtest.Options{})
	c := changed.Commit("main", "", "maintainer@example.com", "release", map[string][]byte{"action.yml": []byte("runs: {using: node20, main: index.js}\n")})
	e.tagCommit = c
	changed.Tag("v45", c, true) // an annotated tag: the ref names a tag object, peeled to c
	checkout := botprtest.Install(e.srv, "actions", "checkout", botprtest.Options{})
	checkout.Tag("v4", checkout.Commit("main", "", "maintainer@example.com", "release", map[string][]byte{"action.yml": []byte("x: 1\n")}), false)
	e.srv.HandleFunc("GET /repos/octo-org/hello-world", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, 200, map[string]any{"name": name, "full_name": owner + "/" + name, "default_branch": "main", "private": e.private})
	})
	e.srv.HandleFunc("GET /repos/octo-org/hello-world/pulls/{n}/files", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		e.mu.Lock()
		defer e.mu.Unlock()
		var out []map[string]any
		for _, f := range e.files[n] {
			out = append(out, map[string]any{"filename": f, "status": "modified"})
		}
		ghapptest.JSON(w, 200, out)
	})
	e.srv.HandleFunc("POST /repos/octo-org/hello-world/check-runs", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Name       string
			HeadSHA    string `json:"head_sha"`
			ExternalID string `json:"external_id"`
			Conclusion string
			Output     struct {
				Title, Summary string
				Annotations    []map[string]any
			}
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		e.mu.Lock()
		defer e.mu.Unlock()
		cr := &checkRun{ID: int64(len(e.runs) + 1), Name: body.Name, HeadSHA: body.HeadSHA, ExternalID: body.ExternalID, Conclusion: body.Conclusion,
			Title: body.Output.Title, Summary: body.Output.Summary, Annotations: body.Output.Annotations, Requests: 1}
		e.runs = append(e.runs, cr)
		ghapptest.JSON(w, 201, map[string]any{"id": cr.ID, "name": cr.Name, "head_sha": cr.HeadSHA, "external_id": cr.ExternalID})
	})
	e.srv.HandleFunc("PATCH /repos/octo-org/hello-world/check-runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Conclusion string
			Output     struct {
				Title, Summary string
				Annotations    []map[string]any
			}
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		e.mu.Lock()
		defer e.mu.Unlock()
		if id < 1 || int(id) > len(e.runs) {
			ghapptest.NotFound(w)
			return
		}
		cr := e.runs[id-1]
		cr.Conclusion, cr.Title, cr.Summary = body.Conclusion, body.Output.Title, body.Output.Summary
		cr.Annotations = append(cr.Annotations, body.Output.Annotations...) // GitHub appends annotations
		cr.Requests++
		ghapptest.JSON(w, 200, map[string]any{"id": cr.ID})
	})
	e.srv.HandleFunc("GET /repos/octo-org/hello-world/commits/{sha}/check-runs", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		var out []map[string]any
		for _, cr := range e.runs {
			if cr.HeadSHA == r.PathValue("sha") {
				out = append(out, map[string]any{"id": cr.ID, "name": cr.Name, "external_id": cr.ExternalID, "head_sha": cr.HeadSHA})
			}
		}
		ghapptest.JSON(w, 200, map[string]any{"total_count": len(out), "check_runs": out})
	})
	e.osv = httptest.NewServer(http.HandlerFunc(e.serveOSV))
	t.Cleanup(e.osv.Close)
	return e
}

func (e *env) serveOSV(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/querybatch":
		var req struct{ Queries []osv.Query }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var results []map[string]any
		for _, q := range req.Queries {
			var refs []map[string]any
			for _, v := range e.vulns[q.Package.Ecosystem+"/"+q.Package.Name+"@"+q.Version] {
				refs = append(refs, map[string]any{"id": v.ID, "modified": v.Modified})
			}
			results = append(results, map[string]any{"vulns": refs})
		}
		ghapptest.JSON(w, 200, map[string]any{"results": results})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/vulns/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/vulns/")
		for _, vs := range e.vulns {
			for _, v := range vs {
				if v.ID == id {
					ghapptest.JSON(w, 200, v)
					return
				}
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (e *env) worker(t *testing.T) *Worker {
	return NewWorker(Deps{
		Clients: fakeClients{gh: e.srv.Client(ghapptest.ClientOptions{})},
		Configs: fakeConfigs{cfg: e.cfg},
		Records: workflowstest.OpenStore(t, workflowstest.SQLiteURL(t)),
		OSV:     osv.New(e.osv.URL, e.osv.Client()),
		Alerts:  e.alerts,
	})
}

func (e *env) checkRuns() []checkRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []checkRun
	for _, cr := range e.runs {
		out = append(out, *cr)
	}
	return out
}

func annotationAt(cr checkRun, path string, line int) map[string]any {
	for _, a := range cr.Annotations {
		if a["path"] == path && a["start_line"] == float64(line) {
			return a
		}
	}
	return nil
}

func TestAuditOfTheDefaultBranchReportsAndOpensTheFixPR(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	head := e.repo.Commit("main", "", dev, "add triage", map[string][]byte{".github/workflows/triage.yml": []byte(triage), "README.md": []byte("# hi\n")})
	w := e.worker(t)
	ctx := context.Background()

	out, err := w.work(ctx, Args{Owner: owner, Repo: name, SHA: head, Trigger: "push"}, time.Now())
	require.NoError(t, err)
	require.Equal(t, "failure", out.Conclusion)
	rules := map[string]int{}
	for _, f := range out.Findings {
		rules[f.RuleID] = f.Line
	}
	require.Equal(t, 11, rules[workflowaudit.RuleTemplateInjection])
	require.Equal(t, 10, rules[workflowaudit.RuleUnpinnedAction])
	require.Contains(t, rules, workflowaudit.RuleMissingPermissions)
	require.NotContains(t, rules, "unpinned first-party", "actions/checkout is not flagged by default")

	runs := e.checkRuns()
	require.Len(t, runs, 1)
	cr := runs[0]
	require.Equal(t, CheckRunName, cr.Name)
	require.Equal(t, head, cr.HeadSHA)
	require.Equal(t, "failure", cr.Conclusion)
	inj := annotationAt(cr, ".github/workflows/triage.yml", 11)
	require.NotNil(t, inj, "an annotation on the injected line")
	require.Equal(t, "failure", inj["annotation_level"])
	require.Equal(t, "warning", annotationAt(cr, ".github/workflows/triage.yml", 10)["annotation_level"], "medium is below fail_on high")
	require.Contains(t, cr.Summary, "| critical | [template-injection]")

	require.NotNil(t, out.FixPR)
	require.Equal(t, "created", out.FixPR.Action)
	pulls := e.repo.Pulls()
	require.Len(t, pulls, 1)
	require.Equal(t, FixBranch, pulls[0].Head)
	require.Equal(t, []string{".github/workflows/triage.yml"}, e.repo.Changed("main", FixBranch), "only the workflow file changes")
	require.Equal(t, e.fixed(triageFixed), string(e.repo.Files(FixBranch)[".github/workflows/triage.yml"]), "a minimal edit")
	require.Contains(t, pulls[0].Body, "v45 to "+e.tagCommit, "the annotated tag peeled to its commit")
	require.Len(t, e.alerts.Raised(), 1, "a critical finding on the default branch alerts")
	require.Equal(t, "security:octo-org/hello-world:critical", e.alerts.Raised()[0].Fingerprint)

	// The same audit again (a redelivery after the uniqueness window, a retry): nothing new.
	again, err := w.work(ctx, Args{Owner: owner, Repo: name, SHA: head, Trigger: "push"}, time.Now())
	require.NoError(t, err)
	require.Equal(t, "unchanged", again.FixPR.Action)
	require.Len(t, e.repo.Pulls(), 1, "never a second pull request")
	require.Len(t, e.checkRuns(), 1, "the check run is updated, not duplicated")
	require.Equal(t, out.CheckRunID, again.CheckRunID)
}

func TestFixPRIsUpdatedInPlaceAndClosedWhenFixed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.repo.Commit("main", "", dev, "add triage", map[string][]byte{".github/workflows/triage.yml": []byte(triage)})
	w := e.worker(t)
	ctx := context.Background()
	first, err := w.work(ctx, Args{Owner: owner, Repo: name, Trigger: "schedule:2026-W49"}, time.Now())
	require.NoError(t, err)
	require.Equal(t, "created", first.FixPR.Action)

	e.repo.Commit("main", "", dev, "another workflow", map[string][]byte{".github/workflows/lint.yml": []byte("on: push\npermissions:\n  contents: read\njobs:\n  l:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: tj-actions/changed-files@v45\n")})
	second, err := w.work(ctx, Args{Owner: owner, Repo: name, Trigger: "schedule:2026-W50"}, time.Now())
	require.NoError(t, err)
	require.Equal(t, "updated", second.FixPR.Action)
	require.Equal(t, first.FixPR.Number, second.FixPR.Number)
	require.Equal(t, []string{".github/workflows/lint.yml", ".github/workflows/triage.yml"}, e.repo.Changed("main", FixBranch))

	// Someone merges the fixes by hand: the pull request has nothing left and is closed.
	e.repo.Commit("main", "", dev, "fix", map[string][]byte{
		".github/workflows/triage.yml": e.repo.Files(FixBranch)[".github/workflows/triage.yml"],
		".github/workflows/lint.yml":   e.repo.Files(FixBranch)[".github/workflows/lint.yml"],
	})
	third, err := w.work(ctx, Args{Owner: owner, Repo: name, Trigger: "schedule:2026-W51"}, time.Now())
	require.NoError(t, err)
	require.Equal(t, "closed", third.FixPR.Action)
	require.Equal(t, "closed", e.repo.Pulls()[0].State)
	require.Equal(t, "success", third.Conclusion)
	require.Equal(t, []string{"security:octo-org/hello-world:critical"}, e.alerts.Resolved()[len(e.alerts.Resolved())-1:])
}

func TestFixBranchWithAPersonsCommitIsLeftAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.repo.Commit("main", "", dev, "add triage", map[string][]byte{".github/workflows/triage.yml": []byte(triage)})
	w := e.worker(t)
	ctx := context.Background()
	_, err := w.work(ctx, Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
	require.NoError(t, err)
	mine := e.repo.Commit(FixBranch, "", dev, "my tweak", map[string][]byte{"NOTES.md": []byte("x\n")})
	e.repo.Commit("main", "", dev, "more", map[string][]byte{"README.md": []byte("y\n")})
	out, err := w.work(ctx, Args{Owner: owner, Repo: name, Trigger: "cli:2"}, time.Now())
	require.NoError(t, err)
	require.Equal(t, "left_alone", out.FixPR.Action)
	require.Equal(t, mine, e.repo.Head(FixBranch))
	require.Contains(t, e.checkRuns()[1].Summary, "commit by a person")
}

const lintBase = `name: lint
on: pull_request
permissions:
  contents: read
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: tj-actions/changed-files@v45
`

func TestPullRequestReportsOnlyWhatItIntroduces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.repo.Commit("main", "", dev, "lint", map[string][]byte{".github/workflows/lint.yml": []byte(lintBase)})
	w := e.worker(t)
	ctx := context.Background()

	// Moves the existing unpinned step below a new safe step: the finding moved, it is not new.
	moved := strings.Replace(lintBase, "      - uses: tj-actions/changed-files@v45\n", "      - run: make lint\n      - uses: tj-actions/changed-files@v45\n", 1)
	e.repo.Commit("move", "main", dev, "move", map[string][]byte{".github/workflows/lint.yml": []byte(moved)})
	movePR := e.repo.AddPull("move", "main", "Move a step")
	e.files[movePR] = []string{".github/workflows/lint.yml"}
	out, err := w.work(ctx, Args{Owner: owner, Repo: name, PullRequest: movePR, Trigger: "pull_request", CheckChanges: true}, time.Now())
	require.NoError(t, err)
	require.Empty(t, out.Findings, "a moved finding is not new")
	require.Equal(t, 1, out.Existing)
	require.Equal(t, "success", out.Conclusion)
	require.Empty(t, e.repo.Comments(movePR), "a clean pull request gets no comment")
	require.Nil(t, out.FixPR, "pull requests never get a fix PR")

	// Adds an unpinned third-party action: one new finding, on the new line.
	added := lintBase + "      - uses: docker/login-action@v3\n"
	e.repo.Commit("add", "main", dev, "add", map[string][]byte{".github/workflows/lint.yml": []byte(added)})
	addPR := e.repo.AddPull("add", "main", "Log in")
	e.files[addPR] = []string{".github/workflows/lint.yml"}
	out, err = w.work(ctx, Args{Owner: owner, Repo: name, PullRequest: addPR, Trigger: "pull_request", CheckChanges: true}, time.Now())
	require.NoError(t, err)
	require.Len(t, out.Findings, 1)
	require.Equal(t, workflowaudit.RuleUnpinnedAction, out.Findings[0].RuleID)
	require.Equal(t, 11, out.Findings[0].Line)
	require.Equal(t, "success", out.Conclusion, "medium is below fail_on high")
	comments := e.repo.Comments(addPR)
	require.Len(t, comments, 1)
	require.Contains(t, comments[0], "Security audit: 1 new finding")
	require.Contains(t, comments[0], "docker/login-action")
	var addRun checkRun
	for _, cr := range e.checkRuns() {
		if cr.HeadSHA == e.repo.Head("add") {
			addRun = cr
		}
	}
	require.Len(t, addRun.Annotations, 1)
	require.Equal(t, float64(11), addRun.Annotations[0]["start_line"])

	// fail_on medium fails it.
	out, err = w.work(ctx, Args{Owner: owner, Repo: name, PullRequest: addPR, Trigger: "comment:5", FailOn: "medium"}, time.Now())
	require.NoError(t, err)
	require.Equal(t, "failure", out.Conclusion)

	// A pull request that changes no workflow file or manifest is not audited.
	e.repo.Commit("docs", "main", dev, "docs", map[string][]byte{"README.md": []byte("docs\n")})
	docsPR := e.repo.AddPull("docs", "main", "Docs")
	e.files[docsPR] = []string{"README.md"}
	out, err = w.work(ctx, Args{Owner: owner, Repo: name, PullRequest: docsPR, Trigger: "pull_request", CheckChanges: true}, time.Now())
	require.NoError(t, err)
	require.Contains(t, out.Skipped, "changes no workflow file or manifest")
}

func TestVulnerableDependencyWithItsFixedVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.vulns["Go/golang.org/x/net@v0.17.0"] = []osv.Vuln{{
		ID: "GHSA-4v7x-pqxf-cx7m", Summary: "HTTP/2 rapid reset", Modified: "2026-01-01T00:00:00Z",
		Aliases:          []string{"CVE-2023-44487"},
		DatabaseSpecific: json.RawMessage(`{"severity":"HIGH"}`),
		Affected: []osv.Affected{{Package: osv.Package{Name: "golang.org/x/net", Ecosystem: "Go"},
			Ranges: []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: "0"}, {Fixed: "0.17.1"}}}}}},
	}}
	gomod := "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/stretchr/testify v1.9.0\n\tgolang.org/x/net v0.17.0\n)\n"
	e.repo.Commit("main", "", dev, "deps", map[string][]byte{"go.mod": []byte(gomod)})
	w := e.worker(t)
	out, err := w.work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
	require.NoError(t, err)
	require.Len(t, out.Findings, 1)
	f := out.Findings[0]
	require.Equal(t, RuleVulnerableDependency, f.RuleID)
	require.Equal(t, "go.mod", f.File)
	require.Equal(t, 7, f.Line)
	require.Equal(t, workflowaudit.SeverityHigh, f.Severity)
	require.Equal(t, []string{"v0.17.1"}, f.Fixed)
	require.Contains(t, f.Message, "fixed in v0.17.1")
	require.Equal(t, 2, out.Queried)
	require.Equal(t, "failure", out.Conclusion)
	cr := e.checkRuns()[0]
	require.NotNil(t, annotationAt(cr, "go.mod", 7))
	require.Contains(t, cr.Summary, "GHSA-4v7x-pqxf-cx7m")

	// Ignored by the repository: gone.
	e.cfg.SecurityAudit.IgnoreAdvisories = []string{"cve-2023-44487"}
	out, err = e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:2"}, time.Now())
	require.NoError(t, err)
	require.Empty(t, out.Findings)
}

func TestSuppressionsAndConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	suppressed := strings.Replace(triage, `      - run: echo "${{ github.event.issue.title }}"`,
		"      # autonomous-ci: ignore[template-injection]\n      - run: echo \"${{ github.event.issue.title }}\"", 1)
	e.repo.Commit("main", "", dev, "x", map[string][]byte{".github/workflows/triage.yml": []byte(suppressed), "vendor/x/.github/workflows/y.yml": []byte(triage)})
	e.cfg.SecurityAudit.IgnoreRules = []string{workflowaudit.RuleMissingPermissions}
	e.cfg.SecurityAudit.FixPR = false
	out, err := e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
	require.NoError(t, err)
	require.Len(t, out.Findings, 1, "suppressed per line and per repository")
	require.Equal(t, workflowaudit.RuleUnpinnedAction, out.Findings[0].RuleID)
	require.Nil(t, out.FixPR)
	require.Empty(t, e.repo.Pulls())
	require.Equal(t, "success", out.Conclusion)

	e.cfg.SecurityAudit.PinFirstParty = true
	e.cfg.SecurityAudit.IgnorePaths = []string{".github/workflows/**"}
	out, err = e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:2"}, time.Now())
	require.NoError(t, err)
	require.Empty(t, out.Findings)

	e.cfg.SecurityAudit.Enabled = false
	out, err = e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "push"}, time.Now())
	require.NoError(t, err)
	require.Contains(t, out.Skipped, "disabled")
}

func TestPinFirstPartyPinsCheckout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.repo.Commit("main", "", dev, "x", map[string][]byte{".github/workflows/triage.yml": []byte(triage)})
	e.cfg.SecurityAudit.PinFirstParty = true
	_, err := e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
	require.NoError(t, err)
	fixed := string(e.repo.Files(FixBranch)[".github/workflows/triage.yml"])
	require.Regexp(t, `uses: actions/checkout@[0-9a-f]{40} # v4\n`, fixed, "a lightweight tag is its commit")
}

func TestAPIFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault ghapptest.Fault
		class recovery.Class
	}{
		{ghapptest.Fault{Path: "/repos/octo-org/hello-world", Status: 404, Body: `{"message":"Not Found"}`}, recovery.NotFound},
		{ghapptest.Fault{Method: "GET", Status: 401, Body: `{"message":"Bad credentials"}`}, recovery.AuthError},
		{ghapptest.Fault{Method: "POST", Path: "/repos/octo-org/hello-world/check-runs", Status: 502, Body: `{"message":"Bad Gateway"}`}, recovery.IntegrationFailure},
		{ghapptest.Fault{Method: "POST", Path: "/repos/octo-org/hello-world/git/commits", Status: 403, Body: `{"message":"Resource not accessible by integration"}`}, recovery.AuthError},
	} {
		e := newEnv(t)
		e.repo.Commit("main", "", dev, "x", map[string][]byte{".github/workflows/triage.yml": []byte(triage)})
		e.srv.Fail(tc.fault)
		_, err := e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
		require.Error(t, err)
		require.Equal(t, tc.class, recovery.Classify(err), fmt.Sprint(tc.fault))
	}
	// OSV down: the audit fails (retried) rather than reporting a clean bill of health.
	e := newEnv(t)
	e.repo.Commit("main", "", dev, "x", map[string][]byte{"go.mod": []byte("module m\n\nrequire golang.org/x/net v0.17.0\n")})
	e.osv.Close()
	_, err := e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
	require.Error(t, err)
	require.Empty(t, e.checkRuns())
}

func TestManyFindingsArePagedIntoTheCheckRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("on: push\npermissions:\n  contents: read\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n")
	for i := range 120 {
		fmt.Fprintf(&b, "      - uses: some-org/action-%d@v1\n", i)
	}
	e.repo.Commit("main", "", dev, "x", map[string][]byte{".github/workflows/many.yml": []byte(b.String())})
	e.cfg.SecurityAudit.FixPR = false
	out, err := e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
	require.NoError(t, err)
	require.Len(t, out.Findings, 120)
	cr := e.checkRuns()[0]
	require.Len(t, cr.Annotations, 120, "every finding annotated")
	require.Equal(t, 3, cr.Requests, "50 annotations a request")
	require.Contains(t, cr.Summary, "…and 70 more")
}

func TestConclusion(t *testing.T) {
	t.Parallel()
	f := func(s workflowaudit.Severity) Finding { return Finding{Finding: workflowaudit.Finding{Severity: s}} }
	require.Equal(t, "success", conclusion(nil, workflowaudit.SeverityHigh))
	require.Equal(t, "neutral", conclusion([]Finding{f("low"), f("low")}, workflowaudit.SeverityHigh))
	require.Equal(t, "success", conclusion([]Finding{f("low"), f("medium")}, workflowaudit.SeverityHigh))
	require.Equal(t, "failure", conclusion([]Finding{f("low"), f("high")}, workflowaudit.SeverityHigh))
	require.Equal(t, "failure", conclusion([]Finding{f("critical")}, workflowaudit.SeverityCritical))
	require.Equal(t, "failure", conclusion([]Finding{f("low")}, workflowaudit.SeverityLow))
}

func TestWeekly(t *testing.T) {
	t.Parallel()
	sunday := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	require.Equal(t, time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC), Weekly{}.Next(sunday))
	monday := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	require.Equal(t, time.Date(2026, 12, 14, 3, 0, 0, 0, time.UTC), Weekly{}.Next(monday))
	require.Equal(t, "2026-W50", Week(monday))
}

func TestActionAtAVersionWithAnAdvisory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.vulns["GitHub Actions/tj-actions/changed-files@45"] = []osv.Vuln{{
		ID: "GHSA-mrrh-fwg8-r2c3", Summary: "tj-actions/changed-files has a malicious commit", Modified: "2026-01-01T00:00:00Z",
		DatabaseSpecific: json.RawMessage(`{"severity":"HIGH"}`),
		Affected: []osv.Affected{{Package: osv.Package{Name: "tj-actions/changed-files", Ecosystem: "GitHub Actions"},
			Ranges: []osv.Range{{Type: "ECOSYSTEM", Events: []osv.Event{{Introduced: "0"}, {Fixed: "46.0.1"}}}}}},
	}}
	e.repo.Commit("main", "", dev, "x", map[string][]byte{".github/workflows/lint.yml": []byte(lintBase)})
	e.cfg.SecurityAudit.FixPR = false
	out, err := e.worker(t).work(context.Background(), Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
	require.NoError(t, err)
	var got *Finding
	for i := range out.Findings {
		if out.Findings[i].RuleID == RuleVulnerableAction {
			got = &out.Findings[i]
		}
	}
	require.NotNil(t, got, "%+v", out.Findings)
	require.Equal(t, 10, got.Line)
	require.Equal(t, []string{"46.0.1"}, got.Fixed)
	require.Equal(t, "failure", out.Conclusion)
}

type fakeTrigger struct {
	mu    sync.Mutex
	repos []string
	seen  map[string]bool
}

func (f *fakeTrigger) Trigger(_ context.Context, kind workflows.Kind, repo workflows.Repo, _ map[string]any, opts ...workflows.TriggerOption) (workflows.Inserted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := string(kind) + " " + repo.Owner + "/" + repo.Name + " " + strconv.FormatInt(repo.InstallationID, 10)
	f.repos = append(f.repos, key)
	dup := f.seen[key]
	f.seen[key] = true
	return workflows.Inserted{ID: int64(len(f.repos)), Duplicate: dup}, nil
}

type fakeInstallations []store.Installation

func (f fakeInstallations) Installations(context.Context) ([]store.Installation, error) {
	return f, nil
}

func TestSweepTriggersEveryRepositoryOnce(t *testing.T) {
	t.Parallel()
	trig := &fakeTrigger{seen: map[string]bool{}}
	w := &SweepWorker{Engine: trig, Installations: fakeInstallations{
		{ID: 1, Repositories: []string{"octo-org/a", "octo-org/b"}},
		{ID: 2, Repositories: []string{"other/c"}, Suspended: true},
		{ID: 3, Repositories: []string{"bad"}},
	}}
	out, err := w.sweep(context.Background(), "2026-W49")
	require.NoError(t, err)
	require.Equal(t, SweepOutput{Queued: 2}, out)
	require.Equal(t, []string{"security_audit octo-org/a 1", "security_audit octo-org/b 1"}, trig.repos)
	out, err = w.sweep(context.Background(), "2026-W49")
	require.NoError(t, err)
	require.Equal(t, SweepOutput{Duplicates: 2}, out)

	_, err = (&SweepWorker{Installations: fakeInstallations{}}).sweep(context.Background(), "2026-W49")
	require.Error(t, err, "no engine outside a job")
}

func TestBuild(t *testing.T) {
	t.Parallel()
	params, err := workflows.ParseParams(workflows.SecurityAudit, map[string]any{"fail_on": "medium", "pull_request": "12"})
	require.NoError(t, err)
	args, _, err := Build(workflows.Repo{Owner: owner, Name: name, InstallationID: 3}, params)
	require.NoError(t, err)
	require.Equal(t, Args{Owner: owner, Repo: name, InstallationID: 3, PullRequest: 12, FailOn: "medium"}, args)
	_, err = workflows.ParseParams(workflows.SecurityAudit, map[string]any{"fail_on": "severe"})
	require.Error(t, err)
	_, _, err = Build(workflows.Repo{}, params)
	require.Error(t, err)
}

func TestFixPRWithAPersonsCommitIsNotClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.repo.Commit("main", "", dev, "add triage", map[string][]byte{".github/workflows/triage.yml": []byte(triage)})
	w := e.worker(t)
	ctx := context.Background()
	_, err := w.work(ctx, Args{Owner: owner, Repo: name, Trigger: "cli:1"}, time.Now())
	require.NoError(t, err)
	e.repo.Commit(FixBranch, "", dev, "my tweak", map[string][]byte{"NOTES.md": []byte("x\n")})
	e.repo.Commit("main", "", dev, "fixed by hand", map[string][]byte{".github/workflows/triage.yml": []byte(e.fixed(triageFixed))})
	out, err := w.work(ctx, Args{Owner: owner, Repo: name, Trigger: "cli:2"}, time.Now())
	require.NoError(t, err)
	require.Equal(t, "left_alone", out.FixPR.Action)
	require.Equal(t, "open", e.repo.Pulls()[0].State)
}
