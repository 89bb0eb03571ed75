package testoptimization

import (
	"archive/zip"
	"bytes"
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
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeRepo is one repository's Actions runs, artifacts and issues, served by the shared fake
// GitHub (ghapptest); artifact zips go through a 302 to a separate blob server, as GitHub does.
type fakeRepo struct {
	t    *testing.T
	api  *ghapptest.Server
	blob *httptest.Server

	mu        sync.Mutex
	runs      []*fakeRun
	artifacts map[int64][]*fakeArtifact // by run id
	zips      map[int64][]byte          // by artifact id
	issues    map[int]*github.Issue
	comments  map[int64]*github.IssueComment
	pullHead  map[int]string
	nextID    int64
}

type fakeRun struct {
	ID       int64
	SHA      string
	Name     string
	Attempts []fakeAttempt // index 0 is attempt 1
}

type fakeAttempt struct {
	Conclusion string
	Started    time.Time
	Jobs       map[string]string // job name → conclusion
}

type fakeArtifact struct {
	ID      int64
	Name    string
	Created time.Time
	Size    int64
}

const owner, repoName = "octo", "app"

func newFakeRepo(t *testing.T) *fakeRepo {
	f := &fakeRepo{t: t, api: ghapptest.New(t), artifacts: map[int64][]*fakeArtifact{}, zips: map[int64][]byte{},
		issues: map[int]*github.Issue{}, comments: map[int64]*github.IssueComment{}, pullHead: map[int]string{}, nextID: 1000}
	f.blob = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/zip/"), 10, 64)
		f.mu.Lock()
		data, ok := f.zips[id]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(f.blob.Close)
	base := "/repos/" + owner + "/" + repoName
	f.api.Handle("GET "+base+"/actions/runs/{id}/attempts/{n}", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		run, n := f.run(r.PathValue("id")), atoi(r.PathValue("n"))
		if run == nil || n < 1 || n > len(run.Attempts) {
			ghapptest.NotFound(w)
			return
		}
		ghapptest.JSON(w, 200, f.runJSON(run, n))
	})
	f.api.Handle("GET "+base+"/actions/runs/{id}/attempts/{n}/jobs", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		run, n := f.run(r.PathValue("id")), atoi(r.PathValue("n"))
		if run == nil || n < 1 || n > len(run.Attempts) {
			ghapptest.NotFound(w)
			return
		}
		var jobs []map[string]any
		for name, c := range run.Attempts[n-1].Jobs {
			jobs = append(jobs, map[string]any{"id": len(jobs) + 1, "name": name, "status": "completed", "conclusion": c})
		}
		ghapptest.JSON(w, 200, map[string]any{"total_count": len(jobs), "jobs": jobs})
	})
	f.api.Handle("GET "+base+"/actions/runs", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		f.mu.Lock()
		var runs []map[string]any
		for i := len(f.runs) - 1; i >= 0; i-- {
			runs = append(runs, f.runJSON(f.runs[i], len(f.runs[i].Attempts)))
		}
		f.mu.Unlock()
		ghapptest.JSON(w, 200, map[string]any{"total_count": len(runs), "workflow_runs": runs})
	})
	f.api.Handle("GET "+base+"/actions/runs/{id}/artifacts", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		f.mu.Lock()
		var arts []map[string]any
		for _, a := range f.artifacts[id] {
			arts = append(arts, map[string]any{"id": a.ID, "name": a.Name, "size_in_bytes": a.Size, "expired": false,
				"created_at": a.Created.Format(time.RFC3339)})
		}
		f.mu.Unlock()
		ghapptest.JSON(w, 200, map[string]any{"total_count": len(arts), "artifacts": arts})
	})
	f.api.HandleFunc("GET "+base+"/actions/artifacts/{id}/zip", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.blob.URL+"/zip/"+r.PathValue("id"), http.StatusFound)
	})
	f.api.Handle("GET "+base+"/issues", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		f.mu.Lock()
		var out []*github.Issue
		for _, is := range f.issues {
			out = append(out, is)
		}
		f.mu.Unlock()
		ghapptest.JSON(w, 200, out)
	})
	f.api.Handle("POST "+base+"/issues", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req github.IssueRequest
		require.NoError(t, json.Unmarshal(body, &req))
		f.mu.Lock()
		n := len(f.issues) + 1
		is := &github.Issue{Number: github.Int(n), Title: req.Title, Body: req.Body, State: github.String("open")}
		f.issues[n] = is
		f.mu.Unlock()
		ghapptest.JSON(w, 201, is)
	})
	f.api.Handle("PATCH "+base+"/issues/{n}", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req github.IssueRequest
		require.NoError(t, json.Unmarshal(body, &req))
		f.mu.Lock()
		is := f.issues[atoi(r.PathValue("n"))]
		if is != nil && req.Body != nil {
			is.Body = req.Body
		}
		f.mu.Unlock()
		if is == nil {
			ghapptest.NotFound(w)
			return
		}
		ghapptest.JSON(w, 200, is)
	})
	f.api.Handle("GET "+base+"/pulls/{n}", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		f.mu.Lock()
		head, ok := f.pullHead[atoi(r.PathValue("n"))]
		f.mu.Unlock()
		if !ok {
			ghapptest.NotFound(w)
			return
		}
		ghapptest.JSON(w, 200, map[string]any{"number": atoi(r.PathValue("n")), "head": map[string]any{"sha": head}})
	})
	f.api.Handle("GET "+base+"/issues/{n}/comments", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		f.mu.Lock()
		var out []*github.IssueComment
		for _, c := range f.comments {
			out = append(out, c)
		}
		f.mu.Unlock()
		ghapptest.JSON(w, 200, out)
	})
	f.api.Handle("POST "+base+"/issues/{n}/comments", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var c github.IssueComment
		require.NoError(t, json.Unmarshal(body, &c))
		f.mu.Lock()
		f.nextID++
		c.ID = github.Int64(f.nextID)
		f.comments[c.GetID()] = &c
		f.mu.Unlock()
		ghapptest.JSON(w, 201, c)
	})
	f.api.Handle("PATCH "+base+"/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var c github.IssueComment
		require.NoError(t, json.Unmarshal(body, &c))
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		f.mu.Lock()
		old := f.comments[id]
		if old != nil {
			old.Body = c.Body
		}
		f.mu.Unlock()
		ghapptest.JSON(w, 200, old)
	})
	return f
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (f *fakeRepo) run(id string) *fakeRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.runs {
		if strconv.FormatInt(r.ID, 10) == id {
			return r
		}
	}
	return nil
}

func (f *fakeRepo) runJSON(run *fakeRun, attempt int) map[string]any {
	a := run.Attempts[attempt-1]
	return map[string]any{
		"id": run.ID, "name": run.Name, "head_sha": run.SHA, "head_branch": "main", "event": "push",
		"status": "completed", "conclusion": a.Conclusion, "run_attempt": attempt,
		"html_url":       fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", owner, repoName, run.ID),
		"run_started_at": a.Started.Format(time.RFC3339), "created_at": run.Attempts[0].Started.Format(time.RFC3339),
		"updated_at": a.Started.Add(5 * time.Minute).Format(time.RFC3339),
	}
}

// addRun adds a run whose attempts each upload one JUnit artifact named "junit-attempt-<n>"
// with the given outcomes (test name → "passed" or "failed").
func (f *fakeRepo) addRun(id int64, sha string, start time.Time, attempts ...map[string]string) {
	run := &fakeRun{ID: id, SHA: sha, Name: "ci"}
	for i, outcomes := range attempts {
		started := start.Add(time.Duration(i) * 10 * time.Minute)
		conclusion := "success"
		for _, o := range outcomes {
			if o == "failed" {
				conclusion = "failure"
			}
		}
		run.Attempts = append(run.Attempts, fakeAttempt{Conclusion: conclusion, Started: started, Jobs: map[string]string{"test": conclusion}})
		f.addArtifact(id, fmt.Sprintf("junit-attempt-%d", i+1), started.Add(3*time.Minute), junitZip(f.t, outcomes))
	}
	f.mu.Lock()
	f.runs = append(f.runs, run)
	f.mu.Unlock()
}

func (f *fakeRepo) addArtifact(runID int64, name string, created time.Time, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.artifacts[runID] = append(f.artifacts[runID], &fakeArtifact{ID: f.nextID, Name: name, Created: created, Size: int64(len(data))})
	f.zips[f.nextID] = data
}

// junitZip builds an artifact zip holding one JUnit file with the outcomes.
func junitZip(t *testing.T, outcomes map[string]string) []byte {
	var xml strings.Builder
	xml.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<testsuites><testsuite name="pkg" tests="` + strconv.Itoa(len(outcomes)) + `">`)
	for name, o := range outcomes {
		fmt.Fprintf(&xml, `<testcase classname="pkg" name="%s" time="1.5">`, name)
		if o == "failed" {
			xml.WriteString(`<failure message="boom">boom</failure>`)
		}
		xml.WriteString(`</testcase>`)
	}
	xml.WriteString(`</testsuite></testsuites>`)
	return zipOf(t, map[string]string{"reports/TEST-pkg.xml": xml.String()})
}

func zipOf(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(content))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// ForRepo implements ghapp.Clients.
func (f *fakeRepo) ForRepo(context.Context, string, string, int64) (*github.Client, int64, error) {
	return f.api.Client(ghapptest.ClientOptions{}), 7, nil
}

// App implements ghapp.Clients.
func (f *fakeRepo) App() (*github.Client, error) { return f.api.Client(ghapptest.ClientOptions{}), nil }

// harness runs the real worker in a real engine (River over SQLite) against the fake.
type harness struct {
	gh     *fakeRepo
	store  *store.Store
	alerts *alertingtest.Notifier
	engine *workflows.Engine
}

func newHarness(t *testing.T) *harness {
	h := &harness{gh: newFakeRepo(t), store: workflowstest.OpenStore(t, workflowstest.SQLiteURL(t)), alerts: &alertingtest.Notifier{}}
	workers := river.NewWorkers()
	river.AddWorker(workers, NewWorker(Deps{Clients: h.gh, Configs: config.NewRepoConfigLoader(0), Store: h.store,
		Alerts: h.alerts, Installations: h.store, Downloads: h.gh.blob.Client()}))
	h.engine = workflowstest.StartEngine(t, h.store, workers)
	return h
}

// run enqueues args and returns the completed execution's report.
func (h *harness) run(t *testing.T, args Args) Report {
	t.Helper()
	ins, err := h.engine.Enqueue(context.Background(), args, nil)
	require.NoError(t, err)
	var x workflows.Execution
	require.Eventually(t, func() bool {
		x, err = h.engine.Status(context.Background(), ins.ID)
		require.NoError(t, err)
		return x.Terminal()
	}, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, "completed", string(x.State), "errors: %v", x.Errors)
	var rep Report
	require.NoError(t, json.Unmarshal(x.Output, &rep))
	return rep
}
