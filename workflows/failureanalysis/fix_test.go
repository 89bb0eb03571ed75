package failureanalysis

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
)

const fixPRURL = "https://github.com/acme/widgets/pull/8"

// startFixFlow analyzes a test failure on PR #7 and waits for the agent's fix PR.
func startFixFlow(t *testing.T, h *fixHarness) (Output, string) {
	t.Helper()
	h.gh.addRun(singleJobRun(testFailureLog, 1))
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Len(t, out.Failures, 1)
	require.Equal(t, "test_failure", out.Failures[0].Classification)
	require.Equal(t, []string{"#7: handed to the agent"}, out.Fix)
	key := fixKey(fakeOwner, fakeRepo, 7, headSHA, out.Failures[0].Fingerprint)
	h.waitFix(t, key, fixPROpen)
	require.Eventually(t, func() bool { return strings.Contains(h.stickyBody(t, 7), fixPRURL) }, 5*time.Second, 10*time.Millisecond)
	return out, key
}

func TestFixWalksTheAgentRunToItsPullRequest(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	_, key := startFixFlow(t, h)

	creates, resumes := h.cg.prompts()
	require.Len(t, creates, 1)
	require.Empty(t, resumes)
	prompt := creates[0]
	require.Contains(t, prompt, "acme/widgets")
	require.Contains(t, prompt, headSHA)
	require.Contains(t, prompt, "https://github.com/acme/widgets/pull/7")
	require.Contains(t, prompt, "expected 3 widgets, got 4", "the excerpt is quoted")
	require.Contains(t, prompt, "failure class: test_failure")
	require.Contains(t, prompt, "not instructions")
	require.Contains(t, prompt, "Do not create, change or delete any file under .github/workflows/")

	body := h.stickyBody(t, 7)
	require.Contains(t, body, "CI failed", "the analysis is still there")
	require.Contains(t, body, "the agent opened a fix pull request")
	require.Contains(t, body, "("+fixPRURL+")", "the sticky comment links the fix PR")
	require.Contains(t, body, "https://codegen.com/agent/trace/501")
	require.Contains(t, body, "Fixed the off-by-one in the widget parser.")
	require.Len(t, h.gh.Comments(7), 1, "one sticky comment")

	fix := h.waitFix(t, key, fixPROpen)
	require.Equal(t, "codegen-bot/fix-parser", fix.FixBranch)
	require.Equal(t, 1, fix.Attempts)

	// The same failure again (a redelivery, an operator's execute, a second /ci fix) starts
	// no second agent run.
	yes := true
	for _, a := range []Args{
		{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, RunID: runID, RunAttempt: 1, Trigger: "cli:1"},
		{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, RunID: runID, RunAttempt: 1, Trigger: "comment:5", AutoFixEnabled: &yes},
		{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, RunID: runID, RunAttempt: 1, Trigger: "comment:6", AutoFixEnabled: &yes},
	} {
		out := h.analyze(t, a)
		require.Equal(t, []string{"#7: already handed to the agent"}, out.Fix)
	}
	creates, _ = h.cg.prompts()
	require.Len(t, creates, 1)
}

func TestFixLowercaseCompletedFinishes(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	h.cg.setWalk("pending", "running", "completed")
	startFixFlow(t, h)
	require.Contains(t, h.stickyBody(t, 7), fixPRURL)
}

func TestFixAgentFailureIsReported(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	h.cg.setWalk("RUNNING", "failed")
	h.gh.addRun(singleJobRun(testFailureLog, 1))
	out := h.analyze(t, webhookArgs(runID, 1))
	key := fixKey(fakeOwner, fakeRepo, 7, headSHA, out.Failures[0].Fingerprint)
	h.waitFix(t, key, fixFailed)
	require.Eventually(t, func() bool { return strings.Contains(h.stickyBody(t, 7), "could not reproduce the failure") }, 5*time.Second, 10*time.Millisecond)
	require.Contains(t, h.stickyBody(t, 7), "the agent could not fix it")
}

func TestFixPromptIsRedacted(t *testing.T) {
	t.Parallel()
	secrets := []string{"ghp_R2D2c3poBB8k2so4Bd1Xg5Zx9Lm3Np7Qw0Er", "AKIAIOSFODNN7EXAMPLE", "hunter2-Sup3rSecret"}
	log := actionsLog("go test ./...",
		"+ export GITHUB_TOKEN=ghp_R2D2c3poBB8k2so4Bd1Xg5Zx9Lm3Np7Qw0Er",
		"=== RUN   TestDeploy",
		"    deploy_test.go:12: push to https://deploy:hunter2-Sup3rSecret@git.example.com/acme/private.git rejected (key AKIAIOSFODNN7EXAMPLE)",
		"--- FAIL: TestDeploy (0.00s)",
		"FAIL",
		"FAIL\tgithub.com/acme/widgets/deploy\t0.019s",
	)
	h := newFixHarness(t)
	h.gh.addRun(singleJobRun(log, 1))
	yes := true
	out := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, RunID: runID, RunAttempt: 1, Trigger: "comment:9", AutoFixEnabled: &yes})
	key := fixKey(fakeOwner, fakeRepo, 7, headSHA, out.Failures[0].Fingerprint)
	h.waitFix(t, key, fixPROpen)
	creates, _ := h.cg.prompts()
	require.Len(t, creates, 1)
	require.Contains(t, creates[0], "git.example.com/acme/private.git rejected", "the excerpt is in the prompt")
	for _, s := range secrets {
		require.NotContains(t, creates[0], s)
	}
	fix, _, err := h.store.AIFixByKey(context.Background(), key)
	require.NoError(t, err)
	for _, s := range secrets {
		require.NotContains(t, fix.Data, s, "nothing stored holds a secret")
	}
}

func TestFixPlanLimitPausesAndNotifiesOnce(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	h.cg.setFail(func(r *http.Request) (int, string) {
		if r.Method == http.MethodPost {
			return http.StatusPaymentRequired, `{"detail": "Agent run limit reached for your plan"}`
		}
		return 0, ""
	})
	h.gh.addRun(singleJobRun(testFailureLog, 1))
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Equal(t, []string{"#7: handed to the agent"}, out.Fix)
	require.Eventually(t, func() bool { return len(h.alerts.Raised()) == 1 }, 10*time.Second, 10*time.Millisecond)
	al := h.alerts.Raised()[0]
	require.Equal(t, "codegen:plan_limit", al.Fingerprint)
	require.False(t, al.Escalate)
	require.Eventually(t, func() bool { return strings.Contains(h.stickyBody(t, 7), "paused until") }, 5*time.Second, 10*time.Millisecond)

	// Another failure (a new commit) is not handed over while paused.
	run := singleJobRun(buildErrorLog, 1)
	run.ID, run.HeadSHA, run.PRHeadSHA = runID+1, "1111111111111111111111111111111111111111", ""
	h.gh.addRun(run)
	out = h.analyze(t, webhookArgs(runID+1, 1))
	require.Equal(t, []string{"#7: refused: agent runs are paused"}, out.Fix)
	posts := 0
	for _, r := range h.cg.srvRequests() {
		if r == "POST" {
			posts++
		}
	}
	require.Equal(t, 1, posts, "no agent run is tried while paused")
	require.Len(t, h.alerts.Raised(), 1, "notified once")
}

func TestFixPRFailureResumesThenEscalates(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	_, key := startFixFlow(t, h)
	h.addPull(8, fakePull{Login: "codegen-sh[bot]", HeadRef: "codegen-bot/fix-parser"})

	fixRun := func(n int64, log string) *fakeRun {
		r := singleJobRun(log, 1)
		r.ID, r.HeadBranch, r.PullNumbers = runID+n, "codegen-bot/fix-parser", []int{8}
		r.HeadSHA = strings.Repeat(string(rune('a'+n)), 40)
		return r
	}
	// The fix PR's CI fails: the agent run is resumed with the new excerpt.
	h.gh.addRun(fixRun(1, buildErrorLog))
	out := h.analyze(t, webhookArgs(runID+1, 1))
	require.Equal(t, []string{"fix PR CI failed: resuming (attempt 2)"}, out.Fix)
	fix := h.waitFix(t, key, fixPROpen)
	require.Equal(t, 2, fix.Attempts)
	creates, resumes := h.cg.prompts()
	require.Len(t, creates, 1, "the agent's own PR never starts a new run")
	require.Len(t, resumes, 1)
	require.Contains(t, resumes[0], "undefined: sqlx.Connectx", "the resume carries the new failure's excerpt")
	require.Contains(t, resumes[0], fixPRURL)

	// Second failure: attempt 3.
	h.gh.addRun(fixRun(2, buildErrorLog))
	out = h.analyze(t, webhookArgs(runID+2, 1))
	require.Equal(t, []string{"fix PR CI failed: resuming (attempt 3)"}, out.Fix)
	h.waitFix(t, key, fixPROpen)

	// Third failure: escalation, through the alerts and a clear comment.
	h.gh.addRun(fixRun(3, buildErrorLog))
	out = h.analyze(t, webhookArgs(runID+3, 1))
	require.Equal(t, []string{"escalated"}, out.Fix)
	h.waitFix(t, key, fixEscalated)
	var escalations int
	for _, a := range h.alerts.Raised() {
		if a.Escalate {
			escalations++
			require.Equal(t, "escalation:ai_fix:acme/widgets#7", a.Fingerprint)
		}
	}
	require.Equal(t, 1, escalations)
	var found bool
	for _, c := range h.gh.Comments(7) {
		if strings.Contains(c.Body, "The AI fix needs a person") {
			found = true
			require.Contains(t, c.Body, "after 3 attempts")
		}
	}
	require.True(t, found, "a clear PR comment")
	require.Contains(t, h.stickyBody(t, 7), "the fix kept failing")
	_, resumes = h.cg.prompts()
	require.Len(t, resumes, 2)

	// The same failed run again changes nothing.
	out = h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, RunID: runID + 3, RunAttempt: 1, Trigger: "cli:2"})
	require.Empty(t, out.Fix)
	require.Len(t, h.alerts.Raised(), 1)
}

func TestFixPRGreenIsReported(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	_, key := startFixFlow(t, h)
	h.addPull(8, fakePull{Login: "codegen-sh[bot]", HeadRef: "codegen-bot/fix-parser"})
	r := singleJobRun(testFailureLog, 1)
	r.ID, r.HeadBranch, r.PullNumbers = runID+1, "codegen-bot/fix-parser", []int{8}
	r.Attempts = []fakeAttempt{{Conclusion: "success"}}
	h.gh.addRun(r)
	out := h.analyze(t, webhookArgs(runID+1, 1))
	require.Equal(t, []string{"fix PR CI passed"}, out.Fix)
	h.waitFix(t, key, fixGreen)
	require.Contains(t, h.stickyBody(t, 7), "the fix pull request made CI green")
}

func TestFixNeverForTheAgentsOwnPR(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	h.addPull(9, fakePull{Login: "codegen-sh[bot]", HeadRef: "codegen-bot/other"})
	h.addPull(10, fakePull{Login: "autonomous-ci[bot]", HeadRef: "autonomous-ci/deps"})
	run := singleJobRun(testFailureLog, 1)
	run.PullNumbers = []int{9, 10}
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Equal(t, []string{"#9: not fixed: the agent's own pull request", "#10: not fixed: the agent's own pull request"}, out.Fix)
	creates, _ := h.cg.prompts()
	require.Empty(t, creates)
}

func TestFixForkOnlyWhenAMaintainerAsks(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	h.addPull(7, fakePull{Login: "someone", HeadRef: "feature", Fork: true})
	run := singleJobRun(testFailureLog, 1)
	run.ForkOwner = "someone"
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Equal(t, []string{"#7: refused: fork pull request"}, out.Fix)
	require.Contains(t, h.stickyBody(t, 7), "not started for pull requests from forks")
	creates, _ := h.cg.prompts()
	require.Empty(t, creates)

	// /ci fix by a maintainer (the command checked maintain or admin) hands it over.
	yes := true
	out = h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, RunID: runID, RunAttempt: 1, Trigger: "comment:31", AutoFixEnabled: &yes})
	require.Equal(t, []string{"#7: handed to the agent"}, out.Fix)
	h.waitFix(t, fixKey(fakeOwner, fakeRepo, 7, headSHA, out.Failures[0].Fingerprint), fixPROpen)
	creates, _ = h.cg.prompts()
	require.Len(t, creates, 1)
}

func TestSkipLabelTurnsEverythingOff(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	h.addPull(7, fakePull{Login: "alice", HeadRef: "feature", Labels: []string{"bug", "autonomous-ci: skip"}})
	h.gh.addRun(singleJobRun(testFailureLog, 1))
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Equal(t, "every pull request of the run is labelled autonomous-ci: skip", out.Skipped)
	require.Equal(t, []int{7}, out.SkippedPRs)
	require.Empty(t, h.gh.Comments(7))
	require.Empty(t, h.gh.BotCheckRuns())
	require.Empty(t, h.gh.Reruns())
	creates, _ := h.cg.prompts()
	require.Empty(t, creates)
}

func TestFixDailyBudget(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	h.gh.setConfig("auto_fix:\n  enabled: true\n  daily_budget: 1\n")
	startFixFlow(t, h)
	h.addPull(11, fakePull{Login: "bob", HeadRef: "other"})
	run := singleJobRun(buildErrorLog, 1)
	run.ID, run.PullNumbers, run.HeadSHA = runID+5, []int{11}, "2222222222222222222222222222222222222222"
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID+5, 1))
	require.Equal(t, []string{"#11: refused: daily budget used up"}, out.Fix)
	require.Contains(t, h.stickyBody(t, 11), "agent runs of the day")
}

func TestFixWorkerAgentErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error, h *fixHarness, key string)
	}{
		{"401 is an auth error", http.StatusUnauthorized, `{"detail": "Invalid token"}`, func(t *testing.T, err error, h *fixHarness, key string) {
			var cancel *rivertype.JobCancelError
			require.ErrorAs(t, err, &cancel)
			var auth *AgentAuthError
			require.ErrorAs(t, err, &auth)
			require.Equal(t, "auth_error", auth.RecoveryClass())
			fix, _, _ := h.store.AIFixByKey(context.Background(), key)
			require.Equal(t, fixFailed, fix.State)
			require.Equal(t, "codegen:auth_error", h.alerts.Raised()[0].Fingerprint)
		}},
		{"422 keeps the detail", http.StatusUnprocessableEntity, `{"detail": [{"loc": ["body", "repo_id"], "msg": "repository is not connected"}]}`, func(t *testing.T, err error, h *fixHarness, key string) {
			require.NoError(t, err)
			fix, _, _ := h.store.AIFixByKey(context.Background(), key)
			require.Equal(t, fixFailed, fix.State)
			require.Contains(t, fix.Data, "repository is not connected")
		}},
		{"429 snoozes", http.StatusTooManyRequests, `{"detail": "slow down"}`, func(t *testing.T, err error, h *fixHarness, key string) {
			var snooze *rivertype.JobSnoozeError
			require.ErrorAs(t, err, &snooze)
			require.GreaterOrEqual(t, snooze.Duration, time.Second)
			fix, _, _ := h.store.AIFixByKey(context.Background(), key)
			require.Equal(t, fixQueued, fix.State)
		}},
		{"5xx is retried", http.StatusBadGateway, `bad gateway`, func(t *testing.T, err error, h *fixHarness, key string) {
			require.Error(t, err)
			var snooze *rivertype.JobSnoozeError
			require.False(t, errorsAs(err, &snooze))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newFixHarness(t)
			h.cg.setFail(func(r *http.Request) (int, string) {
				if r.Method == http.MethodPost {
					return tc.status, tc.body
				}
				return 0, ""
			})
			// Record a fix as the analysis would, without its job running in the engine.
			key := fixKey(fakeOwner, fakeRepo, 7, headSHA, "fp1")
			fix := newTestFix(key)
			_, err := h.store.InsertAIFix(context.Background(), fix)
			require.NoError(t, err)
			err = h.fixW.Work(context.Background(), &river.Job[FixArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1},
				Args: FixArgs{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, Key: key, Attempt: 1}})
			tc.check(t, err, h, key)
		})
	}
}

func TestFixDefaultBranchFailureTargetsTheDefaultBranch(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	run := singleJobRun(testFailureLog, 1)
	run.PullNumbers, run.HeadBranch = nil, "main"
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Equal(t, []string{"#0: handed to the agent"}, out.Fix)
	h.waitFix(t, fixKey(fakeOwner, fakeRepo, 0, headSHA, out.Failures[0].Fingerprint), fixPROpen)
	creates, _ := h.cg.prompts()
	require.Len(t, creates, 1)
	require.Contains(t, creates[0], "Open a pull request with the fix against the default branch `main`")

	// Another branch without a pull request is left alone.
	other := singleJobRun(buildErrorLog, 1)
	other.ID, other.PullNumbers, other.HeadBranch, other.HeadSHA = runID+1, nil, "experiment", "3333333333333333333333333333333333333333"
	h.gh.addRun(other)
	out = h.analyze(t, webhookArgs(runID+1, 1))
	require.Empty(t, out.Fix)
}

func TestFixWithoutPullRequestsProposes(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	h.gh.addRun(singleJobRun(testFailureLog, 1))
	yes, no := true, false
	out := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, RunID: runID, RunAttempt: 1, Trigger: "cli:7",
		AutoFixEnabled: &yes, CreatePRForFixes: &no})
	key := fixKey(fakeOwner, fakeRepo, 7, headSHA, out.Failures[0].Fingerprint)
	h.waitFix(t, key, fixProposed)
	creates, _ := h.cg.prompts()
	require.Contains(t, creates[0], "Do not open a pull request")
	require.Eventually(t, func() bool { return strings.Contains(h.stickyBody(t, 7), "the agent proposed a fix") }, 5*time.Second, 10*time.Millisecond)
	require.NotContains(t, h.stickyBody(t, 7), fixPRURL)
}

func TestFixWorkerQuietOnSkipLabelledPR(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	key := fixKey(fakeOwner, fakeRepo, 7, headSHA, "fp1")
	_, err := h.store.InsertAIFix(context.Background(), newTestFix(key))
	require.NoError(t, err)
	// Labelled after the fix was handed over: the agent run goes on, the comments stop.
	h.addPull(7, fakePull{Login: "alice", HeadRef: "feature", Labels: []string{SkipLabel}})
	job := &river.Job[FixArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: FixArgs{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, Key: key, Attempt: 1}}
	err = h.fixW.Work(context.Background(), job)
	var snooze *rivertype.JobSnoozeError
	require.ErrorAs(t, err, &snooze, "started, then polled later")
	fix := h.waitFix(t, key, fixRunning)
	require.Contains(t, fix.Data, "codegen.com/agent/trace/501")
	require.Empty(t, h.gh.Comments(7))
	require.Empty(t, h.gh.requestsTo("POST", "/issues/7/comments"))
}

func TestFixPollsBackOff(t *testing.T) {
	t.Parallel()
	require.Equal(t, 15*time.Second, backoff(15*time.Second, 5*time.Minute, 0))
	require.Equal(t, 60*time.Second, backoff(15*time.Second, 5*time.Minute, 2))
	require.Equal(t, 5*time.Minute, backoff(15*time.Second, 5*time.Minute, 10))

	h := newFixHarness(t)
	h.cg.setWalk("PENDING", "RUNNING", "RUNNING", "COMPLETE")
	key := fixKey(fakeOwner, fakeRepo, 7, headSHA, "fp1")
	_, err := h.store.InsertAIFix(context.Background(), newTestFix(key))
	require.NoError(t, err)
	job := &river.Job[FixArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: FixArgs{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, Key: key, Attempt: 1}}
	var waits []time.Duration
	for range 10 {
		err := h.fixW.Work(context.Background(), job)
		var snooze *rivertype.JobSnoozeError
		if !errorsAs(err, &snooze) {
			require.NoError(t, err)
			break
		}
		waits = append(waits, snooze.Duration)
	}
	// Start, then PENDING, RUNNING, RUNNING: each wait doubles, up to FixPollMax.
	require.Equal(t, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}, waits)
	fix, _, err := h.store.AIFixByKey(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, fixPROpen, fix.State)
}

func TestFixJobIsTaggedWithItsPullRequest(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	startFixFlow(t, h)
	res, err := h.engine.Client().JobList(context.Background(), river.NewJobListParams().Kinds("ai_fix").First(10))
	require.NoError(t, err)
	require.Len(t, res.Jobs, 1)
	require.Equal(t, []string{workflows.PRTag(42, 7)}, res.Jobs[0].Tags, "listed by /ci status, stopped by /ci cancel")
}

func TestFixSurvivesGitHubFaults(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	// The pull request read fails once (5xx: the analysis is retried), its comment once (a
	// secondary rate limit while the agent works).
	h.gh.fail("GET", "/repos/acme/widgets/pulls/7", apiFailure{Status: http.StatusBadGateway, Times: 1})
	h.gh.fail("PATCH", "", apiFailure{Status: http.StatusForbidden, Headers: map[string]string{"Retry-After": "1"},
		Body: `{"message": "You have exceeded a secondary rate limit."}`, Times: 1})
	h.gh.addRun(singleJobRun(testFailureLog, 1))
	out := h.analyze(t, webhookArgs(runID, 1))
	// The execution that wrote the fix section after the refused PATCH found the fix recorded.
	require.Contains(t, []string{"#7: handed to the agent", "#7: already handed to the agent"}, out.Fix[0])
	key := fixKey(fakeOwner, fakeRepo, 7, headSHA, out.Failures[0].Fingerprint)
	require.Eventually(t, func() bool { return strings.Contains(h.stickyBody(t, 7), fixPRURL) }, 10*time.Second, 10*time.Millisecond)
	creates, _ := h.cg.prompts()
	require.Len(t, creates, 1, "retries never start a second agent run")
	require.Equal(t, 1, h.waitFix(t, key, fixPROpen).Attempts)
	require.Len(t, h.gh.Comments(7), 1)
}

func TestFixPullRequestGone(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	run := singleJobRun(testFailureLog, 1)
	run.PullNumbers = []int{77} // GET /pulls/77 answers 404
	h.gh.addRun(run)
	out := h.analyze(t, webhookArgs(runID, 1))
	require.Equal(t, []string{"#77: pull request not found"}, out.Fix)
	creates, _ := h.cg.prompts()
	require.Empty(t, creates)
}

func TestFixPRRunsDuringTheAgentRunAreJudgedAfterIt(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	_, key := startFixFlow(t, h)
	h.addPull(8, fakePull{Login: "codegen-sh[bot]", HeadRef: "codegen-bot/fix-parser"})
	fixRun := func(n int64) *fakeRun {
		r := singleJobRun(buildErrorLog, 1)
		r.ID, r.HeadBranch, r.PullNumbers = runID+n, "codegen-bot/fix-parser", []int{8}
		r.HeadSHA = strings.Repeat(string(rune('a'+n)), 40)
		return r
	}
	// The fix PR fails: the agent is resumed, and keeps working.
	h.cg.setHold(true)
	h.gh.addRun(fixRun(1))
	require.Equal(t, []string{"fix PR CI failed: resuming (attempt 2)"}, h.analyze(t, webhookArgs(runID+1, 1)).Fix)
	h.waitFix(t, key, fixRunning)
	// A run of the fix PR completes meanwhile: not judged yet.
	h.gh.addRun(fixRun(2))
	require.Equal(t, []string{"fix PR run ignored: the fix is running"}, h.analyze(t, webhookArgs(runID+2, 1)).Fix)
	// The agent finishes: the runs that completed meanwhile are analyzed, and this one failed.
	h.cg.setHold(false)
	require.Eventually(t, func() bool {
		f, _, err := h.store.AIFixByKey(context.Background(), key)
		require.NoError(t, err)
		return f.Attempts == 3 && f.State == fixPROpen
	}, 20*time.Second, 10*time.Millisecond)
	_, resumes := h.cg.prompts()
	require.Len(t, resumes, 2)
}
