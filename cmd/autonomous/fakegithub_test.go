package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contexten/autonomous/ghapp/ghapptest"
)

// fakeGitHub is the state of octo-org/hello-world served by the shared fake GitHub (ghapptest:
// Enterprise-style /api/v3 prefix, routing, recording, faults), with just what the server's
// workflows call.
type fakeGitHub struct {
	t    testing.TB
	srv  *ghapptest.Server
	blob *httptest.Server

	mu       sync.Mutex
	comments map[int][]fakeComment
	nextID   int64
	checks   int
	// checkRuns are the created check runs by id: name, head_sha and external_id.
	checkRuns map[int]map[string]any
	reruns    map[int64]int
	// runAttempt is the latest attempt of every run (default 1).
	runAttempt map[int64]int
	// hangRun makes GET run block until the channel is closed (crash tests).
	hangRun chan struct{}
	// hangCheckRun makes POST check-runs create the check run, then block until the channel is
	// closed: the client never hears of it (crash tests).
	hangCheckRun chan struct{}
	// logText is every job's log.
	logText string

	// roles maps a login to its repository role_name (read, triage, write, maintain, admin) for
	// the collaborator permission endpoint; a login not in it is not a collaborator (404).
	roles map[string]string
	// userComments are people's comments, by id (GET one, and listed on their pull request).
	userComments map[int64]fakeUserComment
	// reactions are the reaction contents posted on each comment, in order.
	reactions map[int64][]string
	// pulls are the pull requests the fake knows (GET pulls/{n}); 42 exists by default.
	pulls map[int]fakePull
	// listedRuns are the workflow runs the runs list returns (filtered by head_sha and status),
	// in the order added; their shape is run(id).
	listedRuns []int64
	// runHeads moves a run to another head branch and pull request (fix_e2e_test.go).
	runHeads map[int64]runHead
}

// runHead is a run's head branch and pull request, when not fix-greeting and #42.
type runHead struct {
	Branch string
	PR     int
}

// fakeUserComment is a comment written by a person (or another bot) on a pull request.
type fakeUserComment struct {
	Number    int
	Body      string
	Login     string
	Type      string // "User" or "Bot"
	CreatedAt time.Time
}

// fakePull is a pull request: its head commit and the repository its head branch lives in.
type fakePull struct {
	HeadSHA    string
	HeadRepoID int64
}

// fakeRepoID is octo-org/hello-world's id, as in testdata/workflow_run.completed.json.
const fakeRepoID = 1296269

// fakeHeadSHA is the head commit of pull request 42 and of every run.
const fakeHeadSHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"

type fakeComment struct {
	ID   int64
	Body string
	// Edits counts PATCHes.
	Edits int
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{t: t, comments: map[int][]fakeComment{}, nextID: 1000, reruns: map[int64]int{}, runAttempt: map[int64]int{},
		roles: map[string]string{}, userComments: map[int64]fakeUserComment{}, reactions: map[int64][]string{},
		checkRuns: map[int]map[string]any{}, srv: ghapptest.New(t),
		pulls: map[int]fakePull{42: {HeadSHA: fakeHeadSHA, HeadRepoID: fakeRepoID}},
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
	f.routes()
	t.Cleanup(func() {
		f.mu.Lock()
		for _, hang := range []chan struct{}{f.hangRun, f.hangCheckRun} {
			if hang != nil {
				select {
				case <-hang:
				default:
					close(hang)
				}
			}
		}
		f.mu.Unlock()
		f.blob.Close()
	})
	return f
}

// APIURL is GITHUB_API_URL for the server under test.
func (f *fakeGitHub) APIURL() string { return f.srv.URL() + "/api/v3/" }

// failReaction makes the next times reactions with content answer 502.
func (f *fakeGitHub) failReaction(content string, times int) {
	f.srv.Fail(ghapptest.Fault{Method: http.MethodPost, Status: http.StatusBadGateway, Body: `{"message":"Server Error"}`, Times: times,
		Match: func(r ghapptest.Request) bool {
			var body struct{ Content string }
			_ = json.Unmarshal([]byte(r.Body), &body)
			return strings.HasSuffix(r.Path, "/reactions") && body.Content == content
		}})
}

// failCheckRunCreates makes the next times check-run creates answer 422.
func (f *fakeGitHub) failCheckRunCreates(times int) {
	f.srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: "/repos/octo-org/hello-world/check-runs", Status: http.StatusUnprocessableEntity,
		Body: `{"message":"Invalid request.","errors":[{"resource":"CheckRun","code":"invalid","field":"head_sha"}]}`, Times: times})
}

func (f *fakeGitHub) count(prefix string) int {
	n := 0
	for _, r := range f.requestsLog() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// countExact counts requests equal to "METHOD /path".
func (f *fakeGitHub) countExact(request string) int {
	n := 0
	for _, r := range f.requestsLog() {
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

// setRole makes login a collaborator with a repository role (read, triage, write, maintain, admin).
func (f *fakeGitHub) setRole(login, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles[login] = role
}

// addUserComment stores a comment someone wrote on pull request number, as GitHub would have it
// before sending the issue_comment webhook.
func (f *fakeGitHub) addUserComment(id int64, number int, login, userType, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.userComments[id] = fakeUserComment{Number: number, Body: body, Login: login, Type: userType, CreatedAt: time.Now().UTC().Truncate(time.Second)}
}

// addFailedRun lists run id (failed, on fakeHeadSHA) in the runs list.
func (f *fakeGitHub) addFailedRun(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listedRuns = append(f.listedRuns, id)
}

// reactionsOn returns the reaction contents posted on a comment, in order.
func (f *fakeGitHub) reactionsOn(commentID int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reactions[commentID]...)
}

// rerunsOf is how many re-runs of a run's failed jobs were requested.
func (f *fakeGitHub) rerunsOf(runID int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reruns[runID]
}

// requestsLog returns the recorded "METHOD /path" requests.
func (f *fakeGitHub) requestsLog() []string { return f.srv.Calls("") }

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// routes serves the repository's state on the shared fake's router.
func (f *fakeGitHub) routes() {
	const p = "/repos/{owner}/{repo}"
	const repo = "/repos/octo-org/hello-world"
	notFound := func(w http.ResponseWriter) {
		writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
	id := func(r *http.Request, name string) int64 {
		n, _ := strconv.ParseInt(r.PathValue(name), 10, 64)
		return n
	}
	h := f.srv.HandleFunc
	h("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusCreated, map[string]any{"token": "ghs_faketoken", "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	})
	h("GET /app", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 1, "slug": "autonomous-ci", "name": "Autonomous CI"})
	})
	h("GET "+p+"/actions/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		hang := f.hangRun
		f.mu.Unlock()
		if hang != nil {
			<-hang
		}
		writeJSONBody(w, http.StatusOK, f.run(id(r, "id")))
	})
	h("GET "+p+"/actions/runs/{id}/attempts/{n}/jobs", func(w http.ResponseWriter, r *http.Request) {
		id := id(r, "id")
		writeJSONBody(w, http.StatusOK, map[string]any{"total_count": 1, "jobs": []any{map[string]any{
			"id": id*10 + 1, "run_id": id, "name": "test (ubuntu-latest)", "status": "completed", "conclusion": "failure",
			"head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "html_url": fmt.Sprintf("https://github.com/octo-org/hello-world/actions/runs/%d/job/%d", id, id*10+1),
			"steps": []any{
				map[string]any{"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1},
				map[string]any{"name": "Run go test ./...", "status": "completed", "conclusion": "failure", "number": 2},
			},
		}}})
	})
	h("GET "+p+"/actions/jobs/{id}/logs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.blob.URL+"/logs/"+r.PathValue("id"), http.StatusFound)
	})
	// GET issues/comments/{id} and GET issues/{n}/comments share one pattern (ServeMux would
	// find them ambiguous).
	h("GET "+p+"/issues/{a}/{b}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("a") == "comments":
			f.mu.Lock()
			c, ok := f.userComments[id(r, "b")]
			f.mu.Unlock()
			if !ok {
				notFound(w)
				return
			}
			writeJSONBody(w, http.StatusOK, userCommentJSON(id(r, "b"), c))
		case r.PathValue("b") == "comments":
			f.listComments(w, int(id(r, "a")))
		default:
			notFound(w)
		}
	})
	h("POST "+p+"/issues/comments/{id}/reactions", func(w http.ResponseWriter, r *http.Request) {
		id := id(r, "id")
		var body struct{ Content string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		_, known := f.userComments[id]
		status := http.StatusCreated
		for _, c := range f.reactions[id] {
			if c == body.Content {
				status = http.StatusOK // GitHub answers an existing reaction with 200
			}
		}
		if known && status == http.StatusCreated {
			f.reactions[id] = append(f.reactions[id], body.Content)
		}
		f.mu.Unlock()
		if !known {
			notFound(w)
			return
		}
		writeJSONBody(w, status, map[string]any{"id": id*100 + int64(len(body.Content)), "content": body.Content,
			"user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}})
	})
	h("GET "+p+"/collaborators/{login}/permission", func(w http.ResponseWriter, r *http.Request) {
		login := r.PathValue("login")
		f.mu.Lock()
		role, ok := f.roles[login]
		f.mu.Unlock()
		if !ok {
			notFound(w)
			return
		}
		// permission is the legacy base permission: maintain reads as write, triage as read.
		perm := map[string]string{"maintain": "write", "triage": "read"}[role]
		if perm == "" {
			perm = role
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"permission": perm, "role_name": role,
			"user": map[string]any{"login": login, "type": "User"}})
	})
	h("GET "+p+"/pulls/{n}", func(w http.ResponseWriter, r *http.Request) {
		n := int(id(r, "n"))
		f.mu.Lock()
		pr, ok := f.pulls[n]
		f.mu.Unlock()
		if !ok {
			notFound(w)
			return
		}
		writeJSONBody(w, http.StatusOK, map[string]any{
			"number": n, "state": "open",
			"head": map[string]any{"sha": pr.HeadSHA, "ref": "fix-greeting", "repo": map[string]any{"id": pr.HeadRepoID}},
			"base": map[string]any{"sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b", "ref": "main",
				"repo": map[string]any{"id": fakeRepoID, "name": "hello-world", "full_name": "octo-org/hello-world"}},
		})
	})
	h("GET "+p+"/actions/runs", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, f.listRuns(r.URL.Query().Get("head_sha"), r.URL.Query().Get("status")))
	})
	h("POST "+p+"/issues/{n}/comments", func(w http.ResponseWriter, r *http.Request) {
		n := int(id(r, "n"))
		var body struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.nextID++
		c := fakeComment{ID: f.nextID, Body: body.Body}
		f.comments[n] = append(f.comments[n], c)
		f.mu.Unlock()
		writeJSONBody(w, http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body})
	})
	h("PATCH "+p+"/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := id(r, "id")
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
		notFound(w)
	})
	h("POST "+repo+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.checks++
		id := f.checks
		var check map[string]any
		_ = json.NewDecoder(r.Body).Decode(&check)
		if check == nil {
			check = map[string]any{}
		}
		check["id"] = id
		f.checkRuns[id] = check
		hang := f.hangCheckRun
		f.mu.Unlock()
		if hang != nil {
			<-hang
		}
		writeJSONBody(w, http.StatusCreated, map[string]any{"id": id})
	})
	h("GET "+p+"/commits/{sha}/check-runs", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("check_name")
		f.mu.Lock()
		out := []any{}
		for id := 1; id <= f.checks; id++ {
			if c, ok := f.checkRuns[id]; ok && c["head_sha"] == r.PathValue("sha") && (name == "" || c["name"] == name) {
				out = append(out, c)
			}
		}
		f.mu.Unlock()
		writeJSONBody(w, http.StatusOK, map[string]any{"total_count": len(out), "check_runs": out})
	})
	h("PATCH "+repo+"/check-runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"id": id(r, "id")})
	})
	h("POST "+p+"/actions/runs/{id}/rerun-failed-jobs", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reruns[id(r, "id")]++
		f.mu.Unlock()
		writeJSONBody(w, http.StatusCreated, map[string]any{})
	})
}

// listComments answers GET issues/{n}/comments: people's comments, then the bot's.
func (f *fakeGitHub) listComments(w http.ResponseWriter, n int) {
	var out []any
	f.mu.Lock()
	var ids []int64
	for id, c := range f.userComments {
		if c.Number == n {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, userCommentJSON(id, f.userComments[id]))
	}
	f.mu.Unlock()
	for _, c := range f.commentsOn(n) {
		out = append(out, map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}})
	}
	// As GitHub answers: a client may serve the list from its cache for a minute.
	w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
	w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	writeJSONBody(w, http.StatusOK, out)
}

// run is a failed pull-request run in GitHub's shape.
func (f *fakeGitHub) run(id int64) map[string]any {
	f.mu.Lock()
	attempt := f.runAttempt[id]
	f.mu.Unlock()
	if attempt == 0 {
		attempt = 1
	}
	sha := fakeHeadSHA
	f.mu.Lock()
	head, moved := f.runHeads[id]
	f.mu.Unlock()
	if !moved {
		head = runHead{Branch: "fix-greeting", PR: 42}
	}
	return map[string]any{
		"id": id, "name": "CI", "head_sha": sha, "head_branch": head.Branch, "run_attempt": attempt, "workflow_id": 159038,
		"run_number": id % 1000, "status": "completed", "conclusion": "failure", "event": "pull_request",
		"html_url":   fmt.Sprintf("https://github.com/octo-org/hello-world/actions/runs/%d", id),
		"repository": map[string]any{"id": fakeRepoID, "name": "hello-world", "full_name": "octo-org/hello-world"},
		"pull_requests": []any{map[string]any{"number": head.PR, "head": map[string]any{"sha": sha, "ref": head.Branch},
			"base": map[string]any{"ref": "main", "repo": map[string]any{"id": fakeRepoID}}}},
	}
}

func userCommentJSON(id int64, c fakeUserComment) map[string]any {
	return map[string]any{
		"id": id, "body": c.Body, "user": map[string]any{"login": c.Login, "type": c.Type},
		"html_url":   fmt.Sprintf("https://github.com/octo-org/hello-world/pull/%d#issuecomment-%d", c.Number, id),
		"created_at": c.CreatedAt.Format(time.RFC3339), "updated_at": c.CreatedAt.Format(time.RFC3339),
	}
}

// listRuns is the runs list: the listed runs on headSHA (all when empty) whose status or
// conclusion is status (all when empty). A run whose failed jobs were re-run is queued again.
func (f *fakeGitHub) listRuns(headSHA, status string) map[string]any {
	f.mu.Lock()
	ids := append([]int64(nil), f.listedRuns...)
	f.mu.Unlock()
	out := []any{}
	for _, id := range ids {
		run := f.run(id)
		f.mu.Lock()
		if f.reruns[id] > 0 {
			run["status"], run["conclusion"] = "queued", nil
		}
		f.mu.Unlock()
		if headSHA != "" && run["head_sha"] != headSHA {
			continue
		}
		if status != "" && run["status"] != status && run["conclusion"] != status {
			continue
		}
		out = append(out, run)
	}
	return map[string]any{"total_count": len(out), "workflow_runs": out}
}
