package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/commands"
)

// recordingEnqueuer is a fake Enqueuer that records what it is given.
type recordingEnqueuer struct {
	mu   sync.Mutex
	jobs []river.JobArgs
	err  error
}

func (r *recordingEnqueuer) Enqueue(_ context.Context, args river.JobArgs, _ *river.InsertOpts) (workflows.Inserted, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return workflows.Inserted{}, r.err
	}
	r.jobs = append(r.jobs, args)
	return workflows.Inserted{ID: int64(len(r.jobs))}, nil
}

// commentPayload builds an issue_comment payload in GitHub's shape.
func commentPayload(t *testing.T, mutate func(map[string]any)) []byte {
	t.Helper()
	p := map[string]any{
		"action": "created",
		"issue": map[string]any{
			"number": 7, "title": "Fix things",
			"pull_request": map[string]any{"url": "https://api.github.com/repos/acme/widgets/pulls/7"},
		},
		"comment": map[string]any{
			"id": 9001, "body": "Thanks!\n/ci retry",
			"user":     map[string]any{"login": "alice", "type": "User"},
			"html_url": "https://github.com/acme/widgets/pull/7#issuecomment-9001",
		},
		"repository":   map[string]any{"id": 42, "name": "widgets", "full_name": "acme/widgets", "owner": map[string]any{"login": "acme"}},
		"installation": map[string]any{"id": 5},
		"sender":       map[string]any{"login": "alice", "type": "User"},
	}
	if mutate != nil {
		mutate(p)
	}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return b
}

func comment(p map[string]any) map[string]any { return p["comment"].(map[string]any) }

func TestIssueCommentHandlerIgnores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(map[string]any)
	}{
		{"edited", func(p map[string]any) { p["action"] = "edited" }},
		{"deleted", func(p map[string]any) { p["action"] = "deleted" }},
		{"not a pull request", func(p map[string]any) { delete(p["issue"].(map[string]any), "pull_request") }},
		{"bot type", func(p map[string]any) { comment(p)["user"] = map[string]any{"login": "ci-helper", "type": "Bot"} }},
		{"bot login", func(p map[string]any) { comment(p)["user"] = map[string]any{"login": "renovate[bot]", "type": "User"} }},
		{"the app itself", func(p map[string]any) {
			comment(p)["user"] = map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}
			comment(p)["body"] = "<!-- autonomous-ci:reply:1 -->\n/ci retry"
		}},
		{"command not at line start", func(p map[string]any) { comment(p)["body"] = "could you /ci retry please" }},
		{"command in code block", func(p map[string]any) { comment(p)["body"] = "```\n/ci retry\n```" }},
		{"command quoted", func(p map[string]any) { comment(p)["body"] = "> /ci retry\nsure" }},
		{"no body", func(p map[string]any) { delete(comment(p), "body") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jobs := &recordingEnqueuer{}
			h := &IssueCommentHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci"}
			require.NoError(t, h.Handle(context.Background(), "issue_comment", "d1", commentPayload(t, tt.mutate)))
			require.Empty(t, jobs.jobs)
		})
	}
}

func TestIssueCommentHandlerEnqueues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{"prefix", "Thanks!\n/ci retry"},
		{"mention", "@autonomous-ci help"},
		{"any slash line for a custom prefix", "/bot retry"},
		{"several commands, one job", "/ci retry\n/ci status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jobs := &recordingEnqueuer{}
			h := &IssueCommentHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci"}
			payload := commentPayload(t, func(p map[string]any) { comment(p)["body"] = tt.body })
			require.NoError(t, h.Handle(context.Background(), "issue_comment", "d1", payload))
			require.Equal(t, []river.JobArgs{commands.Args{
				Owner: "acme", Repo: "widgets", InstallationID: 5, RepoID: 42,
				Number: 7, CommentID: 9001, Author: "alice", BodyHash: commands.BodyHash(tt.body),
			}}, jobs.jobs)
		})
	}
}

func TestIssueCommentHandlerErrors(t *testing.T) {
	t.Parallel()
	h := &IssueCommentHandler{Base: Base{Jobs: &recordingEnqueuer{}}, AppSlug: "autonomous-ci"}
	require.Equal(t, []string{"issue_comment"}, h.Handles())

	for _, payload := range [][]byte{[]byte(`{"action":`), []byte(`[1,2]`), []byte(`{"action":"created"}`)} {
		err := h.Handle(context.Background(), "issue_comment", "d1", payload)
		require.Error(t, err)
		require.True(t, IsMalformed(err), string(payload))
	}

	failing := &IssueCommentHandler{Base: Base{Jobs: &recordingEnqueuer{err: errors.New("disk full")}}, AppSlug: "autonomous-ci"}
	err := failing.Handle(context.Background(), "issue_comment", "d1", commentPayload(t, nil))
	require.True(t, IsEnqueue(err))
}

func TestSlashCommandArgsInsertOpts(t *testing.T) {
	t.Parallel()
	opts := commands.Args{RepoID: 42, Number: 7, CommentID: 9001}.InsertOpts()
	require.Equal(t, []string{"pr-42-7"}, opts.Tags)
	require.True(t, opts.UniqueOpts.ByArgs)
	require.Equal(t, "slash_command", commands.Args{}.Kind())
}
