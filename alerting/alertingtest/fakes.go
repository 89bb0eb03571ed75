// Package alertingtest has the loopback fakes of Slack's incoming webhook and Linear's GraphQL
// API that the alerting tests and the end-to-end tests share. Both record every request and can
// be told to fail the next requests with a given answer.
package alertingtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is one programmed answer instead of the fake's own: a status code, an optional
// Retry-After value and body, after an optional delay (a slow answer the client gives up on).
type Fault struct {
	Status     int
	RetryAfter string
	Body       string
	Delay      time.Duration
	// Op limits a Linear fault to one GraphQL operation ("IssueCreate"); empty: any.
	Op string
	// Landed makes Linear carry the operation out before answering the fault: a create that
	// succeeded although its answer was an error.
	Landed bool
}

// Slack is a Slack incoming webhook on 127.0.0.1.
type Slack struct {
	srv    *httptest.Server
	mu     sync.Mutex
	faults []Fault
	posts  []SlackPost
	tries  int
}

// SlackPost is one message the webhook accepted.
type SlackPost struct {
	// Text is the fallback text.
	Text string
	// Raw is the JSON body.
	Raw []byte
}

// NewSlack starts the fake webhook, stopped at the end of the test.
func NewSlack(t testing.TB) *Slack {
	t.Helper()
	f := &Slack{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the webhook's URL (SLACK_WEBHOOK_URL).
func (f *Slack) URL() string { return f.srv.URL + "/services/T000/B000/secret" }

// Fail answers the next requests with faults, one each, in order.
func (f *Slack) Fail(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

// Posts returns the accepted messages.
func (f *Slack) Posts() []SlackPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SlackPost(nil), f.posts...)
}

// Tries counts every request, failed or accepted.
func (f *Slack) Tries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

func (f *Slack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	f.tries++
	if len(f.faults) > 0 {
		fault := f.faults[0]
		f.faults = f.faults[1:]
		f.mu.Unlock()
		writeFault(w, r, fault)
		return
	}
	defer f.mu.Unlock()
	var msg struct {
		Text string `json:"text"`
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &msg) != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	f.posts = append(f.posts, SlackPost{Text: msg.Text, Raw: body})
	_, _ = io.WriteString(w, "ok")
}

func writeFault(w http.ResponseWriter, r *http.Request, fault Fault) {
	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault.RetryAfter != "" {
		w.Header().Set("Retry-After", fault.RetryAfter)
	}
	w.WriteHeader(fault.Status)
	_, _ = io.WriteString(w, fault.Body)
}

// Linear is Linear's GraphQL API on 127.0.0.1 for one team, "team-1", with its issues,
// comments and a completed workflow state.
type Linear struct {
	srv      *httptest.Server
	mu       sync.Mutex
	faults   []Fault
	down     bool
	ops      []string
	issues   []*LinearIssue
	comments []LinearComment
}

// LinearIssue is an issue the fake holds.
type LinearIssue struct {
	ID, Identifier, Team, Title, Description, StateType string
	Priority                                            int
}

// LinearComment is a comment the fake holds.
type LinearComment struct{ IssueID, Body string }

// Team is the fake's team id (LINEAR_TEAM_ID).
const Team = "team-1"

// NewLinear starts the fake API, stopped at the end of the test.
func NewLinear(t testing.TB) *Linear {
	t.Helper()
	f := &Linear{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the API's URL (LINEAR_API_URL).
func (f *Linear) URL() string { return f.srv.URL + "/graphql" }

// Fail answers the next requests with faults, one each, in order.
func (f *Linear) Fail(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

// SetDown makes every request answer 503 until SetDown(false).
func (f *Linear) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// Ops lists the operations received, in order, failed ones included.
func (f *Linear) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

// Issues returns copies of the issues.
func (f *Linear) Issues() []LinearIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]LinearIssue, 0, len(f.issues))
	for _, i := range f.issues {
		out = append(out, *i)
	}
	return out
}

// Comments returns the comments.
func (f *Linear) Comments() []LinearComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]LinearComment(nil), f.comments...)
}

var opName = regexp.MustCompile(`^\s*(?:query|mutation)\s+(\w+)`)

func (f *Linear) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	op := ""
	if m := opName.FindStringSubmatch(req.Query); m != nil {
		op = m[1]
	}
	f.mu.Lock()
	f.ops = append(f.ops, op)
	if f.down {
		f.mu.Unlock()
		writeFault(w, r, Fault{Status: http.StatusServiceUnavailable, Body: "upstream unavailable"})
		return
	}
	for i, fault := range f.faults {
		if fault.Op != "" && fault.Op != op {
			continue
		}
		f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
		if fault.Landed {
			_, _ = f.answer(op, req.Variables)
		}
		f.mu.Unlock()
		writeFault(w, r, fault)
		return
	}
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"message":"Authentication required","extensions":{"code":"AUTHENTICATION_ERROR"}}]}`)
		return
	}
	data, errMsg := f.answer(op, req.Variables)
	w.Header().Set("Content-Type", "application/json")
	if errMsg != "" {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": errMsg, "extensions": map[string]any{"code": "INVALID_INPUT"}}}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

func (f *Linear) answer(op string, vars map[string]any) (any, string) {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	input, _ := vars["input"].(map[string]any)
	switch op {
	case "Viewer":
		return map[string]any{"viewer": map[string]any{"id": "user-1", "name": "CI Bot"}}, ""
	case "OpenIssuesByFingerprint":
		nodes := []any{}
		for _, i := range f.issues {
			if i.Team == str(vars, "team") && strings.Contains(i.Description, str(vars, "marker")) && i.StateType != "completed" && i.StateType != "canceled" {
				nodes = append(nodes, i.node())
			}
		}
		return map[string]any{"issues": map[string]any{"nodes": nodes}}, ""
	case "IssueCreate":
		prio, _ := input["priority"].(float64)
		n := len(f.issues) + 1
		i := &LinearIssue{ID: fmt.Sprintf("issue-%d", n), Identifier: fmt.Sprintf("ENG-%d", n), Team: str(input, "teamId"),
			Title: str(input, "title"), Description: str(input, "description"), StateType: "triage", Priority: int(prio)}
		if i.Team != Team {
			return nil, "Team not found"
		}
		f.issues = append(f.issues, i)
		return map[string]any{"issueCreate": map[string]any{"success": true, "issue": i.node()}}, ""
	case "CommentCreate":
		if f.issue(str(input, "issueId")) == nil {
			return nil, "Entity not found: Issue"
		}
		f.comments = append(f.comments, LinearComment{IssueID: str(input, "issueId"), Body: str(input, "body")})
		return map[string]any{"commentCreate": map[string]any{"success": true,
			"comment": map[string]any{"id": fmt.Sprintf("comment-%d", len(f.comments)), "url": "https://linear.test/comment"}}}, ""
	case "CompletedStates":
		nodes := []any{}
		if str(vars, "team") == Team {
			nodes = append(nodes, map[string]any{"id": "state-done", "name": "Done", "position": 3})
		}
		return map[string]any{"workflowStates": map[string]any{"nodes": nodes}}, ""
	case "IssueClose":
		i := f.issue(str(vars, "id"))
		if i == nil || str(vars, "stateId") != "state-done" {
			return nil, "Entity not found"
		}
		i.StateType = "completed"
		return map[string]any{"issueUpdate": map[string]any{"success": true, "issue": i.node()}}, ""
	}
	return nil, "unknown operation " + op
}

func (f *Linear) issue(id string) *LinearIssue {
	for _, i := range f.issues {
		if i.ID == id {
			return i
		}
	}
	return nil
}

func (i *LinearIssue) node() map[string]any {
	return map[string]any{"id": i.ID, "identifier": i.Identifier, "url": "https://linear.test/issue/" + i.Identifier,
		"title": i.Title, "description": i.Description, "state": map[string]any{"type": i.StateType}}
}
