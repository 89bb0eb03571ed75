package monitor

import (
	"fmt"
	"io"
	"sort"

	"github.com/prometheus/common/expfmt"
	"github.com/rcrowley/go-metrics"
	"google.golang.org/protobuf/proto"

	dto "github.com/prometheus/client_model/go"

	"github.com/contexten/autonomous/workflows"
)

// Scrape is what one /metrics answer shows: the registry, River's executions and the last
// health report.
type Scrape struct {
	Registry   metrics.Registry
	Executions workflows.Metrics
	Report     Report
}

// summaryQuantiles are the quantiles of histograms and timers.
var summaryQuantiles = []float64{0.5, 0.95, 0.99}

// families collects metric families by name.
type families map[string]*dto.MetricFamily

func (f families) add(name, help string, typ dto.MetricType, labels map[string]string, m *dto.Metric) {
	fam, ok := f[name]
	if !ok {
		fam = &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: typ.Enum()}
		f[name] = fam
	}
	if fam.GetType() != typ {
		return // the same sanitised name with another type: keep the first
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(k), Value: proto.String(labels[k])})
	}
	fam.Metric = append(fam.Metric, m)
}

func gauge(v float64) *dto.Metric { return &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}} }
func counter(v float64) *dto.Metric {
	return &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(v)}}
}

func summary(count int64, sum float64, quantiles []float64, scale float64) *dto.Metric {
	s := &dto.Summary{SampleCount: proto.Uint64(uint64(max(count, 0))), SampleSum: proto.Float64(sum * scale)}
	for i, q := range summaryQuantiles {
		s.Quantile = append(s.Quantile, &dto.Quantile{Quantile: proto.Float64(q), Value: proto.Float64(quantiles[i] * scale)})
	}
	return &dto.Metric{Summary: s}
}

// WritePrometheus writes s in the Prometheus text exposition format (version 0.0.4). Registry
// names become "autonomous_<name>" with every character outside [a-zA-Z0-9_] replaced by "_"
// and go-githubapp's "[key:value]" suffixes as labels; counters are counters, gauges gauges,
// meters counters of their count, histograms summaries and timers summaries in seconds. At
// scrape time it adds executions by kind and state, per-kind success rate and duration
// percentiles, and the health score and component statuses.
func WritePrometheus(w io.Writer, s Scrape) error {
	f := families{}
	if s.Registry != nil {
		for _, full := range sortedNames(s.Registry) {
			base, labels := splitName(full)
			name := sanitizeName(base)
			help := "go-metrics " + base
			switch m := s.Registry.Get(full).(type) {
			case metrics.Counter:
				f.add(name, help, dto.MetricType_COUNTER, labels, counter(float64(m.Snapshot().Count())))
			case metrics.Gauge:
				f.add(name, help, dto.MetricType_GAUGE, labels, gauge(float64(m.Snapshot().Value())))
			case metrics.GaugeFloat64:
				f.add(name, help, dto.MetricType_GAUGE, labels, gauge(m.Snapshot().Value()))
			case metrics.Meter:
				f.add(name, help, dto.MetricType_COUNTER, labels, counter(float64(m.Snapshot().Count())))
			case metrics.Histogram:
				h := m.Snapshot()
				f.add(name, help, dto.MetricType_SUMMARY, labels, summary(h.Count(), float64(h.Sum()), h.Percentiles(summaryQuantiles), 1))
			case metrics.Timer:
				t := m.Snapshot()
				f.add(name+"_seconds", help+" (seconds)", dto.MetricType_SUMMARY, labels, summary(t.Count(), float64(t.Sum()), t.Percentiles(summaryQuantiles), 1e-9))
			}
		}
	}

	for kind, states := range s.Executions.Counts {
		for state, n := range states {
			f.add("autonomous_executions", "Workflow executions in River's job table by kind and state.", dto.MetricType_GAUGE,
				map[string]string{"kind": kind, "state": state}, gauge(float64(n)))
		}
	}
	f.add("autonomous_queue_depth", "Executions available to run now.", dto.MetricType_GAUGE, nil, gauge(float64(s.Executions.QueueDepth)))
	f.add("autonomous_queue_oldest_available_seconds", "How long the oldest available execution has waited.", dto.MetricType_GAUGE, nil,
		gauge(s.Executions.OldestAvailableSec))
	f.add("autonomous_success_rate", "Completed share of the last finished executions, 0-1.", dto.MetricType_GAUGE, nil, gauge(s.Executions.SuccessRate))
	f.add("autonomous_error_rate_percent", "Failed attempts among the last finished executions' attempts, in percent.", dto.MetricType_GAUGE, nil,
		gauge(100*s.Executions.ErrorRate))
	for _, k := range s.Report.Workflows {
		if k.Finished == 0 {
			continue
		}
		labels := map[string]string{"kind": k.Kind}
		f.add("autonomous_workflow_duration_p50_milliseconds", "Median duration of the kind's last finished executions.", dto.MetricType_GAUGE, labels, gauge(k.DurationP50MS))
		f.add("autonomous_workflow_duration_p95_milliseconds", "95th percentile duration of the kind's last finished executions.", dto.MetricType_GAUGE, labels, gauge(k.DurationP95MS))
		f.add("autonomous_workflow_success_rate", "Completed share of the kind's last finished executions, 0-1.", dto.MetricType_GAUGE, labels, gauge(k.SuccessRate))
		f.add("autonomous_workflow_error_rate_percent", "Failed attempts among the kind's last finished executions' attempts, in percent.", dto.MetricType_GAUGE, labels, gauge(k.ErrorRatePercent))
	}
	if !s.Report.CheckedAt.IsZero() {
		f.add("autonomous_health_score", "Health score 0-100 (monitor.Score).", dto.MetricType_GAUGE, nil, gauge(float64(s.Report.Score)))
		for _, c := range s.Report.Components {
			if c.Status == NotConfigured {
				continue
			}
			f.add("autonomous_health_component", "Component status: 1 healthy, 0.5 degraded, 0 down.", dto.MetricType_GAUGE,
				map[string]string{"component": c.Name}, gauge(credit(c.Status)))
		}
	}

	names := make([]string, 0, len(f))
	for name := range f {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := expfmt.MetricFamilyToText(w, f[name]); err != nil {
			return fmt.Errorf("failed to write metric %s: %w", name, err)
		}
	}
	return nil
}
