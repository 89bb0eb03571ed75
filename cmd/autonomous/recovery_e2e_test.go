package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// recoveriesAnswer is GET /api/recoveries.
type recoveriesAnswer struct {
	Recoveries []recovery.Action `json:"recoveries"`
	Streaks    []recovery.Streak `json:"streaks"`
}

func getRecoveries(t *testing.T, app *App, token, query string) (int, recoveriesAnswer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, app.URL()+"/api/recoveries"+query, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out recoveriesAnswer
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(body, &out), string(body))
	}
	return resp.StatusCode, out
}

// TestRecoveryManagerOnTheRealWiring: a failure analysis whose run GitHub first answers with a
// rate limit is snoozed and then completes; one whose GitHub access is refused escalates at once
// (recorded as skipped, as no alerting is configured) and counts a streak; both are shown by
// /api/recoveries, which needs the token, and by autonomous status.
func TestRecoveryManagerOnTheRealWiring(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.srv.Fail(ghapptest.Fault{Method: http.MethodGet, Path: "/repos/octo-org/hello-world/actions/runs/1730",
		Status: http.StatusTooManyRequests, Headers: map[string]string{"Retry-After": "1"}, Body: `{"message":"slow down"}`, Times: 1})
	gh.srv.Fail(ghapptest.Fault{Method: http.MethodGet, Path: "/repos/octo-org/hello-world/actions/runs/1731",
		Status: http.StatusUnauthorized, Body: `{"message":"Bad credentials"}`})
	dbURL := workflowstest.SQLiteURL(t)
	app := startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{})

	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "rate-limited", failedRun(t, 1730, 1)))
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "refused", failedRun(t, 1731, 1)))

	code, _ := getRecoveries(t, app, "", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = getRecoveries(t, app, "admin-token", "?limit=nope")
	require.Equal(t, http.StatusBadRequest, code)

	var answer recoveriesAnswer
	has := func(action string, class recovery.Class) *recovery.Action {
		for i, a := range answer.Recoveries {
			if a.Action == action && a.Class == class && a.Kind == "failure_analysis" && a.Repo == "octo-org/hello-world" {
				return &answer.Recoveries[i]
			}
		}
		return nil
	}
	require.Eventually(t, func() bool {
		code, answer = getRecoveries(t, app, "admin-token", "?limit=100")
		return code == http.StatusOK && has(recovery.ActionSnooze, recovery.RateLimit) != nil && has(recovery.ActionEscalate, recovery.AuthError) != nil &&
			len(answer.Streaks) > 0
	}, 30*time.Second, 50*time.Millisecond, "%+v", answer)
	snooze := has(recovery.ActionSnooze, recovery.RateLimit)
	require.Equal(t, recovery.OutcomeOK, snooze.Outcome)
	require.InDelta(t, 1, snooze.Delay.Seconds(), 1)
	// Escalated through alerting: recorded there as not sent, no channel being configured.
	require.Equal(t, recovery.OutcomeOK, has(recovery.ActionEscalate, recovery.AuthError).Outcome)
	alerts, err := app.alerts.Recent(t.Context(), 10)
	require.NoError(t, err)
	require.NotEmpty(t, alerts)
	require.Equal(t, "escalation:failure_analysis:octo-org/hello-world:auth_error", alerts[0].Fingerprint)
	require.True(t, alerts[0].Escalated)
	require.NotEmpty(t, answer.Streaks)
	require.Equal(t, "escalation:failure_analysis:octo-org/hello-world:auth_error", answer.Streaks[0].Fingerprint)

	// The rate-limited analysis went through once the limit reset.
	var list []workflows.Execution
	require.Eventually(t, func() bool {
		var err error
		list, err = app.engine.List(t.Context(), listAll("failure_analysis", 10))
		require.NoError(t, err)
		for _, x := range list {
			if strings.Contains(string(x.Args), `"run_id":1730`) {
				return x.State == "completed"
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "%+v", list)

	// autonomous status shows the same actions.
	cfgPath := writeConfig(t, dbURL)
	code, out, errOut := runCLI(t, "", "status", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Recent recovery actions:")
	require.Contains(t, out, "escalate")
	require.Contains(t, out, "auth_error")
	require.Contains(t, out, "escalation:failure_analysis:octo-org/hello-world:auth_error", "the escalation reached alerting")
	code, out, errOut = runCLI(t, "", "status", "--json", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	var status struct {
		Recoveries []recovery.Action `json:"recoveries"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &status))
	require.NotEmpty(t, status.Recoveries)
}
