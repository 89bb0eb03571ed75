// Package dashboard is the operators' page at "/": the health score and its components with
// their measured values, executions by kind and state, the recent executions (each linking to
// River UI), and the recent alerts and recovery actions. It is rendered on the server with
// html/template (no script), from sources behind small interfaces that speak the dashboard's
// own row types, so the packages that own the data need not know the page; a nil source shows
// its section as having nothing recorded. The page is guarded by dashboard/auth.
package dashboard

import (
	"context"
	"time"
)

// HealthReport is the bot's health as the page shows it.
type HealthReport struct {
	// Score is 0–100; Threshold is ALERT_HEALTH_SCORE, below which the score is an alert.
	Score     int
	Threshold int
	// Status sums it up: healthy, degraded or down.
	Status     string
	CheckedAt  time.Time
	Components []Component
	// Workflows is each kind's performance over its recent finished executions.
	Workflows []WorkflowStats
}

// WorkflowStats is one kind's performance.
type WorkflowStats struct {
	Kind     string
	Finished int
	// SuccessRate is in [0,1]; ErrorRatePercent is failed attempts per attempt, in percent.
	SuccessRate      float64
	ErrorRatePercent float64
	P50MS, P95MS     float64
}

// Component is one checked component.
type Component struct {
	Name string
	// Status is healthy, degraded, down or not_configured.
	Status    string
	Message   string
	LatencyMS float64
	// Values are the component's measurements, in the order shown.
	Values []Value
}

// Value is one named measurement, already formatted.
type Value struct {
	Name  string
	Value string
}

// ExecutionCounts maps kind → state → number of executions.
type ExecutionCounts map[string]map[string]int

// ExecutionRow is one workflow execution.
type ExecutionRow struct {
	ID         int64
	Kind       string
	State      string
	Repo       string
	Attempt    int
	CreatedAt  time.Time
	FinishedAt *time.Time
	// LastError is the last failed attempt's error, "" when none failed.
	LastError string
}

// AlertRow is one alert the bot raised.
type AlertRow struct {
	// At is when it was last seen.
	At          time.Time
	Fingerprint string
	Severity    string
	Title       string
	Repo        string
	Source      string
	// State is open or resolved; Delivery says where it went ("slack, linear", "not sent: …").
	State    string
	Delivery string
	// Count is how many times it was raised while open.
	Count int
	// IssueURL is its Linear issue, "" when none.
	IssueURL string
}

// RecoveryRow is one recovery action.
type RecoveryRow struct {
	At          time.Time
	Kind        string
	Repo        string
	ExecutionID int64
	// Class is the error class (timeout, rate_limit, …); Action what was done; Reason why;
	// Outcome how it went.
	Class   string
	Action  string
	Reason  string
	Outcome string
}

// Health gives the current health report.
type Health interface {
	Health(ctx context.Context) (HealthReport, error)
}

// Executions gives the execution counts and the most recent executions, newest first.
type Executions interface {
	ExecutionCounts(ctx context.Context) (ExecutionCounts, error)
	RecentExecutions(ctx context.Context, limit int) ([]ExecutionRow, error)
}

// Alerts gives the most recent alerts, newest first.
type Alerts interface {
	RecentAlerts(ctx context.Context, limit int) ([]AlertRow, error)
}

// Recoveries gives the most recent recovery actions, newest first.
type Recoveries interface {
	RecentRecoveries(ctx context.Context, limit int) ([]RecoveryRow, error)
}

// HealthFunc adapts a function to Health.
type HealthFunc func(ctx context.Context) (HealthReport, error)

// Health calls f.
func (f HealthFunc) Health(ctx context.Context) (HealthReport, error) { return f(ctx) }

// AlertsFunc adapts a function to Alerts.
type AlertsFunc func(ctx context.Context, limit int) ([]AlertRow, error)

// RecentAlerts calls f.
func (f AlertsFunc) RecentAlerts(ctx context.Context, limit int) ([]AlertRow, error) {
	return f(ctx, limit)
}

// RecoveriesFunc adapts a function to Recoveries.
type RecoveriesFunc func(ctx context.Context, limit int) ([]RecoveryRow, error)

// RecentRecoveries calls f.
func (f RecoveriesFunc) RecentRecoveries(ctx context.Context, limit int) ([]RecoveryRow, error) {
	return f(ctx, limit)
}
