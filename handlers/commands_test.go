package handlers

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"
)

func TestParseCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		prefix string
		want   []Command
	}{
		{"line start only", "run /ci retry", "", nil},
		{"default prefix", "/ci retry", "", []Command{{Name: "retry", Line: 1}}},
		{"code fence", "```\n/ci retry\n```", "", nil},
		{"quote", "> /ci retry", "", nil},
		{"several", "/ci retry\n\n@app status", "", []Command{{Name: "retry", Line: 1}, {Name: "status", Line: 3}}},
		{"slug", "@app analyze 12", "", []Command{{Name: "analyze", Args: []string{"12"}, Line: 1}}},
		{"custom prefix", "/ci retry\n/run retry", "/run", []Command{{Name: "retry", Line: 2}}},
		{"case", "/Ci RETRY", "", []Command{{Name: "retry", Line: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, ParseCommands(tt.body, tt.prefix, "app"))
		})
	}
}

func TestMayHoldCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want bool
	}{
		{"/ci retry", true},
		{"/custom go", true},
		{"@app help", true},
		{"thanks @app", false},
		{"LGTM /ci retry", false},
		{"~~~\n/ci retry\n~~~", false},
		{"!ci help", true},
		{"- list item", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, mayHoldCommand(tt.body, "app"), tt.body)
	}
}

// TestIssueCommentWithCustomPrefixIsEnqueued: "!ci help" (a repository configured with prefix
// "!ci") reaches the worker, which parses it with that prefix.
func TestIssueCommentWithCustomPrefixIsEnqueued(t *testing.T) {
	t.Parallel()
	body, err := sjson.SetBytes(readFixture(t, "issue_comment.created.json"), "comment.body", "!ci help")
	require.NoError(t, err)
	jobs := &optsEnqueuer{}
	require.NoError(t, (&IssueCommentHandler{Base: Base{Jobs: jobs}, AppSlug: "app"}).Handle(context.Background(), "issue_comment", "d", body))
	require.Len(t, jobs.Jobs(), 1)
	require.Equal(t, []Command{{Name: "help", Line: 1}}, ParseCommands("!ci help", "!ci", "app"))
}
