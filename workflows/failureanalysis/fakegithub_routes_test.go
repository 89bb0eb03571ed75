package failureanalysis

// The fake GitHub's routes: each answers in the shape GitHub documents.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) notFound(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]any{
		"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
	})
}

func pathID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id
}

const fakeHTML = "https://github.com/" + fakeOwner + "/" + fakeRepo

// runJSON renders a run (at attempt n) in GitHub's shape.
func (run *fakeRun) json(n int) map[string]any {
	prHead := run.PRHeadSHA
	if prHead == "" {
		prHead = run.HeadSHA
	}
	branch := run.HeadBranch
	if branch == "" {
		branch = "feature"
	}
	event := run.Event
	if event == "" {
		event = "pull_request"
	}
	repo := map[string]any{
		"id": 42, "name": fakeRepo, "full_name": fakeOwner + "/" + fakeRepo,
		"owner":    map[string]any{"login": fakeOwner, "id": 7, "type": "Organization"},
		"html_url": fakeHTML, "url": "https://api.github.com/repos/" + fakeOwner + "/" + fakeRepo,
		"default_branch": "main",
	}
	var prs []map[string]any
	headRepo := repo
	if run.ForkOwner != "" {
		headRepo = map[string]any{
			"id": 4242, "name": fakeRepo, "full_name": run.ForkOwner + "/" + fakeRepo,
			"owner": map[string]any{"login": run.ForkOwner, "id": 9, "type": "User"},
		}
	}
	for _, number := range run.PullNumbers {
		if run.ForkOwner != "" {
			break
		}
		prs = append(prs, map[string]any{
			"url":    fmt.Sprintf("https://api.github.com/repos/%s/%s/pulls/%d", fakeOwner, fakeRepo, number),
			"id":     1000 + number,
			"number": number,
			"head":   map[string]any{"ref": branch, "sha": prHead, "repo": map[string]any{"id": 42, "url": repo["url"], "name": fakeRepo}},
			"base":   map[string]any{"ref": "main", "sha": "0000111122223333444455556666777788889999", "repo": map[string]any{"id": 42, "url": repo["url"], "name": fakeRepo}},
		})
	}
	if prs == nil {
		prs = []map[string]any{}
	}
	status := run.Status
	conclusion := run.Attempts[n-1].Conclusion
	if n < len(run.Attempts) {
		status = "completed"
	}
	if status != "completed" {
		conclusion = ""
	}
	var conc any = conclusion
	if conclusion == "" {
		conc = nil
	}
	return map[string]any{
		"id": run.ID, "name": run.Name, "node_id": "WFR_kwLOA" + strconv.FormatInt(run.ID, 10),
		"head_branch": branch, "head_sha": run.HeadSHA, "path": ".github/workflows/ci.yml",
		"display_title": "Add widgets", "run_number": 562, "event": event,
		"status": status, "conclusion": conc, "workflow_id": run.WorkflowID, "check_suite_id": 414944374,
		"url":           fmt.Sprintf("https://api.github.com/repos/%s/%s/actions/runs/%d", fakeOwner, fakeRepo, run.ID),
		"html_url":      fmt.Sprintf("%s/actions/runs/%d", fakeHTML, run.ID),
		"pull_requests": prs, "run_attempt": n,
		"created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:07:00Z", "run_started_at": "2024-05-01T10:00:00Z",
		"jobs_url":   fmt.Sprintf("https://api.github.com/repos/%s/%s/actions/runs/%d/jobs", fakeOwner, fakeRepo, run.ID),
		"logs_url":   fmt.Sprintf("https://api.github.com/repos/%s/%s/actions/runs/%d/logs", fakeOwner, fakeRepo, run.ID),
		"repository": repo, "head_repository": headRepo,
		"actor": map[string]any{"login": "alice", "id": 1, "type": "User"},
	}
}

func (f *fakeGitHub) run(w http.ResponseWriter, r *http.Request) (*fakeRun, bool) {
	f.mu.Lock()
	run, ok := f.runs[pathID(r, "id")]
	f.mu.Unlock()
	if !ok {
		f.notFound(w, r)
	}
	return run, ok
}

func (f *fakeGitHub) getRun(w http.ResponseWriter, r *http.Request) {
	if run, ok := f.run(w, r); ok {
		writeJSON(w, http.StatusOK, run.json(len(run.Attempts)))
	}
}

func (f *fakeGitHub) getAttempt(w http.ResponseWriter, r *http.Request) {
	run, ok := f.run(w, r)
	if !ok {
		return
	}
	n := int(pathID(r, "n"))
	if n < 1 || n > len(run.Attempts) {
		f.notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, run.json(n))
}

func (f *fakeGitHub) listJobs(w http.ResponseWriter, r *http.Request) {
	run, ok := f.run(w, r)
	if !ok {
		return
	}
	n := int(pathID(r, "n"))
	if n < 1 || n > len(run.Attempts) {
		f.notFound(w, r)
		return
	}
	var jobs []map[string]any
	for _, j := range run.Attempts[n-1].Jobs {
		steps := []map[string]any{}
		failedAt := 0
		for i, name := range []string{"Set up job", "Run actions/checkout@v4", "Set up Go", j.FailedStep, "Post Run actions/checkout@v4", "Complete job"} {
			if name == "" {
				continue
			}
			conclusion := "success"
			switch {
			case name == j.FailedStep && j.Conclusion != "success":
				conclusion = j.Conclusion
				failedAt = i + 1
			case failedAt > 0 && name != "Complete job" && !strings.HasPrefix(name, "Post "):
				conclusion = "skipped"
			}
			steps = append(steps, map[string]any{
				"name": name, "status": "completed", "conclusion": conclusion, "number": i + 1,
				"started_at": "2024-05-01T10:00:00Z", "completed_at": "2024-05-01T10:01:00Z",
			})
		}
		jobs = append(jobs, map[string]any{
			"id": j.ID, "run_id": run.ID, "run_attempt": n, "node_id": "CR_kwDO" + strconv.FormatInt(j.ID, 10),
			"head_sha": run.HeadSHA, "head_branch": "feature", "workflow_name": run.Name,
			"url":      fmt.Sprintf("https://api.github.com/repos/%s/%s/actions/jobs/%d", fakeOwner, fakeRepo, j.ID),
			"html_url": fmt.Sprintf("%s/actions/runs/%d/job/%d", fakeHTML, run.ID, j.ID),
			"run_url":  fmt.Sprintf("https://api.github.com/repos/%s/%s/actions/runs/%d", fakeOwner, fakeRepo, run.ID),
			"status":   "completed", "conclusion": j.Conclusion, "name": j.Name, "steps": steps,
			"started_at": "2024-05-01T10:00:00Z", "completed_at": completedAt(j),
			"labels": []string{"ubuntu-latest"}, "runner_name": "GitHub Actions 12", "runner_group_name": "GitHub Actions",
			"check_run_url": fmt.Sprintf("https://api.github.com/repos/%s/%s/check-runs/%d", fakeOwner, fakeRepo, j.ID),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(jobs), "jobs": jobs})
}

func completedAt(j fakeJob) string {
	if j.CompletedAt.IsZero() {
		return "2024-05-01T10:05:00Z"
	}
	return j.CompletedAt.UTC().Format(time.RFC3339)
}

func (f *fakeGitHub) rerunFailedJobs(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.run(w, r); !ok {
		return
	}
	f.mu.Lock()
	f.reruns = append(f.reruns, pathID(r, "id"))
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{})
}

// jobLogs answers as GitHub does: a 302 to a short-lived address on another host.
func (f *fakeGitHub) jobLogs(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	f.mu.Lock()
	_, ok := f.logs[id]
	f.mu.Unlock()
	if !ok {
		f.notFound(w, r)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/logs/%d?sig=signed&se=2024-05-01T11%%3A00%%3A00Z", f.blob.URL, id))
	w.WriteHeader(http.StatusFound)
}

// serveBlob serves a log, honouring "Range: bytes=-N" unless ignoreRange is set.
func (f *fakeGitHub) serveBlob(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/logs/"), 10, 64)
	f.mu.Lock()
	text, ok := f.logs[id]
	f.blobRanges = append(f.blobRanges, r.Header.Get("Range"))
	ignore := f.ignoreRange
	f.mu.Unlock()
	if !ok || r.URL.Query().Get("sig") != "signed" || r.Header.Get("Authorization") != "" {
		http.Error(w, "AuthenticationFailed", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	rng := r.Header.Get("Range")
	if ignore || !strings.HasPrefix(rng, "bytes=-") {
		w.Header().Set("Content-Length", strconv.Itoa(len(text)))
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, text)
		return
	}
	n, err := strconv.Atoi(strings.TrimPrefix(rng, "bytes=-"))
	if err != nil || n <= 0 {
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return
	}
	start := max(len(text)-n, 0)
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(text)-1, len(text)))
	w.Header().Set("Content-Length", strconv.Itoa(len(text)-start))
	w.WriteHeader(http.StatusPartialContent)
	_, _ = io.WriteString(w, text[start:])
}

func commentJSON(c *fakeComment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": "IC_kwDO" + strconv.FormatInt(c.ID, 10), "body": c.Body,
		"html_url":           fmt.Sprintf("%s/pull/%d#issuecomment-%d", fakeHTML, c.Number, c.ID),
		"issue_url":          fmt.Sprintf("https://api.github.com/repos/%s/%s/issues/%d", fakeOwner, fakeRepo, c.Number),
		"user":               map[string]any{"login": c.Login, "id": 8, "type": c.Type},
		"author_association": "NONE", "created_at": "2024-05-01T10:08:00Z", "updated_at": "2024-05-01T10:08:00Z",
	}
}

// addComment adds a comment as someone else would.
func (f *fakeGitHub) addComment(number int, login, userType, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.comments = append(f.comments, &fakeComment{ID: f.nextID, Number: number, Body: body, Login: login, Type: userType})
	return f.nextID
}

func (f *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) {
	number := int(pathID(r, "n"))
	f.mu.Lock()
	out := []map[string]any{}
	for _, c := range f.comments {
		if c.Number == number {
			out = append(out, commentJSON(c))
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func decodeBody(r *http.Request) map[string]any {
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	return m
}

func (f *fakeGitHub) createComment(w http.ResponseWriter, r *http.Request) {
	body, _ := decodeBody(r)["body"].(string)
	f.mu.Lock()
	f.nextID++
	c := &fakeComment{ID: f.nextID, Number: int(pathID(r, "n")), Body: body, Login: "autonomous-ci[bot]", Type: "Bot"}
	f.comments = append(f.comments, c)
	out := commentJSON(c)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

func (f *fakeGitHub) editComment(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	body, _ := decodeBody(r)["body"].(string)
	f.mu.Lock()
	var found *fakeComment
	for _, c := range f.comments {
		if c.ID == id {
			c.Body, found = body, c
		}
	}
	var out map[string]any
	if found != nil {
		out = commentJSON(found)
	}
	f.mu.Unlock()
	if found == nil {
		f.notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeGitHub) createCheckRun(w http.ResponseWriter, r *http.Request) {
	check := decodeBody(r)
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	check["id"] = id
	check["html_url"] = fmt.Sprintf("%s/runs/%d", fakeHTML, id)
	check["app"] = map[string]any{"id": 321, "slug": "autonomous-ci", "name": "Autonomous CI"}
	f.checkRuns[id] = check
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, check)
}

func (f *fakeGitHub) updateCheckRun(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	update := decodeBody(r)
	f.mu.Lock()
	check, ok := f.checkRuns[id]
	if ok {
		for k, v := range update {
			check[k] = v
		}
	}
	f.mu.Unlock()
	if !ok {
		f.notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, check)
}

func (f *fakeGitHub) getCheckRun(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	check, ok := f.checkRuns[pathID(r, "id")]
	f.mu.Unlock()
	if !ok {
		f.notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, check)
}

func (f *fakeGitHub) listAnnotations(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	check, ok := f.checkRuns[pathID(r, "id")]
	f.mu.Unlock()
	if !ok {
		f.notFound(w, r)
		return
	}
	anns, _ := check["annotations"].([]map[string]any)
	if anns == nil {
		anns = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, anns)
}

func (f *fakeGitHub) getContents(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	cfg := f.config
	f.mu.Unlock()
	if r.PathValue("path") != ".github/autonomous.yml" || r.PathValue("repo") != fakeRepo || cfg == "" {
		f.notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "file", "encoding": "base64", "size": len(cfg), "name": "autonomous.yml",
		"path": ".github/autonomous.yml", "content": base64Lines(cfg), "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
		"url": "https://api.github.com/repos/acme/widgets/contents/.github/autonomous.yml",
	})
}

// sortedKeys lists a map's keys in order, for stable assertions.
func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// base64Lines encodes content as the contents API does: base64 in lines of 60 characters.
func base64Lines(content string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(content))
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	b.WriteString(enc + "\n")
	return b.String()
}
