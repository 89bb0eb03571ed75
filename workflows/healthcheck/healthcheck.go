// Package healthcheck is the health_check workflow: it runs monitor's checks, records the
// report, raises an alert per degraded or down component and resolves it once the component
// recovers (alert_on_degradation), and hands an unhealthy report to the healer
// (auto_recovery). It runs as a River periodic job, so once per interval across all replicas.
package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/workflows"
)

// Args starts one health check; it carries no identifiers. The switches are negative so that
// the zero value (the schedule's, and jobs stored before they existed) is the default: check
// everything, alert, recover.
type Args struct {
	// Trigger is "schedule", "cli" or "api".
	Trigger string `json:"trigger,omitempty"`
	// CoreOnly checks the database, River and GitHub only (check_all_integrations=false).
	CoreOnly bool `json:"core_only,omitempty"`
	// NoAlerts raises and resolves no alert (alert_on_degradation=false).
	NoAlerts bool `json:"no_alerts,omitempty"`
	// NoRecovery does not call the healer (auto_recovery=false).
	NoRecovery bool `json:"no_recovery,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.HealthCheck) }

// Build is the engine's builder for health_check.
func Build(_ workflows.Repo, p workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	return Args{
		Trigger:    "cli",
		CoreOnly:   !p.Bool("check_all_integrations", true),
		NoAlerts:   !p.Bool("alert_on_degradation", true),
		NoRecovery: !p.Bool("auto_recovery", true),
	}, nil, nil
}

// Alerter raises and clears alerts (alerting.Notifier).
type Alerter interface {
	Raise(ctx context.Context, a alerting.Alert) error
	Resolve(ctx context.Context, fingerprint, text string) error
}

// Healer acts on an unhealthy report (package recovery implements it).
type Healer interface {
	Heal(ctx context.Context, r monitor.Report) error
}

// Worker runs health_check executions.
type Worker struct {
	river.WorkerDefaults[Args]
	Checker *monitor.Checker
	// Alerts and Healer are optional: nil raises no alert and heals nothing.
	Alerts Alerter
	Healer Healer
}

// Output is what a health check records: the report and what it did about it.
type Output struct {
	monitor.Report
	// Raised and Resolved are the alert fingerprints raised and resolved.
	Raised   []string `json:"alerts_raised,omitempty"`
	Resolved []string `json:"alerts_resolved,omitempty"`
	// Healed is true when the healer was called.
	Healed bool `json:"healed,omitempty"`
}

// Fingerprint is the alert fingerprint of a component's health.
func Fingerprint(component string) string { return "health:" + component }

// Work implements river.Worker. An unhealthy result is still a completed check: the output
// says what is wrong, alerts tell people and the healer acts on it. A failure to raise or
// resolve an alert or to heal fails the attempt, and River retries it (alerts are deduplicated
// by fingerprint, so a retry raises nothing twice).
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	report := w.Checker.Run(ctx, monitor.Options{CoreOnly: job.Args.CoreOnly})
	logger := zerolog.Ctx(ctx)
	ev := logger.Info()
	if !report.Healthy {
		ev = logger.Warn()
	}
	ev.Int("score", report.Score).Str("status", string(report.Status)).Int("queue_depth", report.QueueDepth).Msg("Health check done")

	out := Output{Report: report}
	var errs []error
	if !job.Args.NoAlerts && w.Alerts != nil {
		raised, resolved, err := w.alert(ctx, report)
		out.Raised, out.Resolved = raised, resolved
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !job.Args.NoRecovery && w.Healer != nil && report.Status != monitor.Healthy {
		out.Healed = true
		if err := w.Healer.Heal(ctx, report); err != nil {
			errs = append(errs, fmt.Errorf("failed to heal: %w", err))
		}
	}
	if err := river.RecordOutput(ctx, out); err != nil {
		errs = append(errs, fmt.Errorf("failed to record health report: %w", err))
	}
	return recovery.Decide(errors.Join(errs...))
}

// alert raises one alert per degraded or down component and resolves the others' (a
// component that is now healthy or no longer configured); only the components checked.
func (w *Worker) alert(ctx context.Context, r monitor.Report) (raised, resolved []string, err error) {
	var errs []error
	for _, c := range r.Components {
		fp := Fingerprint(c.Name)
		if c.OK() {
			text := fmt.Sprintf("%s is %s again: %s", c.Name, c.Status, c.Message)
			if err := w.Alerts.Resolve(ctx, fp, text); err != nil {
				errs = append(errs, fmt.Errorf("failed to resolve %s: %w", fp, err))
				continue
			}
			resolved = append(resolved, fp)
			continue
		}
		if err := w.Alerts.Raise(ctx, componentAlert(c, r)); err != nil {
			errs = append(errs, fmt.Errorf("failed to raise %s: %w", fp, err))
			continue
		}
		raised = append(raised, fp)
	}
	return raised, resolved, errors.Join(errs...)
}

// componentAlert describes a degraded or down component: down is high severity (critical for
// the database, without which nothing works), degraded medium.
func componentAlert(c monitor.Component, r monitor.Report) alerting.Alert {
	sev := alerting.Medium
	if c.Status == monitor.Down {
		sev = alerting.High
		if c.Name == monitor.ComponentDatabase {
			sev = alerting.Critical
		}
	}
	fields := []alerting.Field{
		{Name: "Status", Value: string(c.Status)},
		{Name: "Health score", Value: fmt.Sprintf("%d (threshold %g)", r.Score, r.Threshold)},
	}
	keys := make([]string, 0, len(c.Values))
	for k := range c.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := c.Values[k].(type) {
		case string, bool, int, int64, uint64:
			fields = append(fields, alerting.Field{Name: k, Value: fmt.Sprint(v)})
		case float64:
			fields = append(fields, alerting.Field{Name: k, Value: fmt.Sprintf("%.1f", v)})
		}
	}
	return alerting.Alert{
		Fingerprint: Fingerprint(c.Name),
		Severity:    sev,
		Title:       fmt.Sprintf("%s is %s", displayName(c.Name), c.Status),
		Text:        c.Message,
		Fields:      fields,
		Source:      "monitor",
	}
}

// displayNames are the components as people write them.
var displayNames = map[string]string{
	monitor.ComponentDatabase: "The database", monitor.ComponentRiver: "River", monitor.ComponentGitHub: "GitHub",
	monitor.ComponentWorkflows: "Workflow performance", monitor.ComponentResources: "The machine's resources",
	monitor.ComponentCodegen: "Codegen", monitor.ComponentSlack: "Slack", monitor.ComponentLinear: "Linear",
}

func displayName(component string) string {
	if n, ok := displayNames[component]; ok {
		return n
	}
	if component == "" {
		return component
	}
	return strings.ToUpper(component[:1]) + component[1:]
}

// Timeout implements river.Worker: a health check that takes a minute is itself the finding.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return time.Minute }

// Periodic is the schedule: every interval, run once across replicas by River's leader.
func Periodic(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return Args{Trigger: "schedule"}, nil
	}, &river.PeriodicJobOpts{ID: "health_check", RunOnStart: true})
}
