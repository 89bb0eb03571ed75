package linear_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/integrations/linear"
)

func TestEnsureIssueCreatesThenComments(t *testing.T) {
	t.Parallel()
	f := newFakeLinear(t)
	c := newClient(t, f, apiKey)
	ctx := context.Background()
	in := linear.IssueInput{Title: "Escalation: health_check failing", Description: "Three consecutive failures.\n\n[Run](https://github.com/o/r/actions/runs/1)", Priority: linear.PriorityFromSeverity("critical")}

	first, created, err := c.EnsureIssue(ctx, "team-1", "health_check:database", in, "Failed again.")
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, linear.Issue{ID: "issue-1", Identifier: "ENG-1", URL: "https://linear.test/issue/ENG-1", Title: in.Title, StateType: "triage"}, first)

	second, created, err := c.EnsureIssue(ctx, "team-1", "health_check:database", in, "Failed again.")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first.ID, second.ID)

	issues, comments := f.snapshot()
	require.Len(t, issues, 1, "no duplicate")
	require.Equal(t, "team-1", issues[0].Team)
	require.Equal(t, float64(1), issues[0].Priority)
	require.True(t, strings.HasPrefix(issues[0].Description, in.Description))
	require.Contains(t, issues[0].Description, "Fingerprint: `health_check:database`")
	require.Contains(t, issues[0].Description, linear.FingerprintMarker("health_check:database"))
	require.Equal(t, []fakeComment{{IssueID: "issue-1", Body: "Failed again."}}, comments)
	require.Equal(t, []string{"OpenIssuesByFingerprint", "IssueCreate", "OpenIssuesByFingerprint", "CommentCreate"}, f.ops())

	// The lookup sends the documented filter.
	f.mu.Lock()
	find := f.calls[0]
	f.mu.Unlock()
	require.Contains(t, find.Query, `filter: {team: {id: {eq: $team}}, description: {contains: $marker}, state: {type: {nin: ["completed", "canceled"]}}}`)
	require.Equal(t, map[string]any{"team": "team-1", "marker": linear.FingerprintMarker("health_check:database")}, find.Variables)

	// No comment text: found, nothing written.
	_, created, err = c.EnsureIssue(ctx, "team-1", "health_check:database", in, "")
	require.NoError(t, err)
	require.False(t, created)
	_, comments = f.snapshot()
	require.Len(t, comments, 1)
}

func TestEnsureIssueKeepsFingerprintsAndTeamsApart(t *testing.T) {
	t.Parallel()
	f := newFakeLinear(t)
	c := newClient(t, f, apiKey)
	ctx := context.Background()
	in := linear.IssueInput{Title: "t"}
	for _, step := range []struct {
		team, fp string
		created  bool
	}{
		{"team-1", "fp", true},
		{"team-1", "fp-longer", true}, // "fp" is a prefix of it: still distinct.
		{"team-2", "fp", true},        // same fingerprint, other team.
		{"team-1", "fp", false},
		{"team-1", "fp-longer", false},
	} {
		_, created, err := c.EnsureIssue(ctx, step.team, step.fp, in, "again")
		require.NoError(t, err)
		require.Equal(t, step.created, created, "%s %s", step.team, step.fp)
	}
	issues, _ := f.snapshot()
	require.Len(t, issues, 3)
}

func TestCloseIssueThenEnsureCreatesAnew(t *testing.T) {
	t.Parallel()
	f := newFakeLinear(t)
	c := newClient(t, f, apiKey)
	ctx := context.Background()
	issue, created, err := c.EnsureIssue(ctx, "team-1", "flaky:TestX", linear.IssueInput{Title: "Flaky TestX"}, "again")
	require.NoError(t, err)
	require.True(t, created)

	closed, err := c.CloseIssue(ctx, "team-1", issue.ID)
	require.NoError(t, err)
	require.Equal(t, "completed", closed.StateType)
	require.Equal(t, map[string]any{"id": issue.ID, "stateId": "state-done"}, f.lastCall(t).Variables, "the team's lowest completed state")

	_, found, err := c.FindOpenIssueByFingerprint(ctx, "team-1", "flaky:TestX")
	require.NoError(t, err)
	require.False(t, found, "a closed issue is not open")

	again, created, err := c.EnsureIssue(ctx, "team-1", "flaky:TestX", linear.IssueInput{Title: "Flaky TestX"}, "again")
	require.NoError(t, err)
	require.True(t, created)
	require.NotEqual(t, issue.ID, again.ID)

	_, err = c.CloseIssue(ctx, "team-3", again.ID)
	require.ErrorIs(t, err, linear.ErrNoCompletedState)
}

func TestEnsureIssueStopsOnLookupError(t *testing.T) {
	t.Parallel()
	f := newFakeLinear(t)
	f.fail = func(w http.ResponseWriter, op string) bool {
		if op != "OpenIssuesByFingerprint" {
			return false
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"errors":[{"message":"Rate limit exceeded","extensions":{"code":"RATELIMITED"}}]}`)
		return true
	}
	_, _, err := newClient(t, f, apiKey).EnsureIssue(context.Background(), "team-1", "fp", linear.IssueInput{Title: "t"}, "again")
	require.True(t, linear.IsRateLimited(err))
	require.Equal(t, []string{"OpenIssuesByFingerprint"}, f.ops(), "never creates blind")
}

func TestUnsuccessfulMutation(t *testing.T) {
	t.Parallel()
	f := newFakeLinear(t)
	f.fail = func(w http.ResponseWriter, op string) bool {
		_, _ = io.WriteString(w, `{"data":{"issueCreate":{"success":false,"issue":null}}}`)
		return true
	}
	_, err := newClient(t, f, apiKey).CreateIssue(context.Background(), linear.IssueInput{TeamID: "team-1", Title: "t"})
	require.ErrorIs(t, err, linear.ErrUnsuccessful)
}

func TestInvalidInputIsRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	f := newFakeLinear(t)
	c := newClient(t, f, apiKey)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"create without team", func() error { _, err := c.CreateIssue(ctx, linear.IssueInput{Title: "t"}); return err }},
		{"create without title", func() error {
			_, err := c.CreateIssue(ctx, linear.IssueInput{TeamID: "team-1", Title: " "})
			return err
		}},
		{"create bad priority", func() error {
			_, err := c.CreateIssue(ctx, linear.IssueInput{TeamID: "team-1", Title: "t", Priority: 7})
			return err
		}},
		{"comment without body", func() error { _, err := c.CreateComment(ctx, "issue-1", ""); return err }},
		{"find without team", func() error { _, _, err := c.FindOpenIssueByFingerprint(ctx, "", "fp"); return err }},
		{"empty fingerprint", func() error {
			_, _, err := c.EnsureIssue(ctx, "team-1", "", linear.IssueInput{Title: "t"}, "")
			return err
		}},
		{"fingerprint with newline", func() error {
			_, _, err := c.EnsureIssue(ctx, "team-1", "a\nb", linear.IssueInput{Title: "t"}, "")
			return err
		}},
		{"close without issue", func() error { _, err := c.CloseIssue(ctx, "team-1", ""); return err }},
	}
	for _, tt := range tests {
		require.ErrorIs(t, tt.call(), linear.ErrInvalidInput, tt.name)
	}
	require.Empty(t, f.ops())
}

func TestPriorityFromSeverity(t *testing.T) {
	t.Parallel()
	for severity, want := range map[string]int{"critical": 1, "CRITICAL": 1, "high": 2, "medium": 3, "low": 4, "info": 0, "": 0, "bogus": 0} {
		require.Equal(t, want, linear.PriorityFromSeverity(severity), severity)
	}
}
