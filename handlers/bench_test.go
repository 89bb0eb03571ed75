package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/workflows"
)

// nopEnqueuer accepts every job and stores nothing, so a benchmark measures the handler alone.
type nopEnqueuer struct{}

func (nopEnqueuer) Enqueue(context.Context, river.JobArgs, *river.InsertOpts) (workflows.Inserted, error) {
	return workflows.Inserted{ID: 1}, nil
}

// Members GitHub puts in every repository and user object of a webhook payload, after the ones
// the fixtures keep; they are most of a real payload's bytes.
var (
	repositoryURLs = []string{"forks", "keys", "collaborators", "teams", "hooks", "issue_events", "events", "assignees",
		"branches", "tags", "blobs", "git_tags", "git_refs", "trees", "statuses", "languages", "stargazers", "contributors",
		"subscribers", "subscription", "commits", "git_commits", "comments", "issue_comment", "contents", "compare",
		"merges", "archive", "downloads", "issues", "pulls", "milestones", "notifications", "labels", "releases", "deployments"}
	userURLs = []string{"avatar", "gravatar", "html", "followers", "following", "gists", "starred", "subscriptions",
		"organizations", "repos", "events", "received_events"}
)

// realWorkflowRun is testdata/workflow_run.completed.json padded to the size of a real delivery
// (about 22 KB, like cmd/autonomous's): the URL members of its repositories and users, a
// multi-paragraph commit message, indented as GitHub's documentation shows it.
func realWorkflowRun(tb testing.TB) []byte {
	tb.Helper()
	body := readFixture(tb, "workflow_run.completed.json")
	var err error
	setRaw := func(path, raw string) {
		if err == nil {
			body, err = sjson.SetRawBytes(body, path, []byte(raw))
		}
	}
	set := func(path string, v any) {
		if err == nil {
			body, err = sjson.SetBytes(body, path, v)
		}
	}
	for _, repo := range []string{"repository", "workflow_run.repository", "workflow_run.head_repository"} {
		for _, name := range repositoryURLs {
			set(repo+"."+name+"_url", "https://api.github.com/repos/octo-org/hello-world/"+name+"{/number}")
		}
		for _, name := range userURLs {
			set(repo+".owner."+name+"_url", "https://api.github.com/users/octo-org/"+name+"{/other_user}")
		}
		set(repo+".description", strings.Repeat("A repository with a description of some length. ", 4))
	}
	for _, user := range []string{"sender", "workflow_run.actor", "workflow_run.triggering_actor"} {
		for _, name := range userURLs {
			set(user+"."+name+"_url", "https://api.github.com/users/octocat/"+name+"{/other_user}")
		}
	}
	set("workflow_run.head_commit.message", strings.Repeat("Fix the greeting: say \"hello\" in every locale\n\n", 12))
	setRaw("workflow_run.referenced_workflows", `[]`)
	require.NoError(tb, err)
	var indented bytes.Buffer
	require.NoError(tb, json.Indent(&indented, body, "", "  "))
	return indented.Bytes()
}

// BenchmarkWorkflowRunHandle measures the workflow_run handler on a real-sized failed run of a
// pull request (three jobs enqueued into a no-op Enqueuer): parsing and reading fields is the
// ack path's share of the handler.
//
//	go test -run '^$' -bench WorkflowRunHandle -benchmem ./handlers
func BenchmarkWorkflowRunHandle(b *testing.B) {
	body := realWorkflowRun(b)
	ctx := context.Background()
	jobs := &optsEnqueuer{}
	require.NoError(b, (&WorkflowRunHandler{Base: Base{Jobs: jobs}}).Handle(ctx, "workflow_run", "d", body))
	require.Len(b, jobs.Jobs(), 3, "failure analysis, performance monitoring and test optimization")
	h := &WorkflowRunHandler{Base: Base{Jobs: nopEnqueuer{}}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := h.Handle(ctx, "workflow_run", "d", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures parse alone (the validity and depth checks) on the same payload.
func BenchmarkParse(b *testing.B) {
	body := realWorkflowRun(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := parse("workflow_run", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandlers measures each handler on its testdata fixture (GitHub's documented shapes,
// smaller than real deliveries), with a no-op Enqueuer or installation store.
func BenchmarkHandlers(b *testing.B) {
	for _, fx := range payloadFixtures {
		b.Run(fx.file, func(b *testing.B) {
			body := readFixture(b, fx.file)
			h := fx.build()
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := h.handler.Handle(ctx, fx.event, "d", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
