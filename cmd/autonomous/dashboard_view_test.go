package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/dashboard"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
)

func TestHealthViewFollowsTheReport(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	v := healthView(monitor.Report{
		Score: 64, Threshold: 70, Status: monitor.Degraded, CheckedAt: at,
		Components: []monitor.Component{
			{Name: "github", Status: monitor.Degraded, Message: "slow", LatencyMS: 6100,
				Values: map[string]any{"rate_limit_remaining": 4000, "latency_ms": 6100.5, "app": "autonomous-ci", "ok": true, "by_kind": map[string]int{"a": 1}}},
			{Name: "slack", Status: monitor.NotConfigured, Message: "SLACK_WEBHOOK_URL is not set"},
		},
		Workflows: []workflows.KindStats{{Kind: "health_check", Finished: 3, SuccessRate: 1, DurationP50MS: 12, DurationP95MS: 20}},
	})
	require.Equal(t, 64, v.Score)
	require.Equal(t, 70, v.Threshold)
	require.Equal(t, "degraded", v.Status)
	require.Equal(t, at, v.CheckedAt)
	require.Len(t, v.Components, 2)
	require.Equal(t, dashboard.Component{Name: "github", Status: "degraded", Message: "slow", LatencyMS: 6100, Values: []dashboard.Value{
		{Name: "app", Value: "autonomous-ci"}, {Name: "by kind", Value: `{"a":1}`}, {Name: "latency ms", Value: "6100.50"},
		{Name: "ok", Value: "true"}, {Name: "rate limit remaining", Value: "4000"},
	}}, v.Components[0])
	require.Equal(t, "not_configured", v.Components[1].Status)
	require.Empty(t, v.Components[1].Values)
	require.Equal(t, []dashboard.WorkflowStats{{Kind: "health_check", Finished: 3, SuccessRate: 1, P50MS: 12, P95MS: 20}}, v.Workflows)
}
