package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// e2eCodegen is Codegen's agent API on loopback: one run per create, PENDING then COMPLETE with
// a fix pull request; it records the prompts.
type e2eCodegen struct {
	srv     *httptest.Server
	mu      sync.Mutex
	prompts []string
	gets    int
	// planLimit answers every run creation 402, as Codegen does at the plan's limit.
	planLimit bool
	posts     int
	resumes   []string
}

func newE2ECodegen(t *testing.T) *e2eCodegen {
	t.Helper()
	c := &e2eCodegen{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/organizations/7/agent/run", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Prompt string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		c.mu.Lock()
		c.posts++
		limited := c.planLimit
		if !limited {
			c.prompts = append(c.prompts, body.Prompt)
		}
		c.mu.Unlock()
		if limited {
			writeJSONBody(w, http.StatusPaymentRequired, map[string]any{"detail": "Agent run limit reached for your plan"})
			return
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 9001, "status": "PENDING", "web_url": "https://codegen.com/agent/trace/9001"})
	})
	mux.HandleFunc("POST /v1/organizations/7/agent/run/resume", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			AgentRunID int64 `json:"agent_run_id"`
			Prompt     string
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.AgentRunID != 9001 {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"detail": "Agent run not found"})
			return
		}
		c.mu.Lock()
		c.resumes = append(c.resumes, body.Prompt)
		c.gets = 0 // the walk starts again
		c.mu.Unlock()
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 9001, "status": "RUNNING"})
	})
	mux.HandleFunc("GET /v1/organizations/7/agent/run/9001", func(w http.ResponseWriter, _ *http.Request) {
		c.mu.Lock()
		c.gets++
		done := c.gets > 1
		c.mu.Unlock()
		if !done {
			writeJSONBody(w, http.StatusOK, map[string]any{"id": 9001, "status": "RUNNING"})
			return
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 9001, "status": "COMPLETE", "summary": "Fixed the greeting.",
			"github_pull_requests": []any{map[string]any{"id": 1, "title": "Fix the greeting", "url": "https://github.com/octo-org/hello-world/pull/43", "head_branch_name": "codegen-bot/greeting"}}})
	})
	mux.HandleFunc("GET /v1/organizations/7/repos", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"items": []any{map[string]any{"id": 5, "name": "hello-world", "full_name": "octo-org/hello-world"}}, "total": 1})
	})
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer cg-e2e-token" {
			writeJSONBody(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid token"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *e2eCodegen) promptsSent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.prompts...)
}

// TestSlashCommandFixByMaintainerOnFork: a maintainer's `/ci fix` on a fork's pull request
// analyzes the failed run, hands it to the agent (configured from CODEGEN_*), follows the run
// and links the agent's fix pull request in the sticky comment; the same command again starts
// no second agent run.
func TestSlashCommandFixByMaintainerOnFork(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.setRole("mona", "maintain")
	gh.mu.Lock()
	gh.pulls[42] = fakePull{HeadSHA: fakeHeadSHA, HeadRepoID: 99999} // the head branch is in a fork
	gh.mu.Unlock()
	const run = int64(802)
	gh.addFailedRun(run)
	cg := newE2ECodegen(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.CodegenOrgID, cfg.CodegenToken, cfg.CodegenAPIURL = "7", "cg-e2e-token", cg.srv.URL
	cfg.CodegenPollInterval = 10 * time.Millisecond
	e := &e2e{t: t, gh: gh, app: startApp(t, cfg, appOptions{})}

	const id = 910020
	e.comment("fix-maintainer", id, "mona", "User", "/ci fix")
	out := e.waitCommand(id)
	require.Equal(t, []string{"done"}, out.Statuses)
	require.Contains(t, e.reply(id), "Handing the failure")

	sticky := func() string {
		for _, c := range gh.commentsOn(42) {
			if strings.Contains(c.Body, "<!-- autonomous-ci:failure-analysis -->") {
				return c.Body
			}
		}
		return ""
	}
	require.Eventually(t, func() bool { return strings.Contains(sticky(), "https://github.com/octo-org/hello-world/pull/43") },
		20*time.Second, 10*time.Millisecond, "sticky comment: %s", sticky())
	require.Contains(t, sticky(), "Fixed the greeting.")
	prompts := cg.promptsSent()
	require.Len(t, prompts, 1)
	require.Contains(t, prompts[0], "octo-org/hello-world")
	require.Contains(t, prompts[0], fakeHeadSHA)

	const again = 910021
	e.comment("fix-maintainer-again", again, "mona", "User", "/ci fix")
	require.Equal(t, []string{"done"}, e.waitCommand(again).Statuses)
	// Both analyses completed; the second found the failure handed over already.
	var outputs []string
	require.Eventually(t, func() bool {
		res, err := e.app.engine.Client().JobList(t.Context(), river.NewJobListParams().Kinds("failure_analysis").First(10))
		require.NoError(t, err)
		outputs = outputs[:0]
		for _, row := range res.Jobs {
			if row.State != rivertype.JobStateCompleted {
				return false
			}
			outputs = append(outputs, string(row.Output()))
		}
		return len(outputs) == 2
	}, 20*time.Second, 10*time.Millisecond)
	require.Contains(t, outputs[1], "already handed to the agent")
	require.Len(t, cg.promptsSent(), 1, "one agent run per failure")
}

// TestSlashCommandFixWithoutCodegen: without CODEGEN_* the command says so plainly.
func TestSlashCommandFixWithoutCodegen(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.addFailedRun(803)
	const id = 910022
	e.comment("fix-unconfigured", id, e2eWriter, "User", "/ci fix")
	out := e.waitCommand(id)
	require.Equal(t, []string{"failed"}, out.Statuses)
	require.Contains(t, e.reply(id), "No AI fix agent is configured on this server")
	require.Equal(t, 0, countJobs(t, e.app, "failure_analysis"))
}

// TestFixPlanLimitAlertsThroughSlack: Codegen's 402 pauses agent runs and is told once through
// the real alert service (Slack on loopback); the pull request's comment says so too.
func TestFixPlanLimitAlertsThroughSlack(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.setRole("mona", "maintain")
	gh.addFailedRun(804)
	cg := newE2ECodegen(t)
	cg.planLimit = true
	slackFake := alertingtest.NewSlack(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.CodegenOrgID, cfg.CodegenToken, cfg.CodegenAPIURL = "7", "cg-e2e-token", cg.srv.URL
	cfg.CodegenPollInterval = 10 * time.Millisecond
	cfg.SlackWebhookURL = slackFake.URL()
	cfg.MonitoringEnabled = false // no scheduled health check: its alerts would reach the same fake
	e := &e2e{t: t, gh: gh, app: startApp(t, cfg, appOptions{})}

	const id = 910030
	e.comment("fix-plan-limit", id, "mona", "User", "/ci fix")
	require.Equal(t, []string{"done"}, e.waitCommand(id).Statuses)
	require.Eventually(t, func() bool { return len(slackFake.Posts()) == 1 }, 20*time.Second, 10*time.Millisecond)
	require.Contains(t, slackFake.Posts()[0].Text, "Codegen plan limit reached")
	require.Eventually(t, func() bool {
		for _, c := range gh.commentsOn(42) {
			if strings.Contains(c.Body, "<!-- autonomous-ci:failure-analysis -->") && strings.Contains(c.Body, "paused until") {
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond)
	cg.mu.Lock()
	posts := cg.posts
	cg.mu.Unlock()
	require.Equal(t, 1, posts, "no further agent run is tried while paused")
}

// TestFixVerifiedThroughWebhooksThenEscalated: with auto_fix on, a failed run's webhook hands
// the failure to the agent; the agent's fix PR's own failed runs, delivered as webhooks, resume
// the agent run twice and then escalate through Slack and Linear, with a comment on the
// original pull request.
func TestFixVerifiedThroughWebhooksThenEscalated(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	cg := newE2ECodegen(t)
	slackFake, linearFake := alertingtest.NewSlack(t), alertingtest.NewLinear(t)
	cfg := testConfig(t, withRepoConfig(t, gh, "auto_fix:\n  enabled: true\n"), workflowstest.SQLiteURL(t))
	cfg.CodegenOrgID, cfg.CodegenToken, cfg.CodegenAPIURL = "7", "cg-e2e-token", cg.srv.URL
	cfg.CodegenPollInterval = 10 * time.Millisecond
	cfg.SlackWebhookURL = slackFake.URL()
	cfg.MonitoringEnabled = false // no scheduled health check: its alerts would reach the same fake
	cfg.LinearAPIKey, cfg.LinearTeamID, cfg.LinearAPIURL = "lin_api_e2e", alertingtest.Team, linearFake.URL()
	app := startApp(t, cfg, appOptions{})
	sticky := func() string {
		for _, c := range gh.commentsOn(42) {
			if strings.Contains(c.Body, "<!-- autonomous-ci:failure-analysis -->") {
				return c.Body
			}
		}
		return ""
	}
	fixPR := "https://github.com/octo-org/hello-world/pull/43"

	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "fix-run-805", failedRun(t, 805, 1)))
	require.Eventually(t, func() bool { return strings.Contains(sticky(), fixPR) }, 20*time.Second, 10*time.Millisecond, "sticky: %s", sticky())
	require.Len(t, cg.promptsSent(), 1)
	require.Contains(t, cg.promptsSent()[0], "got \"hullo\", want \"hello\"")

	resumes := func() int {
		cg.mu.Lock()
		defer cg.mu.Unlock()
		return len(cg.resumes)
	}
	for i, run := range []int64{806, 807, 808} {
		gh.mu.Lock()
		if gh.runHeads == nil {
			gh.runHeads = map[int64]runHead{}
		}
		gh.runHeads[run] = runHead{Branch: "codegen-bot/greeting", PR: 43}
		gh.mu.Unlock()
		require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", fmt.Sprintf("fix-run-%d", run), failedRun(t, run, 1)))
		if i < 2 {
			want := i + 1
			// The resumed run finished (fix_pr again, one more attempt) before its PR's next run.
			require.Eventually(t, func() bool {
				fix, ok, err := app.store.AIFixByBranch(t.Context(), "octo-org", "hello-world", "codegen-bot/greeting")
				require.NoError(t, err)
				return ok && fix.State == "fix_pr" && fix.Attempts == want+1 && resumes() == want
			}, 20*time.Second, 10*time.Millisecond, "resume %d: %s", want, sticky())
		}
	}
	require.Eventually(t, func() bool { return len(slackFake.Posts()) == 1 && len(linearFake.Issues()) == 1 }, 30*time.Second, 10*time.Millisecond)
	require.Contains(t, slackFake.Posts()[0].Text, "AI fix of octo-org/hello-world#42 failed 3 times")
	require.Eventually(t, func() bool {
		for _, c := range gh.commentsOn(42) {
			if strings.Contains(c.Body, "The AI fix needs a person") {
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond)
	require.Contains(t, sticky(), "the fix kept failing")
	require.Len(t, cg.promptsSent(), 1, "the fix PR's failures never start a new agent run")
	require.Equal(t, 2, resumes())
}
