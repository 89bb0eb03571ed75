package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/contexten/autonomous/dashboard"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
)

// dashboardHealthTTL is how long the dashboard reuses a health report: page reloads and open
// tabs do not each run the checks (which call GitHub).
const dashboardHealthTTL = 15 * time.Second

// newDashboard is the page at "/" once the app is configured, over the engine's executions and
// the monitor's health report. Alerts and recovery actions are read through
// dashboard.AlertsFunc / dashboard.RecoveriesFunc adapters over their services' Recent.
func (a *App) newDashboard() http.Handler {
	threshold := int(a.cfg.AlertHealthScore)
	return dashboard.New(dashboard.Options{
		Health: &dashboard.CachedHealth{TTL: dashboardHealthTTL, Source: dashboard.HealthFunc(
			func(ctx context.Context) (dashboard.HealthReport, error) {
				return healthView(a.checker.Check(ctx), threshold), nil
			})},
		Executions:  engineExecutions{a.engine},
		RiverUI:     "/riverui",
		LogoutToken: a.guard.LogoutToken,
		Version:     version,
	})
}

// healthView is the dashboard's view of a monitor report: the one function that follows
// monitor.Report's shape.
func healthView(r monitor.Report, threshold int) dashboard.HealthReport {
	v := dashboard.HealthReport{Score: r.Score, Threshold: threshold, CheckedAt: r.CheckedAt, Status: "healthy"}
	switch {
	case !r.Healthy && r.Score < threshold:
		v.Status = "down"
	case !r.Healthy:
		v.Status = "degraded"
	}
	for _, c := range r.Components {
		comp := dashboard.Component{Name: c.Name, Status: "healthy", Message: c.Detail, LatencyMS: c.Latency}
		if !c.Healthy {
			comp.Status = "down"
		}
		switch c.Name {
		case "river":
			comp.Values = []dashboard.Value{
				{Name: "queue depth", Value: fmt.Sprint(r.QueueDepth)},
				{Name: "oldest available", Value: fmt.Sprintf("%.1f s", r.OldestAvailableSeconds)},
			}
		case "github":
			if r.RateLimitRemaining >= 0 {
				comp.Values = []dashboard.Value{{Name: "rate limit remaining", Value: fmt.Sprint(r.RateLimitRemaining)}}
			}
		}
		v.Components = append(v.Components, comp)
	}
	return v
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
