package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/contexten/autonomous/dashboard"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
)

// newDashboard is the page at "/" once the app is configured, over the engine's executions and
// the monitor's latest health report. Alerts and recovery actions are read through
// dashboard.AlertsFunc / dashboard.RecoveriesFunc adapters over their services' Recent.
func (a *App) newDashboard() http.Handler {
	return dashboard.New(dashboard.Options{
		Health: dashboard.HealthFunc(func(ctx context.Context) (dashboard.HealthReport, error) {
			return healthView(a.latestHealth(ctx)), nil
		}),
		Executions: engineExecutions{a.engine},
		Alerts: dashboard.AlertsFunc(func(ctx context.Context, limit int) ([]dashboard.AlertRow, error) {
			recs, err := a.alerts.Recent(ctx, limit)
			if err != nil {
				return nil, err
			}
			rows := make([]dashboard.AlertRow, 0, len(recs))
			for _, r := range recs {
				rows = append(rows, dashboard.AlertRow{At: r.LastSeen, Fingerprint: r.Fingerprint, Severity: string(r.Severity),
					Title: r.Title, Repo: r.Repo, Source: r.Source, State: r.State, Delivery: r.Delivery,
					Count: int(r.Occurrences), IssueURL: r.LinearIssueURL})
			}
			return rows, nil
		}),
		Recoveries: dashboard.RecoveriesFunc(func(ctx context.Context, limit int) ([]dashboard.RecoveryRow, error) {
			acts, err := a.recovery.Recent(ctx, limit)
			if err != nil {
				return nil, err
			}
			rows := make([]dashboard.RecoveryRow, 0, len(acts))
			for _, x := range acts {
				rows = append(rows, dashboard.RecoveryRow{At: x.At, Kind: x.Kind, Repo: x.Repo, ExecutionID: x.JobID,
					Class: string(x.Class), Action: x.Action, Reason: x.Reason, Outcome: x.Outcome})
			}
			return rows, nil
		}),
		RiverUI:     "/riverui",
		LogoutToken: a.guard.LogoutToken,
		Version:     version,
	})
}

// healthView is the dashboard's view of a monitor report: the one function that follows
// monitor.Report's shape.
func healthView(r monitor.Report) dashboard.HealthReport {
	v := dashboard.HealthReport{Score: r.Score, Threshold: int(r.Threshold), Status: string(r.Status), CheckedAt: r.CheckedAt}
	for _, c := range r.Components {
		v.Components = append(v.Components, dashboard.Component{
			Name: c.Name, Status: string(c.Status), Message: c.Message, LatencyMS: c.LatencyMS, Values: dashboardValues(c.Values),
		})
	}
	for _, k := range r.Workflows {
		v.Workflows = append(v.Workflows, dashboard.WorkflowStats{
			Kind: k.Kind, Finished: k.Finished, SuccessRate: k.SuccessRate, ErrorRatePercent: k.ErrorRatePercent,
			P50MS: k.DurationP50MS, P95MS: k.DurationP95MS,
		})
	}
	return v
}

// dashboardValues formats a component's measurements, sorted by name.
func dashboardValues(values map[string]any) []dashboard.Value {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]dashboard.Value, 0, len(names))
	for _, name := range names {
		var text string
		switch v := values[name].(type) {
		case float64:
			text = strconv.FormatFloat(v, 'f', -1, 64)
			if v != float64(int64(v)) {
				text = strconv.FormatFloat(v, 'f', 2, 64)
			}
		case float32:
			text = strconv.FormatFloat(float64(v), 'f', 2, 32)
		case string, bool, int, int64, int32, uint64:
			text = fmt.Sprint(v)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				text = fmt.Sprint(v)
			} else {
				text = string(b)
			}
		}
		out = append(out, dashboard.Value{Name: strings.ReplaceAll(name, "_", " "), Value: text})
	}
	return out
}

// engineExecutions reads the dashboard's executions from the engine.
type engineExecutions struct{ engine *workflows.Engine }

// ExecutionCounts are the engine's counts by kind and state.
func (e engineExecutions) ExecutionCounts(ctx context.Context) (dashboard.ExecutionCounts, error) {
	m, err := e.engine.Metrics(ctx)
	if err != nil {
		return nil, err
	}
	return m.Counts, nil
}

// RecentExecutions are the newest executions with their last error.
func (e engineExecutions) RecentExecutions(ctx context.Context, limit int) ([]dashboard.ExecutionRow, error) {
	list, err := e.engine.List(ctx, workflows.ListFilter{Limit: limit})
	if err != nil {
		return nil, err
	}
	rows := make([]dashboard.ExecutionRow, 0, len(list))
	for _, x := range list {
		row := dashboard.ExecutionRow{ID: x.ID, Kind: x.Kind, State: x.State, Repo: x.Repo, Attempt: x.Attempt,
			CreatedAt: x.CreatedAt, FinishedAt: x.FinishedAt}
		if n := len(x.Errors); n > 0 {
			row.LastError = x.Errors[n-1]
		}
		rows = append(rows, row)
	}
	return rows, nil
}
