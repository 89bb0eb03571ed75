package handlers

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/securityaudit"
)

// push is testdata/push.json (a push to the default branch that adds a workflow) with edits.
func push(t *testing.T, edits ...edit) []byte {
	t.Helper()
	return payload(t, "push.json", edits...)
}

func TestPushToTheDefaultBranchTouchingWorkflowsStartsAnAudit(t *testing.T) {
	t.Parallel()
	for name, edits := range map[string][]edit{
		"adds a workflow":          nil,
		"changes a manifest":       {set("commits.0.added", json.RawMessage(`[]`)), set("commits.0.modified", json.RawMessage(`["services/api/go.mod"]`))},
		"removes a workflow":       {set("commits.0.added", json.RawMessage(`[]`)), set("commits.0.removed", json.RawMessage(`[".github/workflows/old.yaml"]`))},
		"too many commits to know": {set("commits", json.RawMessage(`[{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}]`))},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &PushHandler{Base: Base{Jobs: jobs}}
			require.Equal(t, []string{"push"}, h.Handles())
			require.NoError(t, h.Handle(context.Background(), "push", "d1", push(t, edits...)))
			require.Len(t, jobs.Kind("security_audit"), 1)
			require.Equal(t, securityaudit.Args{Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213,
				SHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e", Trigger: "push"}, jobs.Kind("security_audit")[0].Args)
		})
	}
}

func TestPushIgnored(t *testing.T) {
	t.Parallel()
	for name, edits := range map[string][]edit{
		"another branch":       {set("ref", "refs/heads/feature")},
		"a tag":                {set("ref", "refs/tags/v1.0.0")},
		"no workflow touched":  {set("commits.0.added", json.RawMessage(`["docs/intro.md"]`))},
		"a workflow elsewhere": {set("commits.0.added", json.RawMessage(`["docs/.github/workflows.md"]`))},
		"branch deleted":       {set("deleted", true), set("after", "0000000000000000000000000000000000000000")},
		"no commits listed":    {set("commits", json.RawMessage(`[]`)), set("ref", "refs/heads/feature")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &PushHandler{Base: Base{Jobs: jobs}}
			require.NoError(t, h.Handle(context.Background(), "push", "d1", push(t, edits...)))
			require.Empty(t, jobs.Kind("security_audit"))
		})
	}
}

func TestPushMalformed(t *testing.T) {
	t.Parallel()
	jobs := &optsEnqueuer{}
	h := &PushHandler{Base: Base{Jobs: jobs}}
	for name, body := range map[string][]byte{
		"not JSON":           []byte("push"),
		"no ref":             push(t, del("ref")),
		"no repository":      push(t, del("repository")),
		"bad owner":          push(t, set("repository.owner.login", "../x")),
		"commits not a list": push(t, set("commits", "x")),
	} {
		err := h.Handle(context.Background(), "push", "d1", body)
		require.True(t, IsMalformed(err), "%s: %v", name, err)
	}
	require.Empty(t, jobs.Kind("security_audit"))
}

func TestPullRequestStartsAnAuditOfItsHead(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"opened", "synchronize", "reopened"} {
		jobs := &optsEnqueuer{}
		h := &PullRequestHandler{Base: Base{Jobs: jobs}}
		require.Equal(t, []string{"pull_request"}, h.Handles())
		require.NoError(t, h.Handle(context.Background(), "pull_request", "d1", payload(t, "pull_request.opened.json", set("action", action))))
		require.Len(t, jobs.Kind("security_audit"), 1, action)
		require.Equal(t, securityaudit.Args{Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213,
			SHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e", PullRequest: 7, Trigger: "pull_request", CheckChanges: true}, jobs.Kind("security_audit")[0].Args)
		require.Equal(t, []string{"pr-1296269-7"}, jobs.Kind("security_audit")[0].Opts.Tags)
	}
	for _, action := range []string{"closed", "edited", "labeled"} {
		jobs := &optsEnqueuer{}
		h := &PullRequestHandler{Base: Base{Jobs: jobs}}
		require.NoError(t, h.Handle(context.Background(), "pull_request", "d1", payload(t, "pull_request.opened.json", set("action", action))))
		require.Empty(t, jobs.Kind("security_audit"), action)
	}
	h := &PullRequestHandler{Base: Base{Jobs: &optsEnqueuer{}}}
	require.True(t, IsMalformed(h.Handle(context.Background(), "pull_request", "d1", payload(t, "pull_request.opened.json", del("pull_request.head.sha")))))
	require.True(t, IsMalformed(h.Handle(context.Background(), "pull_request", "d1", payload(t, "pull_request.opened.json", del("pull_request")))))
}
