package handlers

import (
	"context"
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

// commentPayload is testdata/issue_comment.created.json (a user's command on a pull request) with edits.
func commentPayload(t *testing.T, edits ...edit) []byte {
	t.Helper()
	return payload(t, "issue_comment.created.json", edits...)
}

func TestIssueCommentHandlerIgnores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []edit
	}{
		{"edited", []edit{set("action", "edited")}},
		{"deleted", []edit{set("action", "deleted")}},
		{"not a pull request", []edit{del("issue.pull_request")}},
		{"bot type", []edit{set("comment.user.login", "ci-helper"), set("comment.user.type", "Bot")}},
		{"bot login", []edit{set("comment.user.login", "renovate[bot]"), set("comment.user.type", "User")}},
		{"the app itself", []edit{
			set("comment.user.login", "autonomous-ci[bot]"), set("comment.user.type", "Bot"),
			set("comment.body", "<!-- autonomous-ci:reply:1 -->\n/ci retry"),
		}},
		{"command not at line start", []edit{set("comment.body", "could you /ci retry please")}},
		{"command in code block", []edit{set("comment.body", "```\n/ci retry\n```")}},
		{"command quoted", []edit{set("comment.body", "> /ci retry\nsure")}},
		{"no body", []edit{del("comment.body")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jobs := &recordingEnqueuer{}
			h := &IssueCommentHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci"}
			require.NoError(t, h.Handle(context.Background(), "issue_comment", "d1", commentPayload(t, tt.edits...)))
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
			payload := commentPayload(t, set("comment.body", tt.body))
			require.NoError(t, h.Handle(context.Background(), "issue_comment", "d1", payload))
			require.Equal(t, []river.JobArgs{commands.Args{
				Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213, RepoID: 1296269,
				Number: 42, CommentID: 910001, Author: "alice", BodyHash: commands.BodyHash(tt.body),
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
	err := failing.Handle(context.Background(), "issue_comment", "d1", commentPayload(t))
	require.True(t, IsEnqueue(err))
}

func TestSlashCommandArgsInsertOpts(t *testing.T) {
	t.Parallel()
	opts := commands.Args{RepoID: 42, Number: 7, CommentID: 9001}.InsertOpts()
	require.Equal(t, []string{"pr-42-7"}, opts.Tags)
	require.True(t, opts.UniqueOpts.ByArgs)
	require.Equal(t, "slash_command", commands.Args{}.Kind())
}
