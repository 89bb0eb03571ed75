package dashboard_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/dashboard"
)

var at = time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)

type fakeExecutions struct {
	counts dashboard.ExecutionCounts
	recent []dashboard.ExecutionRow
	err    error
	limit  int
}

func (f *fakeExecutions) ExecutionCounts(context.Context) (dashboard.ExecutionCounts, error) {
	return f.counts, f.err
}

func (f *fakeExecutions) RecentExecutions(_ context.Context, limit int) ([]dashboard.ExecutionRow, error) {
	f.limit = limit
	return f.recent, f.err
}

func health() dashboard.HealthReport {
	return dashboard.HealthReport{Score: 83, Threshold: 70, Status: "degraded", CheckedAt: at, Components: []dashboard.Component{
		{Name: "database", Status: "healthy", Message: "sqlite, migrated", LatencyMS: 1.25},
		{Name: "slack", Status: "not_configured", Message: "SLACK_WEBHOOK_URL is not set"},
		{Name: "github", Status: "degraded", Message: "rate limit low", LatencyMS: 220,
			Values: []dashboard.Value{{Name: "rate limit remaining", Value: "120"}}},
	}, Workflows: []dashboard.WorkflowStats{
		{Kind: "failure_analysis", Finished: 40, SuccessRate: 0.925, ErrorRatePercent: 12.5, P50MS: 850, P95MS: 12_340},
	}}
}

func render(t *testing.T, opts dashboard.Options) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	dashboard.New(opts).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	resp := rec.Result()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func TestPageShowsEverySection(t *testing.T) {
	t.Parallel()
	finished := at.Add(time.Minute)
	execs := &fakeExecutions{
		counts: dashboard.ExecutionCounts{
			"failure_analysis": {"completed": 4, "discarded": 1, "retryable": 2},
			"health_check":     {"completed": 10, "weird_new_state": 1},
			"gone":             {"completed": 0},
		},
		recent: []dashboard.ExecutionRow{
			{ID: 42, Kind: "failure_analysis", State: "retryable", Repo: "octo/app", Attempt: 2, CreatedAt: at,
				LastError: "failed to list jobs: GET https://api.github.com/...: 502\nBad Gateway"},
			{ID: 41, Kind: "health_check", State: "completed", Attempt: 1, CreatedAt: at, FinishedAt: &finished},
		},
	}
	alerts := dashboard.AlertsFunc(func(_ context.Context, limit int) ([]dashboard.AlertRow, error) {
		require.Equal(t, 5, limit)
		return []dashboard.AlertRow{{At: at, Fingerprint: "health:github", Severity: "high", Title: "GitHub is <b>degraded</b>",
			Source: "monitor", State: "open", Delivery: "slack", Count: 3, IssueURL: "javascript:alert(1)"},
			{At: at, Fingerprint: "escalation:failure_analysis:octo/app:auth_error", Severity: "critical", Title: "Auth failing",
				Repo: "octo/app", State: "resolved", Delivery: "slack, linear", Count: 1, IssueURL: "https://linear.app/t/ENG-1"}}, nil
	})
	recoveries := dashboard.RecoveriesFunc(func(context.Context, int) ([]dashboard.RecoveryRow, error) {
		return []dashboard.RecoveryRow{{At: at, Kind: "failure_analysis", Repo: "octo/app", ExecutionID: 42, Class: "rate_limit",
			Action: "snooze", Reason: "rate limit resets at 10:00", Outcome: "succeeded"}}, nil
	})
	status, hdr, body := render(t, dashboard.Options{
		Health:     dashboard.HealthFunc(func(context.Context) (dashboard.HealthReport, error) { return health(), nil }),
		Executions: execs, Alerts: alerts, Recoveries: recoveries, Limit: 5, Version: "v1.2.3",
		LogoutToken: func(*http.Request) string { return "logout-csrf" },
	})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 5, execs.limit)
	require.Contains(t, hdr.Get("Content-Security-Policy"), "default-src 'none'")
	for _, want := range []string{
		`id="health-score">83</span>`, `id="health-status">degraded</span>`, "alert below 70", "checked 2026-12-02 09:30:00Z",
		"<td>database</td>", "sqlite, migrated", "1.2 ms", "not_configured", "SLACK_WEBHOOK_URL is not set",
		"<dt>rate limit remaining</dt><dd>120</dd>",
		// counts: known states in order, then unknown ones; kinds with nothing left out
		`retryable</span></th><th class="num"><span class="good">completed</span></th><th class="num"><span class="bad">discarded</span></th><th class="num"><span class="neutral">weird_new_state</span>`,
		"<td>failure_analysis</td><td class=\"num\">2</td><td class=\"num\">4</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">7</td>",
		`<a href="/riverui/jobs/42">42</a>`, `<a href="/riverui/jobs/41">41</a>`, "octo/app",
		"failed to list jobs: GET https://api.github.com/...: 502 Bad Gateway", "2026-12-02 09:31:00Z",
		"GitHub is &lt;b&gt;degraded&lt;/b&gt;", "health:github", "from monitor", `href="https://linear.app/t/ENG-1"`,
		"escalation:failure_analysis:octo/app:auth_error",
		"snooze", "rate limit resets at 10:00", `<a href="/riverui/jobs/42">#42</a>`, "rate_limit",
		`name="csrf" value="logout-csrf"`, "v1.2.3",
		`<td>failure_analysis</td><td class="num">40</td><td class="num">92.5 %</td><td class="num">12.5 %</td><td class="num">850 ms</td><td class="num">12.3 s</td>`,
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "<td>gone</td>")
	require.NotContains(t, body, "javascript:alert", "html/template neutralises unsafe URLs")
	require.NotContains(t, body, "<b>degraded</b>")
	require.NotContains(t, body, "No executions are recorded")
}

func TestPageWithoutSources(t *testing.T) {
	t.Parallel()
	status, _, body := render(t, dashboard.Options{})
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{"No health check is recorded", "No executions are recorded", "No alerts are recorded",
		"No recovery actions are recorded"} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, `id="health-score"`)
	require.NotContains(t, body, `action="/logout"`, "no logout form without a session")

	// Sources that answer with nothing say the same.
	status, _, body = render(t, dashboard.Options{
		Executions: &fakeExecutions{counts: dashboard.ExecutionCounts{}},
		Alerts:     dashboard.AlertsFunc(func(context.Context, int) ([]dashboard.AlertRow, error) { return nil, nil }),
		Recoveries: dashboard.RecoveriesFunc(func(context.Context, int) ([]dashboard.RecoveryRow, error) { return nil, nil }),
	})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 2, strings.Count(body, "No executions are recorded"))
	require.Contains(t, body, "No alerts are recorded")
	require.Contains(t, body, "No recovery actions are recorded")
}

func TestPageSurvivesFailingSources(t *testing.T) {
	t.Parallel()
	boom := errors.New("database is locked: SECRET-DSN")
	status, _, body := render(t, dashboard.Options{
		Health:     dashboard.HealthFunc(func(context.Context) (dashboard.HealthReport, error) { return dashboard.HealthReport{}, boom }),
		Executions: &fakeExecutions{err: boom},
		Alerts:     dashboard.AlertsFunc(func(context.Context, int) ([]dashboard.AlertRow, error) { return nil, boom }),
		Recoveries: dashboard.RecoveriesFunc(func(context.Context, int) ([]dashboard.RecoveryRow, error) {
			return []dashboard.RecoveryRow{{Action: "cleanup", Outcome: "succeeded", At: at}}, nil
		}),
	})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "The health report could not be read")
	require.Equal(t, 2, strings.Count(body, "The executions could not be read"))
	require.Contains(t, body, "The alerts could not be read")
	require.Contains(t, body, "cleanup", "the sections that answered are shown")
	require.NotContains(t, body, "SECRET-DSN", "errors go to the log, not the page")
}

func TestPageHonoursContextDeadline(t *testing.T) {
	t.Parallel()
	slow := dashboard.HealthFunc(func(ctx context.Context) (dashboard.HealthReport, error) {
		<-ctx.Done()
		return dashboard.HealthReport{}, ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	dashboard.New(dashboard.Options{Health: slow}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "The health report could not be read")
}
