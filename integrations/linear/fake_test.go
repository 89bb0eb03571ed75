package linear_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeLinear is a Linear GraphQL API on loopback: it keeps issues, comments
// and workflow states in memory, applies the filters the client sends, and
// records every request. fail, when set, answers instead of it.
type fakeLinear struct {
	*httptest.Server
	mu       sync.Mutex
	calls    []call
	issues   []*fakeIssue
	comments []fakeComment
	states   []fakeState
	fail     func(w http.ResponseWriter, op string) bool
}

type call struct {
	Op            string
	Authorization string
	Query         string
	Variables     map[string]any
}

type fakeIssue struct {
	ID, Identifier, Team, Title, Description, StateType string
	Priority                                            float64
}

type fakeComment struct{ IssueID, Body string }

type fakeState struct {
	ID, Team, Type string
	Position       float64
}

var opName = regexp.MustCompile(`^\s*(?:query|mutation)\s+(\w+)`)

func newFakeLinear(t *testing.T) *fakeLinear {
	t.Helper()
	f := &fakeLinear{states: []fakeState{
		{ID: "state-started", Team: "team-1", Type: "started", Position: 1},
		{ID: "state-done-late", Team: "team-1", Type: "completed", Position: 9},
		{ID: "state-done", Team: "team-1", Type: "completed", Position: 3},
		{ID: "state-other-team-done", Team: "team-2", Type: "completed", Position: 0},
	}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeLinear) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	op := ""
	if m := opName.FindStringSubmatch(req.Query); m != nil {
		op = m[1]
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{Op: op, Authorization: r.Header.Get("Authorization"), Query: req.Query, Variables: req.Variables})
	if f.fail != nil && f.fail(w, op) {
		return
	}
	data, errMsg := f.answer(op, req.Variables)
	w.Header().Set("Content-Type", "application/json")
	if errMsg != "" {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": errMsg, "extensions": map[string]any{"code": "INVALID_INPUT", "type": "invalid input"}}}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

func (f *fakeLinear) answer(op string, vars map[string]any) (any, string) {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	switch op {
	case "Viewer":
		return map[string]any{"viewer": map[string]any{"id": "user-1", "name": "CI Bot"}}, ""
	case "OpenIssuesByFingerprint":
		nodes := []any{}
		for _, i := range f.issues {
			if i.Team == str(vars, "team") && strings.Contains(i.Description, str(vars, "marker")) && !slices.Contains([]string{"completed", "canceled"}, i.StateType) {
				nodes = append(nodes, i.node())
			}
		}
		return map[string]any{"issues": map[string]any{"nodes": nodes}}, ""
	case "IssueCreate":
		in, _ := vars["input"].(map[string]any)
		n := len(f.issues) + 1
		prio, _ := in["priority"].(float64)
		i := &fakeIssue{ID: fmt.Sprintf("issue-%d", n), Identifier: fmt.Sprintf("ENG-%d", n), Team: str(in, "teamId"), Title: str(in, "title"), Description: str(in, "description"), StateType: "triage", Priority: prio}
		f.issues = append(f.issues, i)
		return map[string]any{"issueCreate": map[string]any{"success": true, "issue": i.node()}}, ""
	case "CommentCreate":
		in, _ := vars["input"].(map[string]any)
		if f.issue(str(in, "issueId")) == nil {
			return nil, "Entity not found: Issue"
		}
		f.comments = append(f.comments, fakeComment{IssueID: str(in, "issueId"), Body: str(in, "body")})
		return map[string]any{"commentCreate": map[string]any{"success": true, "comment": map[string]any{"id": fmt.Sprintf("comment-%d", len(f.comments)), "url": "https://linear.test/c"}}}, ""
	case "CompletedStates":
		nodes := []any{}
		for _, s := range f.states {
			if s.Team == str(vars, "team") && s.Type == "completed" {
				nodes = append(nodes, map[string]any{"id": s.ID, "name": s.ID, "position": s.Position})
			}
		}
		return map[string]any{"workflowStates": map[string]any{"nodes": nodes}}, ""
	case "IssueClose":
		i := f.issue(str(vars, "id"))
		if i == nil {
			return nil, "Entity not found: Issue"
		}
		for _, s := range f.states {
			if s.ID == str(vars, "stateId") && s.Team == i.Team {
				i.StateType = s.Type
				return map[string]any{"issueUpdate": map[string]any{"success": true, "issue": i.node()}}, ""
			}
		}
		return nil, "Workflow state not found for the issue's team"
	}
	return nil, "unknown operation " + op
}

func (f *fakeLinear) issue(id string) *fakeIssue {
	for _, i := range f.issues {
		if i.ID == id {
			return i
		}
	}
	return nil
}

func (i *fakeIssue) node() map[string]any {
	return map[string]any{"id": i.ID, "identifier": i.Identifier, "url": "https://linear.test/issue/" + i.Identifier, "title": i.Title, "description": i.Description, "state": map[string]any{"type": i.StateType}}
}

func (f *fakeLinear) ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ops []string
	for _, c := range f.calls {
		ops = append(ops, c.Op)
	}
	return ops
}

func (f *fakeLinear) lastCall(t *testing.T) call {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.calls)
	return f.calls[len(f.calls)-1]
}

func (f *fakeLinear) snapshot() ([]fakeIssue, []fakeComment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var issues []fakeIssue
	for _, i := range f.issues {
		issues = append(issues, *i)
	}
	return issues, append([]fakeComment(nil), f.comments...)
}
