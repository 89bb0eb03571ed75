package commands

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/workflows/failureanalysis"
)

// finish runs job id to completion: a job that failed is retried at once (the harness's retry
// delay is an hour), a snoozed one waits for its time.
func (h *harness) finish(t *testing.T, id int64) *rivertype.JobRow {
	t.Helper()
	var row *rivertype.JobRow
	require.Eventually(t, func() bool {
		var err error
		row, err = h.engine.Client().JobGet(context.Background(), id)
		require.NoError(t, err)
		if row.State == rivertype.JobStateRetryable {
			_, err = h.engine.Client().JobRetry(context.Background(), id)
			require.NoError(t, err)
		}
		return row.State == rivertype.JobStateCompleted || row.State == rivertype.JobStateDiscarded || row.State == rivertype.JobStateCancelled
	}, 20*time.Second, 20*time.Millisecond)
	return row
}

func TestReplyIsNotRepeatedWhenTheFinalReactionFails(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci help")
	gh.cached = true // the server's clients cache GitHub's answers for their max-age
	gh.setOverride("POST", "/repos/acme/widgets/issues/comments/9001/reactions",
		override{Status: 502, Body: `{"message":"Bad Gateway"}`, Times: 1, Content: "rocket"})
	h := newHarness(t, gh, defaultConfigs())

	ins, err := h.engine.Enqueue(context.Background(), testArgs, nil)
	require.NoError(t, err)
	row := h.finish(t, ins.ID)
	require.Equal(t, rivertype.JobStateCompleted, row.State)
	require.Equal(t, 2, row.Attempt, "the failed reaction made the job retry")
	require.Len(t, gh.replies(), 1, "the retry finds its own first reply")
	require.Len(t, gh.calls("POST /repos/acme/widgets/issues/7/comments"), 1)
	require.Equal(t, []string{"eyes", "rocket", "eyes", "rocket"}, gh.reactions())
}

func TestReplyIsNotRepeatedAfterASlowCreate(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci help")
	gh.clientTimeout = 300 * time.Millisecond
	// GitHub creates the reply 1.5 s after it was asked: after the client gave up.
	gh.srv.Fail(ghapptest.Fault{Method: "POST", Path: "/repos/acme/widgets/issues/7/comments", Delay: 1500 * time.Millisecond, Times: 1})
	h := newHarness(t, gh, defaultConfigs(), func(d *Deps) { d.CreateSettle = 2500 * time.Millisecond })

	ins, err := h.engine.Enqueue(context.Background(), testArgs, nil)
	require.NoError(t, err)
	row := h.finish(t, ins.ID)
	require.Equal(t, rivertype.JobStateCompleted, row.State)
	time.Sleep(1600 * time.Millisecond) // any create still in flight lands
	require.Len(t, gh.replies(), 1)
}

func TestStatusListsTheWebhookAnalysesOfThePullRequest(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci status")
	gh.addRun(102, 2, "abc1234def") // on the head commit; a fork's run lists no pull request
	gh.addRun(301, 3, "0ther", 8)
	h := newHarness(t, gh, defaultConfigs())
	ctx := context.Background()
	later := &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}
	// The webhook's analyses, enqueued without the pull request's tag.
	_, err := h.engine.Enqueue(ctx, failureanalysis.Args{Owner: "acme", Repo: "widgets", RunID: 102, RunAttempt: 1, Trigger: "webhook"}, later)
	require.NoError(t, err)
	_, err = h.engine.Enqueue(ctx, failureanalysis.Args{Owner: "acme", Repo: "widgets", RunID: 301, RunAttempt: 1, Trigger: "webhook"}, later)
	require.NoError(t, err)
	_, err = h.engine.Enqueue(ctx, failureanalysis.Args{Owner: "other", Repo: "widgets", RunID: 102, RunAttempt: 1, Trigger: "webhook"}, later)
	require.NoError(t, err)

	require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
	reply := gh.replies()[0]
	require.Contains(t, reply, "run 102, `webhook`")
	require.NotContains(t, reply, "run 301")
	require.Contains(t, reply, "The latest 2 executions", "the analysis and this command; not another repository's run")
}
