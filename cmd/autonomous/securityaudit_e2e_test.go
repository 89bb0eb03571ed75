package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/ghapp/botpr/botprtest"
	"github.com/contexten/autonomous/workflows/securityaudit"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// auditInjected is the workflow the push adds: line 11 expands an issue title into a script.
const auditInjected = `name: triage
on:
  issues:
    types: [opened]
permissions:
  contents: read
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.issue.title }}"
`

// auditInjectedFixed is auditInjected after the fix pull request.
const auditInjectedFixed = `name: triage
on:
  issues:
    types: [opened]
permissions:
  contents: read
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${ISSUE_TITLE}"
        env:
          ISSUE_TITLE: ${{ github.event.issue.title }}
`

// auditE2E is the server under test with a fake GitHub that holds octo-org/hello-world's Git
// data and pull requests (botprtest), and a fake OSV.
type auditE2E struct {
	*e2e
	repo  *botprtest.Repo
	mu    sync.Mutex
	files map[int][]string
	vulns map[string]json.RawMessage // "ecosystem/name@version" → an OSV record
}

func startAuditE2E(t *testing.T) *auditE2E {
	t.Helper()
	gh := newFakeGitHub(t)
	a := &auditE2E{repo: botprtest.Install(gh.srv, "octo-org", "hello-world", botprtest.Options{NoComments: true}),
		files: map[int][]string{}, vulns: map[string]json.RawMessage{}}
	gh.srv.HandleFunc("GET /repos/octo-org/hello-world", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"id": fakeRepoID, "name": "hello-world", "full_name": "octo-org/hello-world",
			"default_branch": "main", "private": false, "owner": map[string]any{"login": "octo-org"}})
	})
	gh.srv.HandleFunc("GET /repos/octo-org/hello-world/pulls/{n}/files", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		a.mu.Lock()
		defer a.mu.Unlock()
		out := []map[string]any{}
		for _, f := range a.files[n] {
			out = append(out, map[string]any{"filename": f, "status": "modified"})
		}
		writeJSONBody(w, http.StatusOK, out)
	})
	osvSrv := httptest.NewServer(http.HandlerFunc(a.serveOSV))
	t.Cleanup(osvSrv.Close)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.OSVAPIURL = osvSrv.URL
	a.e2e = &e2e{t: t, gh: gh, app: startApp(t, cfg, appOptions{})}
	return a
}

func (a *auditE2E) serveOSV(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/querybatch":
		var req struct {
			Queries []struct {
				Package struct{ Name, Ecosystem string }
				Version string
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		results := []map[string]any{}
		for _, q := range req.Queries {
			vulns := []map[string]any{}
			if rec, ok := a.vulns[q.Package.Ecosystem+"/"+q.Package.Name+"@"+q.Version]; ok {
				var v struct{ ID, Modified string }
				_ = json.Unmarshal(rec, &v)
				vulns = append(vulns, map[string]any{"id": v.ID, "modified": v.Modified})
			}
			results = append(results, map[string]any{"vulns": vulns})
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"results": results})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/vulns/"):
		for _, rec := range a.vulns {
			var v struct{ ID string }
			_ = json.Unmarshal(rec, &v)
			if v.ID == strings.TrimPrefix(r.URL.Path, "/v1/vulns/") {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(rec)
				return
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

// pushEvent is the handlers package's push fixture for a push of after to main that changed paths.
func (a *auditE2E) pushEvent(after string, changed ...string) []byte {
	a.t.Helper()
	body := handlersFixture(a.t, "push.json")
	paths, _ := json.Marshal(changed)
	var err error
	for _, set := range []func([]byte) ([]byte, error){
		func(b []byte) ([]byte, error) { return sjson.SetBytes(b, "after", after) },
		func(b []byte) ([]byte, error) { return sjson.SetBytes(b, "commits.0.id", after) },
		func(b []byte) ([]byte, error) { return sjson.SetRawBytes(b, "commits.0.added", paths) },
		func(b []byte) ([]byte, error) { return sjson.SetRawBytes(b, "commits.0.modified", []byte("[]")) },
	} {
		body, err = set(body)
		require.NoError(a.t, err)
	}
	return body
}

// pullRequestEvent is the pull_request fixture for pull request number at head.
func (a *auditE2E) pullRequestEvent(number int, head string) []byte {
	a.t.Helper()
	body := handlersFixture(a.t, "pull_request.opened.json")
	var err error
	for path, v := range map[string]any{"number": number, "pull_request.number": number, "pull_request.head.sha": head} {
		body, err = sjson.SetBytes(body, path, v)
		require.NoError(a.t, err)
	}
	return body
}

// waitAudit waits until the security_audit job of sha completed and returns its output.
func (a *auditE2E) waitAudit(sha string) securityaudit.Output {
	a.t.Helper()
	var row *rivertype.JobRow
	require.Eventually(a.t, func() bool {
		row = a.jobFor(string(securityaudit.Args{}.Kind()), func(raw []byte) bool {
			var args securityaudit.Args
			return json.Unmarshal(raw, &args) == nil && args.SHA == sha
		})
		return row != nil && row.State == rivertype.JobStateCompleted
	}, 30*time.Second, 10*time.Millisecond, "the audit of %s did not complete: %s", sha, describeJob(row))
	var out securityaudit.Output
	require.NoError(a.t, json.Unmarshal(row.Output(), &out))
	return out
}

// auditCheckRuns returns the bot's security audit check runs on sha as GitHub received their
// create.
func (a *auditE2E) auditCheckRuns(sha string) []map[string]any {
	a.gh.mu.Lock()
	defer a.gh.mu.Unlock()
	var out []map[string]any
	for id := 1; id <= a.gh.checks; id++ {
		if c := a.gh.checkRuns[id]; c != nil && c["name"] == securityaudit.CheckRunName && c["head_sha"] == sha {
			out = append(out, c)
		}
	}
	return out
}

func annotationsOf(check map[string]any) []map[string]any {
	var out []map[string]any
	output, _ := check["output"].(map[string]any)
	list, _ := output["annotations"].([]any)
	for _, a := range list {
		if m, ok := a.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func TestSecurityAuditPushWithInjectionFailsTheCheckAndOpensAMinimalFixPR(t *testing.T) {
	t.Parallel()
	a := startAuditE2E(t)
	a.repo.Commit("main", "", "dev@example.com", "initial", map[string][]byte{"README.md": []byte("# hello\n")})
	head := a.repo.Commit("main", "", "dev@example.com", "Add the triage workflow", map[string][]byte{".github/workflows/triage.yml": []byte(auditInjected)})

	body := a.pushEvent(head, ".github/workflows/triage.yml")
	require.Equal(t, http.StatusOK, deliver(t, a.app, "push", "push-1", body))
	out := a.waitAudit(head)
	require.Equal(t, "failure", out.Conclusion)

	checks := a.auditCheckRuns(head)
	require.Len(t, checks, 1)
	require.Equal(t, "failure", checks[0]["conclusion"])
	anns := annotationsOf(checks[0])
	require.Len(t, anns, 1)
	require.Equal(t, ".github/workflows/triage.yml", anns[0]["path"])
	require.Equal(t, float64(11), anns[0]["start_line"], "on the line of the injected expression")
	require.Equal(t, "failure", anns[0]["annotation_level"])
	require.Contains(t, anns[0]["title"], "template-injection")

	pulls := a.repo.Pulls()
	require.Len(t, pulls, 1)
	require.Equal(t, securityaudit.FixBranch, pulls[0].Head)
	require.Equal(t, "main", pulls[0].Base)
	require.Equal(t, []string{".github/workflows/triage.yml"}, a.repo.Changed("main", securityaudit.FixBranch))
	require.Equal(t, auditInjectedFixed, string(a.repo.Files(securityaudit.FixBranch)[".github/workflows/triage.yml"]),
		"only the expression's line changes and its env: is added; every other byte stays")

	// The same delivery again (GitHub's redelivery): no second audit, no second pull request.
	require.Equal(t, http.StatusOK, deliver(t, a.app, "push", "push-1", body))
	require.Equal(t, http.StatusOK, deliver(t, a.app, "push", "push-1-redelivered", body))
	// Each delivery was answered after its job committed or was found a duplicate.
	require.Equal(t, 1, countJobs(t, a.app, securityaudit.Args{}.Kind()))
	require.Len(t, a.repo.Pulls(), 1)
	require.Len(t, a.gh.srv.Calls("POST /repos/octo-org/hello-world/pulls"), 1)
}

func TestSecurityAuditPullRequestReportsOnlyIntroducedFindings(t *testing.T) {
	t.Parallel()
	a := startAuditE2E(t)
	base := "name: lint\non: pull_request\npermissions:\n  contents: read\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n" +
		"      - uses: actions/checkout@v4\n      - uses: tj-actions/changed-files@v45\n"
	a.repo.Commit("main", "", "dev@example.com", "lint", map[string][]byte{".github/workflows/lint.yml": []byte(base)})

	// A pull request adding an unpinned third-party action: one finding, on its line.
	added := a.repo.Commit("login", "main", "dev@example.com", "login", map[string][]byte{
		".github/workflows/lint.yml": []byte(base + "      - uses: docker/login-action@v3\n")})
	addPR := a.repo.AddPull("login", "main", "Log in")
	a.mu.Lock()
	a.files[addPR] = []string{".github/workflows/lint.yml"}
	a.mu.Unlock()
	require.Equal(t, http.StatusOK, deliver(t, a.app, "pull_request", "pr-1", a.pullRequestEvent(addPR, added)))
	out := a.waitAudit(added)
	require.Len(t, out.Findings, 1)
	require.Equal(t, "unpinned-action", out.Findings[0].RuleID)
	require.Equal(t, 11, out.Findings[0].Line)
	require.Equal(t, 1, out.Existing, "the base's own unpinned action is not the pull request's")
	checks := a.auditCheckRuns(added)
	require.Len(t, checks, 1)
	anns := annotationsOf(checks[0])
	require.Len(t, anns, 1)
	require.Equal(t, float64(11), anns[0]["start_line"])
	comments := a.gh.commentsOn(addPR)
	require.Len(t, comments, 1)
	require.Contains(t, comments[0].Body, "Security audit: 1 new finding")

	// A pull request that only moves the existing finding down: nothing new, no comment.
	moved := strings.Replace(base, "      - uses: tj-actions/changed-files@v45\n", "      - run: make lint\n      - uses: tj-actions/changed-files@v45\n", 1)
	movedHead := a.repo.Commit("move", "main", "dev@example.com", "move", map[string][]byte{".github/workflows/lint.yml": []byte(moved)})
	movePR := a.repo.AddPull("move", "main", "Lint first")
	a.mu.Lock()
	a.files[movePR] = []string{".github/workflows/lint.yml"}
	a.mu.Unlock()
	require.Equal(t, http.StatusOK, deliver(t, a.app, "pull_request", "pr-2", a.pullRequestEvent(movePR, movedHead)))
	out = a.waitAudit(movedHead)
	require.Empty(t, out.Findings)
	require.Equal(t, 1, out.Existing)
	require.Equal(t, "success", out.Conclusion)
	checks = a.auditCheckRuns(movedHead)
	require.Len(t, checks, 1)
	require.Equal(t, "success", checks[0]["conclusion"])
	require.Empty(t, annotationsOf(checks[0]))
	require.Empty(t, a.gh.commentsOn(movePR))
	require.Len(t, a.repo.Pulls(), 2, "no fix pull request for pull requests")
}

func TestSecurityAuditVulnerableDependencyFromOSVWithItsFixedVersion(t *testing.T) {
	t.Parallel()
	a := startAuditE2E(t)
	a.vulns["npm/lodash@4.17.20"] = json.RawMessage(`{
  "id": "GHSA-35jh-r3h4-6jhm", "summary": "Command Injection in lodash", "modified": "2026-01-01T00:00:00Z",
  "aliases": ["CVE-2021-23337"], "database_specific": {"severity": "HIGH"},
  "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}],
  "references": [{"type": "ADVISORY", "url": "https://github.com/advisories/GHSA-35jh-r3h4-6jhm"}]}`)
	pkg := "{\n  \"name\": \"web\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {\n    \"lodash\": \"4.17.20\"\n  }\n}\n"
	head := a.repo.Commit("main", "", "dev@example.com", "deps", map[string][]byte{"package.json": []byte(pkg)})
	require.Equal(t, http.StatusOK, deliver(t, a.app, "push", "push-deps", a.pushEvent(head, "package.json")))
	out := a.waitAudit(head)
	require.Len(t, out.Findings, 1)
	f := out.Findings[0]
	require.Equal(t, securityaudit.RuleVulnerableDependency, f.RuleID)
	require.Equal(t, "GHSA-35jh-r3h4-6jhm", f.Advisory)
	require.Equal(t, []string{"4.17.21"}, f.Fixed)
	require.Equal(t, "package.json", f.File)
	require.Equal(t, 5, f.Line)
	require.Equal(t, "failure", out.Conclusion, "a high advisory fails at the default fail_on")
	checks := a.auditCheckRuns(head)
	require.Len(t, checks, 1)
	anns := annotationsOf(checks[0])
	require.Len(t, anns, 1)
	require.Equal(t, "package.json", anns[0]["path"])
	require.Contains(t, anns[0]["message"], "fixed in 4.17.21")
	output := checks[0]["output"].(map[string]any)
	require.Contains(t, output["summary"], "GHSA-35jh-r3h4-6jhm")
	require.Empty(t, a.repo.Pulls(), "a dependency upgrade is not a mechanical workflow fix")
}

func TestSecurityAuditSlashCommandQueuesTheAuditOfThePullRequest(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	const id = 910777
	e.comment("audit-1", id, e2eWriter, "User", "/ci audit")
	out := e.waitCommand(id)
	require.Equal(t, []string{"audit"}, out.Commands)
	require.Equal(t, []string{"done"}, out.Statuses)
	require.Contains(t, e.reply(id), "Security audit of this pull request queued")
	row := e.jobFor(securityaudit.Args{}.Kind(), func(raw []byte) bool {
		var a securityaudit.Args
		return json.Unmarshal(raw, &a) == nil && a.PullRequest == 42 && a.Trigger == "comment:910777"
	})
	require.NotNil(t, row, "the audit of pull request 42 was queued by the comment")
	require.Contains(t, row.Tags, "pr-1296269-42")
}
