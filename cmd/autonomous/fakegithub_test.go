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
)

// fakeGitHub is the GitHub REST API (Enterprise-style /api/v3 prefix) on loopback, with just
// what the server's workflows call. It records every request.
type fakeGitHub struct {
	t    testing.TB
	srv  *httptest.Server
	blob *httptest.Server

	mu       sync.Mutex
	requests []string
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

	// Fault injection: failReactions maps a reaction content to how many of its requests answer
	// 502; failCheckRunCreates is how many check-run creates answer 422.
	failReactions       map[string]int
	failCheckRunCreates int
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

// fakeRepoID is octo-org/hello-world's id, as in testdata/workflow_run_failed.json.
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
		failReactions: map[string]int{}, checkRuns: map[int]map[string]any{},
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
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
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
		f.srv.Close()
		f.blob.Close()
	})
	return f
}

// APIURL is GITHUB_API_URL for the server under test.
func (f *fakeGitHub) APIURL() string { return f.srv.URL + "/api/v3/" }

func (f *fakeGitHub) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// countExact counts requests equal to "METHOD /path".
func (f *fakeGitHub) countExact(request string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
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

// requestsLog returns a copy of the recorded requests.
func (f *fakeGitHub) requestsLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+path)
	hang := f.hangRun
	f.mu.Unlock()
	parts := strings.Split(strings.Trim(path, "/"), "/")
	const repo = "/repos/octo-org/hello-world/"
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/app/installations/") && strings.HasSuffix(path, "/access_tokens"):
		writeJSONBody(w, http.StatusCreated, map[string]any{"token": "ghs_faketoken", "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	case r.Method == http.MethodGet && path == "/app":
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 1, "slug": "autonomous-ci", "name": "Autonomous CI"})
	case r.Method == http.MethodGet && strings.HasPrefix(path, repo+"contents/"), r.Method == http.MethodGet && path == "/repos/octo-org/.github":
		writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "actions" && parts[4] == "runs":
		if hang != nil {
			<-hang
		}
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		writeJSONBody(w, http.StatusOK, f.run(id))
	case r.Method == http.MethodGet && len(parts) == 9 && parts[6] == "attempts" && parts[8] == "jobs":
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		writeJSONBody(w, http.StatusOK, map[string]any{"total_count": 1, "jobs": []any{map[string]any{
			"id": id*10 + 1, "run_id": id, "name": "test (ubuntu-latest)", "status": "completed", "conclusion": "failure",
			"head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "html_url": fmt.Sprintf("https://github.com/octo-org/hello-world/actions/runs/%d/job/%d", id, id*10+1),
			"steps": []any{
				map[string]any{"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1},
				map[string]any{"name": "Run go test ./...", "status": "completed", "conclusion": "failure", "number": 2},
			},
		}}})
	case r.Method == http.MethodGet && len(parts) == 7 && parts[4] == "jobs" && parts[6] == "logs":
		http.Redirect(w, r, f.blob.URL+"/logs/"+parts[5], http.StatusFound)
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "issues" && parts[4] == "comments":
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		f.mu.Lock()
		c, ok := f.userComments[id]
		f.mu.Unlock()
		if !ok {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		writeJSONBody(w, http.StatusOK, userCommentJSON(id, c))
	case r.Method == http.MethodPost && len(parts) == 7 && parts[3] == "issues" && parts[4] == "comments" && parts[6] == "reactions":
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		var body struct{ Content string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		if f.failReactions[body.Content] > 0 {
			f.failReactions[body.Content]--
			f.mu.Unlock()
			writeJSONBody(w, http.StatusBadGateway, map[string]any{"message": "Server Error"})
			return
		}
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
			writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		writeJSONBody(w, status, map[string]any{"id": id*100 + int64(len(body.Content)), "content": body.Content,
			"user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}})
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "collaborators" && parts[5] == "permission":
		f.mu.Lock()
		role, ok := f.roles[parts[4]]
		f.mu.Unlock()
		if !ok {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		// permission is the legacy base permission: maintain reads as write, triage as read.
		perm := map[string]string{"maintain": "write", "triage": "read"}[role]
		if perm == "" {
			perm = role
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"permission": perm, "role_name": role,
			"user": map[string]any{"login": parts[4], "type": "User"}})
	case r.Method == http.MethodGet && len(parts) == 5 && parts[3] == "pulls":
		n, _ := strconv.Atoi(parts[4])
		f.mu.Lock()
		pr, ok := f.pulls[n]
		f.mu.Unlock()
		if !ok {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		writeJSONBody(w, http.StatusOK, map[string]any{
			"number": n, "state": "open",
			"head": map[string]any{"sha": pr.HeadSHA, "ref": "fix-greeting", "repo": map[string]any{"id": pr.HeadRepoID}},
			"base": map[string]any{"sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b", "ref": "main",
				"repo": map[string]any{"id": fakeRepoID, "name": "hello-world", "full_name": "octo-org/hello-world"}},
		})
	case r.Method == http.MethodGet && len(parts) == 5 && parts[3] == "actions" && parts[4] == "runs":
		writeJSONBody(w, http.StatusOK, f.listRuns(r.URL.Query().Get("head_sha"), r.URL.Query().Get("status")))
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "issues" && parts[5] == "comments":
		n, _ := strconv.Atoi(parts[4])
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
	case r.Method == http.MethodPost && len(parts) == 6 && parts[3] == "issues" && parts[5] == "comments":
		n, _ := strconv.Atoi(parts[4])
		var body struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.nextID++
		c := fakeComment{ID: f.nextID, Body: body.Body}
		f.comments[n] = append(f.comments[n], c)
		f.mu.Unlock()
		writeJSONBody(w, http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body})
	case r.Method == http.MethodPatch && len(parts) == 6 && parts[3] == "issues" && parts[4] == "comments":
		id, _ := strconv.ParseInt(parts[5], 10, 64)
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
		writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	case r.Method == http.MethodPost && path == repo+"check-runs":
		f.mu.Lock()
		if f.failCheckRunCreates > 0 {
			f.failCheckRunCreates--
			f.mu.Unlock()
			writeJSONBody(w, http.StatusUnprocessableEntity, map[string]any{"message": "Invalid request.",
				"errors": []any{map[string]any{"resource": "CheckRun", "code": "invalid", "field": "head_sha"}}})
			return
		}
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
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "commits" && parts[5] == "check-runs":
		name := r.URL.Query().Get("check_name")
		f.mu.Lock()
		out := []any{}
		for id := 1; id <= f.checks; id++ {
			if c, ok := f.checkRuns[id]; ok && c["head_sha"] == parts[4] && (name == "" || c["name"] == name) {
				out = append(out, c)
			}
		}
		f.mu.Unlock()
		writeJSONBody(w, http.StatusOK, map[string]any{"total_count": len(out), "check_runs": out})
	case r.Method == http.MethodPatch && strings.HasPrefix(path, repo+"check-runs/"):
		id, _ := strconv.ParseInt(parts[4], 10, 64)
		writeJSONBody(w, http.StatusOK, map[string]any{"id": id})
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/rerun-failed-jobs"):
		id, _ := strconv.ParseInt(parts[5], 10, 64)
		f.mu.Lock()
		f.reruns[id]++
		f.mu.Unlock()
		writeJSONBody(w, http.StatusCreated, map[string]any{})
	default:
		writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found (fake)"})
	}
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
	return map[string]any{
		"id": id, "name": "CI", "head_sha": sha, "head_branch": "fix-greeting", "run_attempt": attempt, "workflow_id": 159038,
		"run_number": id % 1000, "status": "completed", "conclusion": "failure", "event": "pull_request",
		"html_url":   fmt.Sprintf("https://github.com/octo-org/hello-world/actions/runs/%d", id),
		"repository": map[string]any{"id": fakeRepoID, "name": "hello-world", "full_name": "octo-org/hello-world"},
		"pull_requests": []any{map[string]any{"number": 42, "head": map[string]any{"sha": sha, "ref": "fix-greeting"},
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
