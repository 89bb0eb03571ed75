package commands

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/workflows/failureanalysis"
)

// analysisJobs lists the failure_analysis jobs carrying the pull request's tag.
func (h *harness) analysisJobs(t *testing.T) []*rivertype.JobRow {
	t.Helper()
	res, err := h.engine.Client().JobList(context.Background(),
		river.NewJobListParams().Kinds("failure_analysis").TagsAny(PRTag(42, 7)))
	require.NoError(t, err)
	return res.Jobs
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		fork      bool
		author    string
		wantRun   int64
		noFix     bool
		startup   bool
		reactions []string
		contains  string
	}{
		{name: "fork by a writer: no agent", body: "/ci analyze", fork: true, wantRun: 102, noFix: true, reactions: []string{"eyes", "rocket"}, contains: "queued as execution"},
		{name: "fork by a maintainer", body: "/ci analyze", fork: true, author: "mia", wantRun: 102, reactions: []string{"eyes", "rocket"}, contains: "queued as execution"},
		{name: "latest failed run", body: "/ci analyze", wantRun: 102, reactions: []string{"eyes", "rocket"}, contains: "queued as execution"},
		{name: "run of this pull request by head", body: "/ci analyze 101", wantRun: 101, reactions: []string{"eyes", "rocket"}, contains: "Failure analysis of [CI &lt;1&gt; #1]"},
		{name: "run listing this pull request", body: "/ci analyze 401", wantRun: 401, reactions: []string{"eyes", "rocket"}, contains: "queued"},
		{name: "startup failure is a failure", body: "/ci analyze", wantRun: 599, startup: true, reactions: []string{"eyes", "rocket"}, contains: "queued as execution"},
		{name: "run of another pull request", body: "/ci analyze 301", reactions: []string{"eyes", "confused"}, contains: "does not belong to this pull request"},
		{name: "unknown run", body: "/ci analyze 123", reactions: []string{"eyes", "confused"}, contains: "Workflow run 123 was not found in this repository"},
		{name: "not a run id", body: "/ci analyze `rm`", reactions: []string{"eyes", "confused"}, contains: "is not a workflow run id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := newFakeGitHub(t, tt.body)
			gh.fork = tt.fork
			gh.roles["mia"] = "maintain"
			if tt.author != "" {
				gh.author = tt.author
			}
			gh.addRun(101, 1, "abc1234def")
			gh.addRun(102, 2, "abc1234def")
			gh.addRun(301, 3, "0ther", 8)
			gh.addRun(401, 4, "older", 7)
			if tt.startup {
				gh.addRunWith(599, 5, "abc1234def", "pull_request", "startup_failure") // the newest
			}
			h := newHarness(t, gh, defaultConfigs())
			require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
			require.Equal(t, tt.reactions, gh.reactions())
			require.Len(t, gh.replies(), 1)
			require.Contains(t, gh.replies()[0], tt.contains)
			jobs := h.analysisJobs(t)
			if tt.wantRun == 0 {
				require.Empty(t, jobs)
				return
			}
			require.Len(t, jobs, 1)
			var args failureanalysis.Args
			require.NoError(t, json.Unmarshal(jobs[0].EncodedArgs, &args))
			want := failureanalysis.Args{Owner: "acme", Repo: "widgets", InstallationID: 5, RunID: tt.wantRun, RunAttempt: 1, Trigger: "comment:9001"}
			if tt.noFix {
				noFix := false
				want.AutoFixEnabled = &noFix
			}
			require.Equal(t, want, args)
			require.Equal(t, []string{"pr-42-7"}, jobs[0].Tags)
		})
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	cfg := config.DefaultRepoConfig()
	cfg.Commands.RateLimit = config.CommandRateLimit{PerPRPerHour: 1, PerRepoPerHour: 5}
	gh := newFakeGitHub(t, "/ci retry\n/ci status\n/ci cancel")
	gh.addRun(101, 1, "abc1234def")
	h := newHarness(t, gh, fakeConfigs{cfg: cfg})

	require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
	require.Len(t, gh.calls("rerun-failed-jobs"), 1)
	require.Equal(t, []string{"eyes", "confused"}, gh.reactions())
	reply := gh.replies()[0]
	require.Contains(t, reply, "Re-ran 1 of 1")
	require.Contains(t, reply, "Rate limit reached for acting commands (at most 1 per pull request and 5 per repository per hour)")
	require.Contains(t, reply, "`/ci cancel` can run again at 2030-01-02 16:00 UTC (in 1h0m0s)")
	require.Less(t, strings.Index(reply, "`/ci retry`"), strings.Index(reply, "`/ci status`"), "commands answer in order")
	require.Less(t, strings.Index(reply, "`/ci status`"), strings.Index(reply, "`/ci cancel`"))
}

// TestRateLimitCountsOnlyWhatActed: commands refused before acting (permission, invalid
// argument) and help or status never use the budget, and the refusal names only real limits.
func TestRateLimitCountsOnlyWhatActed(t *testing.T) {
	t.Parallel()
	cfg := config.DefaultRepoConfig()
	cfg.Commands.RateLimit = config.CommandRateLimit{PerPRPerHour: 0, PerRepoPerHour: 1}
	gh := newFakeGitHub(t, "/ci help\n/ci analyze nope\n/ci analyze 301\n/ci status\n/ci retry\n/ci cancel")
	gh.addRun(101, 1, "abc1234def")
	gh.addRun(301, 3, "0ther", 8)
	h := newHarness(t, gh, fakeConfigs{cfg: cfg})

	require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
	require.Len(t, gh.calls("rerun-failed-jobs"), 1, "retry still had its budget")
	reply := gh.replies()[0]
	require.Contains(t, reply, "Re-ran 1 of 1")
	require.Contains(t, reply, "Rate limit reached for acting commands (at most 1 per repository per hour). `/ci cancel` can run again")
	require.NotContains(t, reply, "at most 0")
}

func TestStatusAndCancel(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci status\n/ci cancel")
	h := newHarness(t, gh, defaultConfigs())
	ctx := context.Background()
	queued, err := h.engine.Enqueue(ctx, failureanalysis.Args{Owner: "acme", Repo: "widgets", RunID: 555, RunAttempt: 1, Trigger: "webhook"},
		&river.InsertOpts{Tags: []string{PRTag(42, 7)}, ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	other, err := h.engine.Enqueue(ctx, failureanalysis.Args{Owner: "acme", Repo: "widgets", RunID: 556, RunAttempt: 1, Trigger: "webhook"},
		&river.InsertOpts{Tags: []string{PRTag(42, 8)}, ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	// Another comment's command on the same pull request, not yet run.
	otherCommand := testArgs
	otherCommand.CommentID = 9002
	command, err := h.engine.Enqueue(ctx, otherCommand, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	row := h.run(t)
	require.Equal(t, rivertype.JobStateCompleted, row.State)
	reply := gh.replies()[0]
	require.Contains(t, reply, "| Execution | Kind | State | Created | Details |")
	require.Contains(t, reply, "`failure_analysis` | scheduled")
	require.Contains(t, reply, "run 555, `webhook`")
	require.NotContains(t, reply, "run 556")
	require.Contains(t, reply, "this command")
	require.Contains(t, reply, "Cancelled 1 executions")

	got, err := h.engine.Client().JobGet(ctx, queued.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCancelled, got.State)
	got, err = h.engine.Client().JobGet(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateScheduled, got.State)
	got, err = h.engine.Client().JobGet(ctx, command.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateScheduled, got.State, "other comments' commands are not cancelled")
	require.Equal(t, []string{"eyes", "rocket"}, gh.reactions())
}

func TestGitHubErrors(t *testing.T) {
	t.Parallel()
	forbidden := override{Status: 403, Body: `{"message":"Resource not accessible by integration"}`}
	tests := []struct {
		name      string
		setup     func(gh *fakeGitHub)
		state     rivertype.JobState
		reactions []string
		reply     string
	}{
		{name: "comment deleted", setup: func(gh *fakeGitHub) { gh.commentGone = true }, state: rivertype.JobStateCompleted},
		{name: "rate limited with Retry-After", setup: func(gh *fakeGitHub) {
			gh.setOverride("GET", "/repos/acme/widgets/issues/comments/9001", override{Status: 429, Headers: map[string]string{"Retry-After": "120"}, Body: `{"message":"slow down"}`})
		}, state: rivertype.JobStateScheduled},
		{name: "forbidden comment retries", setup: func(gh *fakeGitHub) {
			gh.setOverride("GET", "/repos/acme/widgets/issues/comments/9001", forbidden)
		}, state: rivertype.JobStateRetryable},
		{name: "forbidden re-run is reported", setup: func(gh *fakeGitHub) {
			gh.setOverride("POST", "/repos/acme/widgets/actions/runs/101/rerun-failed-jobs", forbidden)
		}, state: rivertype.JobStateCompleted, reactions: []string{"eyes", "confused"}, reply: "GitHub refused the request: `403 Resource not accessible by integration`"},
		{name: "pull request gone", setup: func(gh *fakeGitHub) {
			gh.setOverride("GET", "/repos/acme/widgets/pulls/7", override{Status: 404, Body: `{"message":"Not Found"}`})
		}, state: rivertype.JobStateCompleted, reactions: []string{"eyes", "confused"}, reply: "`404 Not Found`"},
		{name: "reply rate limited", setup: func(gh *fakeGitHub) {
			gh.setOverride("POST", "/repos/acme/widgets/issues/7/comments", override{Status: 403,
				Headers: map[string]string{"Retry-After": "30"},
				Body:    `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})
		}, state: rivertype.JobStateScheduled, reactions: []string{"eyes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := newFakeGitHub(t, "/ci retry")
			gh.addRun(101, 1, "abc1234def")
			tt.setup(gh)
			h := newHarness(t, gh, defaultConfigs())
			row := h.run(t)
			require.Equal(t, tt.state, row.State)
			require.Equal(t, tt.reactions, gh.reactions())
			if tt.state == rivertype.JobStateScheduled {
				require.WithinDuration(t, time.Now().Add(2*time.Minute), row.ScheduledAt, 100*time.Second)
			}
			if tt.reply == "" {
				require.Empty(t, gh.replies())
				return
			}
			require.Len(t, gh.replies(), 1)
			require.Contains(t, gh.replies()[0], tt.reply)
		})
	}
}
