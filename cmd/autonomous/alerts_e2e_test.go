package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestAlertsEndToEnd runs the real wiring with Slack and Linear on loopback: an escalation
// survives a Slack outage and is delivered once with one Linear issue, its repeat only comments,
// its resolution is told once and closes the issue; GET /api/alerts (behind the token), the
// alerts.sent counters and `autonomous status` show it.
func TestAlertsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			testAlertsEndToEnd(t, db.URL)
		})
	}
}

func testAlertsEndToEnd(t *testing.T, dbURL string) {
	gh := newFakeGitHub(t)
	slackFake, linearFake := alertingtest.NewSlack(t), alertingtest.NewLinear(t)
	cfg := testConfig(t, gh.APIURL(), dbURL)
	cfg.SlackWebhookURL = slackFake.URL()
	cfg.LinearAPIKey, cfg.LinearTeamID, cfg.LinearAPIURL = "lin_api_e2e", alertingtest.Team, linearFake.URL()
	cfg.MonitoringEnabled = false // no scheduled health check: its alerts would reach the same fakes
	app := startApp(t, cfg, appOptions{})
	ctx := context.Background()
	settle := func() {
		t.Helper()
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, app.store.DB.QueryRow(app.store.Rebind(`SELECT count(*) FROM river_job WHERE kind = ?
				AND state NOT IN ('completed', 'cancelled', 'discarded')`), alerting.Kind).Scan(&n))
			return n == 0
		}, 30*time.Second, 10*time.Millisecond)
	}

	fp := "escalation:failure_analysis:octo/app:auth_error"
	esc := alerting.Alert{Fingerprint: fp, Severity: alerting.Critical, Title: "Failure analysis cannot authenticate",
		Text: "GitHub answered 401 three times", Repo: "octo/app", Source: "recovery", Escalate: true}
	slackFake.Fail(alertingtest.Fault{Status: http.StatusInternalServerError}, alertingtest.Fault{Status: http.StatusBadGateway})
	require.NoError(t, app.alerts.Raise(ctx, esc))
	settle()
	require.Len(t, slackFake.Posts(), 1)
	require.Equal(t, 3, slackFake.Tries())
	require.Len(t, linearFake.Issues(), 1)

	require.NoError(t, app.alerts.Raise(ctx, esc))
	settle()
	require.Len(t, slackFake.Posts(), 1, "a repeat of an open escalation sends no new Slack message")
	require.Len(t, linearFake.Comments(), 1)

	require.NoError(t, app.alerts.Resolve(ctx, fp, "authenticated again"))
	settle()
	require.Len(t, slackFake.Posts(), 2)
	require.Contains(t, slackFake.Posts()[1].Text, "Resolved")
	require.Equal(t, "completed", linearFake.Issues()[0].StateType)

	get := func(path, token string) (int, []byte) {
		req, err := http.NewRequest(http.MethodGet, app.URL()+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	code, _ := get("/api/alerts", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = get("/api/alerts", "wrong")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body := get("/api/alerts?limit=5", "admin-token")
	require.Equal(t, http.StatusOK, code)
	var listed struct {
		Alerts []alerting.Record `json:"alerts"`
	}
	require.NoError(t, json.Unmarshal(body, &listed))
	require.Len(t, listed.Alerts, 1)
	got := listed.Alerts[0]
	require.Equal(t, fp, got.Fingerprint)
	require.Equal(t, "resolved", got.State)
	require.Equal(t, int64(2), got.Occurrences)
	require.True(t, got.Escalated)
	require.Equal(t, "https://linear.test/issue/ENG-1", got.LinearIssueURL)
	require.Contains(t, got.Delivery, "resolved; slack: sent; linear comment: sent; linear close: sent (closed ENG-1)")

	code, body = get("/api/metrics", "admin-token")
	require.Equal(t, http.StatusOK, code)
	var m struct {
		Registry map[string]map[string]any `json:"registry"`
	}
	require.NoError(t, json.Unmarshal(body, &m))
	require.EqualValues(t, 2, m.Registry["alerts.sent[channel:slack]"]["count"])
	require.EqualValues(t, 4, m.Registry["alerts.sent[channel:linear]"]["count"])

	// `autonomous status` reads the same table.
	cfgPath := writeConfig(t, dbURL)
	exit, out, errOut := runCLI(t, "", "status", "--json", "--config", cfgPath)
	require.Equal(t, 0, exit, errOut)
	var status struct {
		Alerts []alerting.Record `json:"alerts"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &status))
	require.Len(t, status.Alerts, 1)
	require.Equal(t, fp, status.Alerts[0].Fingerprint)
	exit, out, _ = runCLI(t, "", "status", "--config", cfgPath)
	require.Equal(t, 0, exit)
	require.Contains(t, out, "Recent alerts: 1")
	require.Contains(t, out, fp)
}

// TestAlertsWithoutChannelsAreRecorded: with neither Slack nor Linear configured an alert is
// recorded, shown, and sends nothing.
func TestAlertsWithoutChannelsAreRecorded(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})
	require.NoError(t, app.alerts.Raise(context.Background(), alerting.Alert{Fingerprint: "health:github", Title: "GitHub is down", Source: "monitor"}))
	recs, err := app.alerts.Recent(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, alerting.NotSentNoChannel, recs[0].Delivery)
	require.Equal(t, 0, countJobs(t, app, alerting.Kind))
	require.ErrorIs(t, app.alerts.Raise(context.Background(), alerting.Alert{Fingerprint: "Health GitHub", Title: "x"}), alerting.ErrInvalidAlert)
}
