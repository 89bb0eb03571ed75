package failureanalysis

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/prreport"
)

// repoConfig is a realistic .github/autonomous.yml.
const repoConfig = `failure_analysis:
  enabled: true
  auto_retry:
    enabled: true
    max_attempts: 1
`

func TestWorkerReportsDistinctFailuresOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.setConfig(repoConfig)
	h.gh.addRun(failedRun())

	out := h.analyze(t, webhookArgs(runID, 1))

	// Two distinct failures: the matrix test failure (both jobs) and the build error.
	require.Len(t, out.Failures, 2)
	require.Equal(t, []string{"test (ubuntu-latest, 1.22)", "test (ubuntu-latest, 1.23)"}, out.Failures[0].Jobs)
	require.Equal(t, "test_failure", out.Failures[0].Classification)
	require.Equal(t, []string{"TestParseWidget"}, out.Failures[0].FailedTests)
	require.Equal(t, []string{"build"}, out.Failures[1].Jobs)
	require.Equal(t, "build_error", out.Failures[1].Classification)
	require.Equal(t, []int{7}, out.PullRequests)
	require.Contains(t, out.Rerun, "no re-run")
	require.Empty(t, h.gh.Reruns())

	comments := h.gh.Comments(7)
	require.Len(t, comments, 1)
	body := comments[0].Body
	require.True(t, strings.HasPrefix(body, prreport.Marker))
	require.Contains(t, body, "Failure 1 of 2")
	require.Contains(t, body, "Failure 2 of 2")
	require.NotContains(t, body, "Failure 3")
	require.Contains(t, body, "**Jobs:** [test (ubuntu-latest, 1.22)](https://github.com/acme/widgets/actions/runs/30433642/job/399444496#step:4:1), [test (ubuntu-latest, 1.23)](")
	require.Contains(t, body, "**Job:** [build](")
	require.Contains(t, body, "sqlx.Connectx")
	require.Equal(t, []int64{comments[0].ID}, out.CommentIDs)

	checks := h.gh.BotCheckRuns()
	require.Len(t, checks, 1)
	check := checks[out.CheckRunID]
	require.NotNil(t, check)
	require.Equal(t, headSHA, check["head_sha"])
	require.Equal(t, "completed", check["status"])
	_, summary, annotations := checkRunOutput(t, check)
	require.Contains(t, summary, "Failure 2 of 2")
	var paths []string
	for _, a := range annotations {
		paths = append(paths, a["path"].(string))
		if a["path"] == "internal/store/store.go" {
			require.EqualValues(t, 42, a["start_line"])
			require.Equal(t, "failure", a["annotation_level"])
			require.Contains(t, a["message"], "undefined: sqlx.Connectx")
		}
	}
	require.Contains(t, paths, "internal/store/store.go")

	// The GitHub API budget of one analysis: config, run, the pull request (its labels: SkipLabel),
	// jobs, the last green run (none here; baseline_test.go counts the calls when there is one),
	// three logs, check run, comment.
	requests := h.gh.Requests()
	t.Logf("GitHub API requests for a run with 3 failed jobs: %d", len(requests))
	for _, r := range requests {
		t.Logf("  %s", r)
	}
	require.LessOrEqual(t, len(requests), 10, "requests: %v", requests)
	require.Len(t, h.gh.BlobRanges(), 3)
}

func TestWorkerRequestBudgetWithoutRepoConfig(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(failedRun())
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Len(t, out.Failures, 2)
	// Without .github/autonomous.yml the organization's .github repository is also looked up.
	requests := h.gh.Requests()
	t.Logf("GitHub API requests without a repository config: %d", len(requests))
	require.LessOrEqual(t, len(requests), 11, "requests: %v", requests)
	require.Len(t, h.gh.requestsTo("GET", "/issues/7/comments"), 0, "a first report needs no comment search")
}

func TestWorkerNeverDuplicatesReports(t *testing.T) {
	t.Parallel()

	t.Run("redelivered webhook is one execution", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addRun(failedRun())
		first := h.enqueue(t, webhookArgs(runID, 1))
		second := h.enqueue(t, webhookArgs(runID, 1))
		require.True(t, second.Duplicate)
		require.Equal(t, first.ID, second.ID)
		require.Equal(t, "completed", h.wait(t, first.ID).State)
		require.Len(t, h.gh.Comments(7), 1)
		require.Len(t, h.gh.BotCheckRuns(), 1)
	})

	t.Run("retried job edits what the failed execution created", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		run := failedRun()
		run.PullNumbers = []int{7, 8}
		h.gh.addRun(run)
		// The comment on #8 fails once: River retries the job, after #7's comment and the
		// check run were created.
		h.gh.fail("POST", "/repos/acme/widgets/issues/8/comments", apiFailure{Status: 502, Body: `{"message":"Bad Gateway"}`, Times: 1})
		x := h.wait(t, h.enqueue(t, webhookArgs(runID, 1)).ID)
		require.Equal(t, "completed", x.State)
		require.Equal(t, 2, x.Attempt, "the job should have been retried once")

		require.Len(t, h.gh.Comments(7), 1)
		require.Len(t, h.gh.Comments(8), 1)
		require.Len(t, h.gh.requestsTo("POST", "/issues/7/comments"), 1)
		require.Len(t, h.gh.requestsTo("PATCH", "/issues/comments/"+itoa(h.gh.Comments(7)[0].ID)), 1)
		require.Len(t, h.gh.BotCheckRuns(), 1)
		require.Len(t, h.gh.requestsTo("POST", "/check-runs"), 1)
		require.Len(t, h.gh.requestsTo("PATCH", "/check-runs/"+itoa(sortedKeys(h.gh.BotCheckRuns())[0])), 1)
	})

	t.Run("a comment made before the record was saved is found by its marker", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addRun(failedRun())
		out := h.analyze(t, webhookArgs(runID, 1))
		// The record loses the comment id (as if saving it failed); the bot's comment remains,
		// beside a user's comment quoting the marker.
		h.gh.addComment(7, "mallory", "User", "quoting "+prreport.Marker)
		rec, err := h.store.PRReport(t.Context(), fakeOwner, fakeRepo, 7)
		require.NoError(t, err)
		rec.CommentID = 0
		require.NoError(t, h.store.SavePRReport(t.Context(), rec))

		again := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, Trigger: "comment:1"})
		require.Equal(t, out.CommentIDs, again.CommentIDs)
		comments := h.gh.Comments(7)
		require.Len(t, comments, 2)
		require.Contains(t, comments[0].Body, "Failure 1 of 2")
		require.Equal(t, "quoting "+prreport.Marker, comments[1].Body)
	})

	t.Run("deleted comment is recreated", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addRun(failedRun())
		out := h.analyze(t, webhookArgs(runID, 1))
		h.gh.mu.Lock()
		h.gh.comments = nil
		h.gh.mu.Unlock()
		again := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, Trigger: "comment:2"})
		require.NotEqual(t, out.CommentIDs, again.CommentIDs)
		require.Len(t, h.gh.Comments(7), 1)
	})

	t.Run("explicit re-analysis and a second attempt edit the same comment and check run", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		run := failedRun()
		h.gh.addRun(run)
		first := h.analyze(t, webhookArgs(runID, 1))
		again := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, RunAttempt: 1, Trigger: "comment:3"})
		require.Equal(t, first.CommentIDs, again.CommentIDs)
		require.Equal(t, first.CheckRunID, again.CheckRunID)

		// Someone re-runs the failed jobs; attempt 2 fails again.
		h.gh.mu.Lock()
		run.Attempts = append(run.Attempts, fakeAttempt{Conclusion: "failure", Jobs: []fakeJob{
			{ID: 399444600, Name: "build", Conclusion: "failure", FailedStep: "Run go build ./...", Log: buildErrorLog},
		}})
		h.gh.logs[399444600] = buildErrorLog
		h.gh.mu.Unlock()
		second := h.analyze(t, webhookArgs(runID, 2))
		require.Equal(t, 2, second.Attempt)
		require.Equal(t, first.CommentIDs, second.CommentIDs)
		require.Equal(t, first.CheckRunID, second.CheckRunID)

		comments := h.gh.Comments(7)
		require.Len(t, comments, 1)
		require.Contains(t, comments[0].Body, "[attempt 2](https://github.com/acme/widgets/actions/runs/30433642/attempts/2)")
		require.NotContains(t, comments[0].Body, "Failure 1 of 2", "the prreport.Section shows the latest attempt only")
		require.Len(t, h.gh.BotCheckRuns(), 1)
		require.Len(t, h.gh.requestsTo("POST", "/issues/7/comments"), 1)
		require.Len(t, h.gh.requestsTo("POST", "/check-runs"), 1)

		// A late redelivery of attempt 1 never replaces the newer report.
		h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, RunAttempt: 1, Trigger: "comment:4"})
		require.Contains(t, h.gh.Comments(7)[0].Body, "[attempt 2](")
	})
}

func TestWorkerRerunPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string
		run    func() *fakeRun
		// before analyzes these attempts first (to record earlier fingerprints).
		before  []int
		args    Args
		reruns  int
		because string
	}{
		{
			name:    "all failures retryable",
			run:     func() *fakeRun { return singleJobRun(networkErrorLog, 1) },
			args:    webhookArgs(runID, 1),
			reruns:  1,
			because: "re-run of failed jobs requested",
		},
		{
			name:    "test failure",
			run:     func() *fakeRun { return singleJobRun(testFailureLog, 1) },
			args:    webhookArgs(runID, 1),
			because: "not something a re-run fixes",
		},
		{
			name:    "attempt beyond max_attempts",
			run:     func() *fakeRun { return singleJobRun(networkErrorLog, 2) },
			args:    webhookArgs(runID, 2),
			because: "re-run budget (1) is used up",
		},
		{
			name:    "same fingerprint in an earlier attempt",
			config:  "failure_analysis:\n  auto_retry:\n    max_attempts: 3\n",
			run:     func() *fakeRun { return singleJobRun(networkErrorLog, 2) },
			before:  []int{1},
			args:    webhookArgs(runID, 2),
			because: "the same failure happened in attempt 1",
		},
		{
			// Attempt 1 failed; someone re-ran it and attempt 2 is running.
			name: "run not completed",
			run: func() *fakeRun {
				r := singleJobRun(networkErrorLog, 2)
				r.Status = "in_progress"
				return r
			},
			args:    Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, RunAttempt: 1, Trigger: "comment:9"},
			because: "the run has not completed",
		},
		{
			name:    "GitHub already has a newer attempt",
			run:     func() *fakeRun { return singleJobRun(networkErrorLog, 2) },
			config:  "failure_analysis:\n  auto_retry:\n    max_attempts: 3\n",
			args:    webhookArgs(runID, 1),
			because: "a newer attempt exists",
		},
		{
			name:    "disabled by configuration",
			config:  "failure_analysis:\n  auto_retry:\n    enabled: false\n",
			run:     func() *fakeRun { return singleJobRun(networkErrorLog, 1) },
			args:    webhookArgs(runID, 1),
			because: "automatic re-runs are disabled",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.gh.setConfig(tc.config)
			h.gh.addRun(tc.run())
			for _, n := range tc.before {
				h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, RunAttempt: n, Trigger: "comment:1"})
			}
			out := h.analyze(t, tc.args)
			require.Contains(t, out.Rerun, tc.because)
			require.Len(t, h.gh.Reruns(), tc.reruns)
			require.Contains(t, h.gh.Comments(7)[0].Body, tc.because)

			// Analyzing the same attempt again never re-runs twice.
			h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, RunAttempt: tc.args.RunAttempt, Trigger: "comment:2"})
			require.Len(t, h.gh.Reruns(), tc.reruns)
		})
	}
}

func TestWorkerReportsFlakyPass(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := singleJobRun(networkErrorLog, 1)
	h.gh.addRun(run)
	failed := h.analyze(t, webhookArgs(runID, 1))
	require.Len(t, h.gh.Reruns(), 1)

	// The re-run passes on the same commit.
	h.gh.mu.Lock()
	run.Attempts = append(run.Attempts, fakeAttempt{Conclusion: "success"})
	h.gh.mu.Unlock()
	passed := h.analyze(t, webhookArgs(runID, 2))
	require.Equal(t, "success", passed.Conclusion)
	require.Equal(t, failed.CommentIDs, passed.CommentIDs)

	comments := h.gh.Comments(7)
	require.Len(t, comments, 1)
	body := comments[0].Body
	require.Contains(t, body, "pass now")
	require.Contains(t, body, "**Flaky:**")
	require.Contains(t, body, "[attempt 1](https://github.com/acme/widgets/actions/runs/30433642/attempts/1)")
	require.Contains(t, body, "[attempt 2](https://github.com/acme/widgets/actions/runs/30433642/attempts/2)")
	require.NotContains(t, body, "❌")

	// The check run of the failed attempt no longer tells of a failure.
	checks := h.gh.BotCheckRuns()
	require.Len(t, checks, 1)
	title, _, _ := checkRunOutput(t, checks[failed.CheckRunID])
	require.Equal(t, "CI passed", title)
	require.Len(t, h.gh.Reruns(), 1)
}

func TestWorkerPassWithoutEarlierReportIsQuiet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := failedRun()
	run.Attempts = []fakeAttempt{{Conclusion: "success"}}
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Equal(t, "success", out.Conclusion)
	require.Empty(t, out.CommentIDs)
	require.Empty(t, h.gh.Comments(7))
	require.Empty(t, h.gh.BotCheckRuns())
	for _, r := range h.gh.Requests() {
		require.Equal(t, "GET", r.Method, "a quiet pass must not write to GitHub: %s", r)
		require.NotContains(t, r.Path, "/jobs")
	}
}

func TestWorkerIgnoresStalePullRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	run := failedRun()
	run.PRHeadSHA = "ffffffffffffffffffffffffffffffffffffffff" // the PR moved on
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Empty(t, out.PullRequests)
	require.Empty(t, h.gh.Comments(7))
	require.Empty(t, h.gh.requestsTo("POST", "/issues/7/comments"))
	// The check run still reports on the commit that failed.
	require.Len(t, h.gh.BotCheckRuns(), 1)
}

func TestWorkerRedactsSecrets(t *testing.T) {
	t.Parallel()
	secrets := []string{
		"ghp_R2D2c3poBB8k2so4Bd1Xg5Zx9Lm3Np7Qw0Er",
		"AKIAIOSFODNN7EXAMPLE",
		"hunter2-Sup3rSecret",
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	}
	log := actionsLog("./scripts/deploy.sh",
		"+ export GITHUB_TOKEN=ghp_R2D2c3poBB8k2so4Bd1Xg5Zx9Lm3Np7Qw0Er",
		"+ export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"+ export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"+ git clone https://deploy:hunter2-Sup3rSecret@git.example.com/acme/private.git",
		"fatal: unable to access 'https://deploy:hunter2-Sup3rSecret@git.example.com/acme/private.git/': Could not resolve host: git.example.com",
		"curl: (6) Could not resolve host: git.example.com (token ghp_R2D2c3poBB8k2so4Bd1Xg5Zx9Lm3Np7Qw0Er AKIAIOSFODNN7EXAMPLE)",
	)
	h := newHarness(t)
	h.gh.addRun(singleJobRun(log, 1))
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Len(t, out.Failures, 1)
	require.Len(t, h.gh.Comments(7), 1)
	require.Len(t, h.gh.BotCheckRuns(), 1)
	posted := 0
	for _, r := range h.gh.Requests() {
		if r.Method == "GET" {
			continue
		}
		posted++
		for _, s := range secrets {
			require.NotContains(t, r.Body, s, "%s leaks a secret", r)
		}
	}
	require.GreaterOrEqual(t, posted, 2)
	require.Contains(t, h.gh.Comments(7)[0].Body, "git.example.com", "the excerpt is still posted")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
