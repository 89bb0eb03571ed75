package monitor_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rcrowley/go-metrics"
	"github.com/stretchr/testify/require"

	dto "github.com/prometheus/client_model/go"

	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
)

func TestScore(t *testing.T) {
	t.Parallel()
	all := func(status monitor.Status) map[string]monitor.Status {
		m := map[string]monitor.Status{}
		for name := range monitor.Weights {
			m[name] = status
		}
		return m
	}
	with := func(base map[string]monitor.Status, changes ...any) map[string]monitor.Status {
		out := map[string]monitor.Status{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i+1 < len(changes); i += 2 {
			out[changes[i].(string)] = changes[i+1].(monitor.Status)
		}
		return out
	}
	healthy := all(monitor.Healthy)
	noIntegrations := with(healthy, monitor.ComponentCodegen, monitor.NotConfigured, monitor.ComponentSlack, monitor.NotConfigured, monitor.ComponentLinear, monitor.NotConfigured)
	cases := []struct {
		name       string
		components map[string]monitor.Status
		want       int
	}{
		{"all healthy", healthy, 100},
		{"all down", all(monitor.Down), 0},
		{"all degraded", all(monitor.Degraded), 50},
		{"nothing configured", all(monitor.NotConfigured), 100},
		{"unconfigured integrations do not count", noIntegrations, 100},
		{"slack degraded: 100 - 3/2", with(healthy, monitor.ComponentSlack, monitor.Degraded), 99}, // 98.5 rounds up
		{"resources degraded: 100 - 10/2", with(healthy, monitor.ComponentResources, monitor.Degraded), 95},
		{"workflows down", with(healthy, monitor.ComponentWorkflows, monitor.Down), 85},
		{"renormalised: workflows down of 90", with(noIntegrations, monitor.ComponentWorkflows, monitor.Down), 83}, // 75/90
		{"linear down of 93+3", with(noIntegrations, monitor.ComponentLinear, monitor.Down), 97},                   // 90/93
		{"github degraded", with(healthy, monitor.ComponentGitHub, monitor.Degraded), 90},
		{"github down is capped", with(healthy, monitor.ComponentGitHub, monitor.Down), monitor.CoreDownCap},
		{"database down is capped", with(healthy, monitor.ComponentDatabase, monitor.Down), monitor.CoreDownCap},
		{"river down and more: below the cap", with(all(monitor.Down), monitor.ComponentSlack, monitor.Healthy), 3},
	}
	sum := 0.0
	for _, w := range monitor.Weights {
		sum += w
	}
	require.Equal(t, 100.0, sum, "the weights are points out of 100")
	for _, tc := range cases {
		var comps []monitor.Component
		for name, status := range tc.components {
			comps = append(comps, monitor.Component{Name: name, Status: status})
		}
		require.Equal(t, tc.want, monitor.Score(comps), tc.name)
	}
	require.Equal(t, 100, monitor.Score(nil))
	require.Equal(t, 50, monitor.Score([]monitor.Component{{Name: "unknown", Status: monitor.Degraded}}), "an unknown component weighs 1")
	require.Equal(t, monitor.Down, monitor.Worst([]monitor.Component{{Status: monitor.Healthy}, {Status: monitor.Down}, {Status: monitor.Degraded}}))
	require.Equal(t, monitor.NotConfigured, monitor.Worst(nil))
}

func TestWritePrometheus(t *testing.T) {
	t.Parallel()
	reg := monitor.NewRegistry()
	monitor.WebhookOutcome(reg, "pull_request", 202)
	monitor.WebhookOutcome(reg, "pull_request", 202)
	monitor.WebhookOutcome(reg, "push", 400)
	monitor.WebhookOutcome(reg, "push", 503)
	monitor.WebhookOutcome(reg, "evil\nname{}", 401)
	monitor.WebhookOutcome(reg, "anything", 401)
	monitor.Count(reg, monitor.MetricRecoveryActions, 2)
	monitor.Count(reg, monitor.Labeled(monitor.MetricAlertsSent, "channel", "slack"), 1)
	monitor.Count(nil, monitor.MetricAlertsSent, 1) // a nil registry counts nothing, without a crash
	metrics.GetOrRegisterCounter("github.requests", reg).Inc(7)
	metrics.GetOrRegisterGauge("github.rate.remaining[installation:42]", reg).Update(4990)
	metrics.GetOrRegisterTimer("some.latency", reg).Update(250 * time.Millisecond)
	metrics.GetOrRegisterHistogram("some.sizes", reg, metrics.NewUniformSample(10)).Update(5)
	metrics.GetOrRegisterMeter("some.meter", reg).Mark(3)

	var buf bytes.Buffer
	err := monitor.WritePrometheus(&buf, monitor.Scrape{
		Registry: reg,
		Executions: workflows.Metrics{Counts: map[string]map[string]int{"failure_analysis": {"completed": 3, "discarded": 1}},
			QueueDepth: 2, SuccessRate: 0.75, ErrorRate: 0.25},
		Report: monitor.Report{Score: 85, CheckedAt: time.Now(), Components: []monitor.Component{
			{Name: "github", Status: monitor.Degraded}, {Name: "slack", Status: monitor.NotConfigured},
		}, Workflows: []workflows.KindStats{{Kind: "failure_analysis", Finished: 4, DurationP50MS: 100, DurationP95MS: 900, SuccessRate: 0.75}}},
	})
	require.NoError(t, err)
	text := buf.String()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err, text)

	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		fam, ok := fams[name]
		require.True(t, ok, "no %s in\n%s", name, text)
	next:
		for _, m := range fam.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch fam.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue()
			case dto.MetricType_SUMMARY:
				return m.GetSummary().GetSampleSum()
			}
		}
		t.Fatalf("no %s%v in\n%s", name, labels, text)
		return 0
	}
	require.Equal(t, 2.0, value("autonomous_webhooks", map[string]string{"event": "pull_request", "outcome": "accepted"}))
	require.Equal(t, 1.0, value("autonomous_webhooks", map[string]string{"event": "push", "outcome": "rejected"}))
	require.Equal(t, 1.0, value("autonomous_webhooks", map[string]string{"event": "push", "outcome": "failed"}))
	require.Equal(t, 2.0, value("autonomous_webhooks", map[string]string{"event": "unverified", "outcome": "rejected"}), "unverified events are one series")
	require.Equal(t, 2.0, value("autonomous_recovery_actions", nil))
	require.Equal(t, 1.0, value("autonomous_alerts_sent", map[string]string{"channel": "slack"}))
	require.Equal(t, 7.0, value("autonomous_github_requests", nil))
	require.Equal(t, 4990.0, value("autonomous_github_rate_remaining", map[string]string{"installation": "42"}))
	require.InDelta(t, 0.25, value("autonomous_some_latency_seconds", nil), 1e-9)
	require.Equal(t, 5.0, value("autonomous_some_sizes", nil))
	require.Equal(t, 3.0, value("autonomous_some_meter", nil))
	require.Equal(t, 3.0, value("autonomous_executions", map[string]string{"kind": "failure_analysis", "state": "completed"}))
	require.Equal(t, 2.0, value("autonomous_queue_depth", nil))
	require.Equal(t, 25.0, value("autonomous_error_rate_percent", nil))
	require.Equal(t, 900.0, value("autonomous_workflow_duration_p95_milliseconds", map[string]string{"kind": "failure_analysis"}))
	require.Equal(t, 85.0, value("autonomous_health_score", nil))
	require.Equal(t, 0.5, value("autonomous_health_component", map[string]string{"component": "github"}))
	require.Len(t, fams["autonomous_health_component"].GetMetric(), 1, "not configured components are left out")
	require.NotContains(t, text, "evil")
}
