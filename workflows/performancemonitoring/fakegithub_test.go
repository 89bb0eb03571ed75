package performancemonitoring

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/ghapptest"
)

const (
	fakeOwner = "acme"
	fakeRepo  = "widgets"
	// pageSize is the fake's page size whatever per_page asks, so paging is exercised.
	pageSize = 10
)

// fakeJob is a job of a run: its queue, duration and steps (name → duration).
type fakeJob struct {
	Name       string
	Queue      time.Duration
	Duration   time.Duration
	Conclusion string // "" : success
	Steps      []fakeStep
}

type fakeStep struct {
	Name       string
	Duration   time.Duration
	Conclusion string // "" : success
}

// fakeRun is a workflow run in GitHub's shape: started at Start, waiting Queue for its first
// job, which runs Duration (one job named "test" unless Jobs says otherwise).
type fakeRun struct {
	ID         int64
	WorkflowID int64
	Name       string
	Branch     string
	HeadSHA    string
	Event      string
	Status     string // "" : completed
	Conclusion string // "" : success
	Attempt    int
	Start      time.Time
	Queue      time.Duration
	Duration   time.Duration
	Jobs       []fakeJob
	PRs        []int
}

// fakeGitHub is one repository's runs, pull requests and comments, served by ghapptest.
type fakeGitHub struct {
	t   testing.TB
	api *ghapptest.Server

	mu    sync.Mutex
	runs  []fakeRun
	pulls map[int]string // number → head SHA
	// forkPulls are open pull requests from forks: "owner:branch" → number (head SHA in pulls).
	forkPulls map[string]int
	comments  map[int64]string
	onPR      map[int64]int
	nextID    int64
	// notModified counts the 304 answers to conditional requests.
	notModified int
}

var epoch = time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)

func newFakeGitHub(t testing.TB) *fakeGitHub {
	g := &fakeGitHub{t: t, api: ghapptest.New(t), pulls: map[int]string{}, forkPulls: map[string]int{}, comments: map[int64]string{}, onPR: map[int64]int{}, nextID: 1000}
	g.routes()
	return g
}

// client is a go-github client with the server's HTTP cache (ETag revalidation).
func (g *fakeGitHub) client() *github.Client {
	return g.api.Client(ghapptest.ClientOptions{Cached: true})
}

func (g *fakeGitHub) add(r fakeRun) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.Attempt == 0 {
		r.Attempt = 1
	}
	if r.Event == "" {
		r.Event = "push"
	}
	if r.Jobs == nil {
		r.Jobs = []fakeJob{{Name: "test", Queue: r.Queue, Duration: r.Duration}}
	}
	g.runs = append(g.runs, r)
}

// baseline adds successful push runs of workflow "CI" (id 7) on main with the given durations in
// seconds, the first the oldest.
func (g *fakeGitHub) baseline(ids int64, secs ...float64) {
	for i, s := range secs {
		id := ids + int64(i)
		g.add(fakeRun{ID: id, WorkflowID: 7, Name: "CI", Branch: "main", HeadSHA: fmt.Sprintf("%040d", id),
			Start: epoch.Add(time.Duration(id) * time.Hour), Queue: 5 * time.Second, Duration: seconds(s)})
	}
}

// pr adds pull request number with head sha and its runs of "CI" with the given durations.
func (g *fakeGitHub) pr(number int, sha string, firstID int64, secs ...float64) {
	g.mu.Lock()
	g.pulls[number] = sha
	g.mu.Unlock()
	for i, s := range secs {
		id := firstID + int64(i)
		g.add(fakeRun{ID: id, WorkflowID: 7, Name: "CI", Branch: "feature", HeadSHA: sha, Event: "pull_request",
			Start: epoch.Add(time.Duration(id) * time.Hour), Queue: 5 * time.Second, Duration: seconds(s), PRs: []int{number}})
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// runJSON is the run as GitHub lists it.
func runJSON(r fakeRun) map[string]any {
	status, conclusion := r.Status, r.Conclusion
	if status == "" {
		status = "completed"
	}
	if conclusion == "" && status == "completed" {
		conclusion = "success"
	}
	end := r.Start.Add(r.Queue + r.Duration)
	prs := []map[string]any{}
	for _, n := range r.PRs {
		prs = append(prs, map[string]any{"number": n})
	}
	var c any = conclusion
	if conclusion == "" {
		c = nil
	}
	return map[string]any{
		"id": r.ID, "name": r.Name, "workflow_id": r.WorkflowID, "head_branch": r.Branch, "head_sha": r.HeadSHA,
		"event": r.Event, "status": status, "conclusion": c, "run_attempt": r.Attempt,
		"created_at": ts(r.Start), "run_started_at": ts(r.Start), "updated_at": ts(end.Add(3 * time.Second)),
		"html_url": fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", fakeOwner, fakeRepo, r.ID), "pull_requests": prs,
	}
}

// jobsJSON are the run's jobs as GitHub lists them: each created at the run's start.
func jobsJSON(r fakeRun) []map[string]any {
	var out []map[string]any
	for i, j := range r.Jobs {
		created := r.Start
		started := created.Add(j.Queue)
		completed := started.Add(j.Duration)
		conclusion := j.Conclusion
		if conclusion == "" {
			conclusion = "success"
		}
		steps := []map[string]any{}
		at := started
		for n, s := range j.Steps {
			sc := s.Conclusion
			if sc == "" {
				sc = "success"
			}
			steps = append(steps, map[string]any{"name": s.Name, "status": "completed", "conclusion": sc, "number": n + 1,
				"started_at": ts(at), "completed_at": ts(at.Add(s.Duration))})
			at = at.Add(s.Duration)
		}
		out = append(out, map[string]any{
			"id": r.ID*100 + int64(i), "run_id": r.ID, "name": j.Name, "status": "completed", "conclusion": conclusion,
			"created_at": ts(created), "started_at": ts(started), "completed_at": ts(completed), "run_attempt": r.Attempt,
			"workflow_name": r.Name, "steps": steps,
		})
	}
	return out
}

// page answers one page of items with GitHub's Link header, cacheable by the page's content.
func (g *fakeGitHub) page(w http.ResponseWriter, r *http.Request, items []map[string]any, wrap string) {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = max(n, 1)
	from, to := min((n-1)*pageSize, len(items)), min(n*pageSize, len(items))
	body := map[string]any{"total_count": len(items), wrap: items[from:to]}
	raw, _ := json.Marshal(body)
	sum := sha256.Sum256(raw)
	if to < len(items) {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n+1))
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, g.api.URL(), r.URL.Path, q.Encode()))
	}
	if ghapptest.Cacheable(w, r, hex.EncodeToString(sum[:8]), time.Minute) {
		g.mu.Lock()
		g.notModified++
		g.mu.Unlock()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(raw)
}

func (g *fakeGitHub) routes() {
	g.api.HandleFunc("GET /repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, 200, map[string]any{"id": 42, "name": fakeRepo, "full_name": fakeOwner + "/" + fakeRepo, "default_branch": "main"})
	})
	g.api.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		g.mu.Lock()
		runs := append([]fakeRun(nil), g.runs...)
		g.mu.Unlock()
		sort.Slice(runs, func(i, j int) bool { return runs[i].ID > runs[j].ID }) // newest first
		var items []map[string]any
		for _, run := range runs {
			js := runJSON(run)
			switch {
			case q.Get("branch") != "" && run.Branch != q.Get("branch"):
			case q.Get("head_sha") != "" && run.HeadSHA != q.Get("head_sha"):
			case q.Get("status") == "success" && js["conclusion"] != "success":
			default:
				items = append(items, js)
			}
		}
		g.page(w, r, items, "workflow_runs")
	})
	g.api.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{id}/attempts/{attempt}/jobs", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		g.mu.Lock()
		var found *fakeRun
		for i := range g.runs {
			if g.runs[i].ID == id {
				run := g.runs[i]
				found = &run
			}
		}
		g.mu.Unlock()
		if found == nil {
			ghapptest.NotFound(w)
			return
		}
		g.page(w, r, jobsJSON(*found), "jobs")
	})
	g.api.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("number"))
		g.mu.Lock()
		sha, ok := g.pulls[n]
		g.mu.Unlock()
		if !ok {
			ghapptest.NotFound(w)
			return
		}
		ghapptest.JSON(w, 200, map[string]any{"number": n, "state": "open", "head": map[string]any{"sha": sha, "ref": "feature"}, "base": map[string]any{"ref": "main"}})
	})
	g.api.HandleFunc("GET /repos/{owner}/{repo}/pulls", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		out := []map[string]any{}
		if n, ok := g.forkPulls[r.URL.Query().Get("head")]; ok && r.URL.Query().Get("state") == "open" {
			out = append(out, map[string]any{"number": n, "state": "open", "head": map[string]any{"sha": g.pulls[n], "ref": "feature"}})
		}
		ghapptest.JSON(w, 200, out)
	})
	g.api.Handle("POST /repos/{owner}/{repo}/issues/{number}/comments", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var c struct{ Body string }
		_ = json.Unmarshal(body, &c)
		n, _ := strconv.Atoi(r.PathValue("number"))
		g.mu.Lock()
		g.nextID++
		id := g.nextID
		g.comments[id], g.onPR[id] = c.Body, n
		g.mu.Unlock()
		ghapptest.JSON(w, 201, map[string]any{"id": id, "body": c.Body, "user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}})
	})
	g.api.Handle("PATCH /repos/{owner}/{repo}/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var c struct{ Body string }
		_ = json.Unmarshal(body, &c)
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		g.mu.Lock()
		defer g.mu.Unlock()
		if _, ok := g.comments[id]; !ok {
			ghapptest.NotFound(w)
			return
		}
		g.comments[id] = c.Body
		ghapptest.JSON(w, 200, map[string]any{"id": id, "body": c.Body})
	})
	g.api.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("number"))
		g.mu.Lock()
		defer g.mu.Unlock()
		out := []map[string]any{}
		for id, body := range g.comments {
			if g.onPR[id] == n {
				out = append(out, map[string]any{"id": id, "body": body, "user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}})
			}
		}
		ghapptest.JSON(w, 200, out)
	})
}

// commentBodies are the comments' bodies, by id.
func (g *fakeGitHub) commentBodies() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]int64, 0, len(g.comments))
	for id := range g.comments {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, g.comments[id])
	}
	return out
}

// count is how many requests' "METHOD /path" contain substr.
func (g *fakeGitHub) count(substr string) int { return len(g.api.Calls(substr)) }

// fakeClients hands out the fake's client.
type fakeClients struct {
	client *github.Client
	err    error
}

func (c fakeClients) ForRepo(context.Context, string, string, int64) (*github.Client, int64, error) {
	return c.client, 5, c.err
}

func (c fakeClients) App() (*github.Client, error) { return c.client, c.err }

// fakeConfigs is a repository configuration without GitHub.
type fakeConfigs struct {
	cfg config.RepoConfig
	err error
}

func (c fakeConfigs) Load(context.Context, *github.Client, string, string) (config.RepoConfig, error) {
	return c.cfg, c.err
}

// fakeAlerts records what was raised and resolved.
type fakeAlerts struct {
	mu       sync.Mutex
	raised   []string
	resolved []string
	titles   []string
	links    []string
	err      error
}

func (a *fakeAlerts) Raise(_ context.Context, al alerting.Alert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.raised = append(a.raised, al.Fingerprint)
	a.titles = append(a.titles, al.Title)
	for _, l := range al.Links {
		a.links = append(a.links, l.URL)
	}
	return nil
}

func (a *fakeAlerts) Resolve(_ context.Context, fingerprint, _ string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.resolved = append(a.resolved, fingerprint)
	return nil
}
