package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

func get(t *testing.T, url, authorization string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(body)
}

// TestMetricsEndpoints: /metrics refuses requests without ADMIN_TOKEN or METRICS_TOKEN and,
// with either, answers Prometheus text that parses and counts webhooks by event and outcome,
// executions by kind and state and the health score; /api/metrics has the same score and the
// seed's figures.
func TestMetricsEndpoints(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.MetricsToken = "scrape-token"
	cfg.AlertCPUPercent, cfg.AlertMemoryPercent = 100, 100 // the test machine may be busy
	app := startApp(t, cfg, appOptions{})

	ping := []byte(`{"zen":"Design for failure.","hook_id":1}`)
	require.Equal(t, http.StatusOK, deliver(t, app, "ping", "d-1", ping))
	require.Equal(t, http.StatusUnauthorized, deliverSigned(t, app.URL(), "ping", "d-2", ping, "sha256=00"))
	require.Equal(t, http.StatusBadRequest, deliver(t, app, "workflow_run", "d-3", []byte(`{"action":"completed","workflow_run":"x"}`)))

	for _, auth := range []string{"", "Bearer wrong", "scrape-token", "Basic c2NyYXBlLXRva2Vu"} {
		code, _, _ := get(t, app.URL()+"/metrics", auth)
		require.Equal(t, http.StatusUnauthorized, code, "authorization %q", auth)
	}
	// The scrape token opens /metrics only.
	code, _, _ := get(t, app.URL()+"/api/metrics", "Bearer scrape-token")
	require.Equal(t, http.StatusUnauthorized, code)

	for _, auth := range []string{"Bearer scrape-token", "Bearer admin-token"} {
		code, header, body := get(t, app.URL()+"/metrics", auth)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", header.Get("Content-Type"))
		parser := expfmt.NewTextParser(model.LegacyValidation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
		require.NoError(t, err, body)
		series := map[string]float64{}
		for name, fam := range fams {
			for _, m := range fam.GetMetric() {
				key := name
				for _, l := range m.GetLabel() {
					key += "," + l.GetName() + "=" + l.GetValue()
				}
				series[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
		require.Equal(t, 1.0, series["autonomous_webhooks,event=ping,outcome=accepted"], body)
		require.Equal(t, 1.0, series["autonomous_webhooks,event=unverified,outcome=rejected"], body)
		require.Equal(t, 1.0, series["autonomous_webhooks,event=workflow_run,outcome=rejected"], body)
		require.Contains(t, series, "autonomous_health_score")
		require.Contains(t, series, "autonomous_health_component,component=database")
		require.Contains(t, series, "autonomous_queue_depth")
		require.Contains(t, body, "autonomous_github_requests", "go-githubapp's client metrics are in the one registry")
	}

	code, _, body := get(t, app.URL()+"/api/metrics", "Bearer admin-token")
	require.Equal(t, http.StatusOK, code, body)
	var m struct {
		Counts           map[string]map[string]int `json:"counts"`
		SuccessRate      *float64                  `json:"success_rate"`
		ErrorRatePercent *float64                  `json:"error_rate_percent"`
		Durations        map[string]any            `json:"durations"`
		HealthScore      *int                      `json:"health_score"`
		Health           struct {
			Score      int
			Components []struct{ Name, Status string }
		} `json:"health"`
		Registry map[string]map[string]any `json:"registry"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	require.NotNil(t, m.SuccessRate)
	require.NotNil(t, m.ErrorRatePercent)
	require.NotNil(t, m.Durations)
	require.NotNil(t, m.HealthScore)
	require.Equal(t, m.Health.Score, *m.HealthScore)
	require.Len(t, m.Health.Components, 8)
	require.Contains(t, m.Registry, "webhooks[event:ping,outcome:accepted]")
}

// TestMetricsClosedWithoutTokens: with neither token configured /metrics is closed.
func TestMetricsClosedWithoutTokens(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.AdminToken = ""
	app := startApp(t, cfg, appOptions{})
	for _, auth := range []string{"", "Bearer ", "Bearer admin-token"} {
		code, _, body := get(t, app.URL()+"/metrics", auth)
		require.Equal(t, http.StatusForbidden, code, "authorization %q: closed, as the dashboard is", auth)
		require.Contains(t, string(body), "set METRICS_TOKEN")
	}
}
