package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestEscalationThroughSlackAndLinear runs the recovery manager and alerting together on the
// real wiring: a failure analysis whose GitHub answers 503 fails attempt after attempt; the third
// consecutive failure (ESCALATION_THRESHOLD=3) sends exactly one Slack message and files one
// Linear issue, the fourth comments on that issue and sends no new Slack message; once GitHub
// answers again and the analysis succeeds, one resolution message follows and the issue is closed.
func TestEscalationThroughSlackAndLinear(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	const path = "/repos/octo-org/hello-world/actions/runs/1740"
	gh.srv.Fail(ghapptest.Fault{Method: http.MethodGet, Path: path, Status: http.StatusServiceUnavailable,
		Body: `{"message":"unavailable"}`, Times: 4})
	slackFake, linearFake := alertingtest.NewSlack(t), alertingtest.NewLinear(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.SlackWebhookURL = slackFake.URL()
	cfg.LinearAPIKey, cfg.LinearTeamID, cfg.LinearAPIURL = "lin_api_e2e", alertingtest.Team, linearFake.URL()
	cfg.MonitoringEnabled = false // no scheduled health check: its alerts would reach the same fakes
	cfg.EscalationThreshold = 3
	cfg.WorkflowRetryDelay = 50 * time.Millisecond
	app := startApp(t, cfg, appOptions{})

	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "d-1740", failedRun(t, 1740, 1)))
	fp := "escalation:failure_analysis:octo-org/hello-world:integration_failure"
	require.Eventually(t, func() bool {
		recs, err := app.alerts.Recent(t.Context(), 10)
		require.NoError(t, err)
		for _, r := range recs {
			if r.Fingerprint == fp && r.State == "resolved" && len(linearFake.Comments()) >= 2 {
				return true
			}
		}
		return false
	}, 60*time.Second, 50*time.Millisecond, "the streak escalated, repeated and resolved")
	// Let every delivery job finish before counting.
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, app.store.DB.QueryRow(app.store.Rebind(`SELECT count(*) FROM river_job WHERE kind = ?
			AND state NOT IN ('completed', 'cancelled', 'discarded')`), alerting.Kind).Scan(&n))
		return n == 0
	}, 30*time.Second, 20*time.Millisecond)

	posts := slackFake.Posts()
	require.Len(t, posts, 2, "one escalation and one resolution message: %+v", posts)
	require.Contains(t, posts[1].Text, "Resolved")
	require.Len(t, linearFake.Issues(), 1, "one Linear issue for the streak")
	comments := linearFake.Comments()
	require.Len(t, comments, 2, "the fourth failure's comment, then the resolution's: %+v", comments)
	require.Contains(t, comments[0].Body, "4 consecutive failures")
	require.Equal(t, "completed", linearFake.Issues()[0].StateType, "closed once resolved")
}
