// Package healthcheck is the health_check workflow: it checks the database, River and the
// GitHub API and records the result; it runs as a River periodic job, so once per interval
// across all replicas.
package healthcheck

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// Args starts one health check; it carries no identifiers.
type Args struct {
	// Trigger is "schedule", "cli" or "api".
	Trigger string `json:"trigger,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.HealthCheck) }

// Build is the engine's builder for health_check.
func Build(_ workflows.Repo, _ workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	return Args{Trigger: "cli"}, nil, nil
}

// Component is the health of one component.
type Component struct {
	Name    string  `json:"name"`
	Healthy bool    `json:"healthy"`
	Detail  string  `json:"detail,omitempty"`
	Latency float64 `json:"latency_ms"`
}

// Report is a health check's result.
type Report struct {
	Healthy    bool        `json:"healthy"`
	Score      int         `json:"score"`
	Components []Component `json:"components"`
	CheckedAt  time.Time   `json:"checked_at"`
	// QueueDepth and OldestAvailableSeconds describe River's backlog.
	QueueDepth             int     `json:"queue_depth"`
	OldestAvailableSeconds float64 `json:"oldest_available_seconds"`
	// RateLimitRemaining is the GitHub API core rate limit left to the app, -1 when unknown.
	RateLimitRemaining int `json:"rate_limit_remaining"`
}

// Engine is what the check needs of the workflow engine.
type Engine interface {
	Running() bool
	Metrics(ctx context.Context) (workflows.Metrics, error)
	Store() *store.Store
}

// Checker runs the checks.
type Checker struct {
	Engine Engine
	// GitHub is nil when the app has no credentials yet.
	GitHub ghapp.Clients
	// RequireRunning is false for the CLI, which checks without starting River.
	RequireRunning bool
}

// Check runs every component check and computes the score: each component weighs the same.
func (c *Checker) Check(ctx context.Context) Report {
	r := Report{CheckedAt: time.Now().UTC(), RateLimitRemaining: -1}
	r.Components = append(r.Components, timed("database", func() (string, error) {
		st := c.Engine.Store()
		if err := st.DB.PingContext(ctx); err != nil {
			return "", fmt.Errorf("failed to reach the database: %w", err)
		}
		ok, err := st.MigrationsApplied(ctx)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("migrations are not applied: run autonomous init")
		}
		return string(st.Dialect) + ", migrated", nil
	}))
	r.Components = append(r.Components, timed("river", func() (string, error) {
		m, err := c.Engine.Metrics(ctx)
		if err != nil {
			return "", err
		}
		r.QueueDepth, r.OldestAvailableSeconds = m.QueueDepth, m.OldestAvailableSec
		if c.RequireRunning && !c.Engine.Running() {
			return "", fmt.Errorf("river is not running")
		}
		if m.OldestAvailableSec > 600 {
			return "", fmt.Errorf("%d jobs waiting, the oldest for %.0f s", m.QueueDepth, m.OldestAvailableSec)
		}
		return fmt.Sprintf("%d jobs waiting, oldest %.1f s", m.QueueDepth, m.OldestAvailableSec), nil
	}))
	r.Components = append(r.Components, timed("github", func() (string, error) {
		if c.GitHub == nil {
			return "", fmt.Errorf("no GitHub App credentials: open the setup page")
		}
		app, err := c.GitHub.App()
		if err != nil {
			return "", err
		}
		// GET /app — https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app
		me, resp, err := app.Apps.Get(ctx, "")
		if err != nil {
			return "", fmt.Errorf("failed to authenticate as the app: %w", err)
		}
		detail := "app " + me.GetSlug()
		if resp != nil && resp.Rate.Limit > 0 {
			r.RateLimitRemaining = resp.Rate.Remaining
			detail += fmt.Sprintf(", rate limit %d/%d", resp.Rate.Remaining, resp.Rate.Limit)
			if resp.Rate.Remaining < resp.Rate.Limit/20 {
				return "", fmt.Errorf("rate limit nearly exhausted: %d left", resp.Rate.Remaining)
			}
		}
		return detail, nil
	}))
	healthy := 0
	for _, comp := range r.Components {
		if comp.Healthy {
			healthy++
		}
	}
	r.Score = 100 * healthy / len(r.Components)
	r.Healthy = healthy == len(r.Components)
	return r
}

func timed(name string, check func() (string, error)) Component {
	start := time.Now()
	detail, err := check()
	c := Component{Name: name, Healthy: err == nil, Detail: detail, Latency: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		c.Detail = err.Error()
	}
	return c
}

// Worker runs health_check executions.
type Worker struct {
	river.WorkerDefaults[Args]
	Checker *Checker
}

// Work implements river.Worker. An unhealthy result is still a completed check: the output
// says what is wrong, and monitoring acts on it.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	report := w.Checker.Check(ctx)
	logger := zerolog.Ctx(ctx)
	ev := logger.Info()
	if !report.Healthy {
		ev = logger.Warn()
	}
	ev.Int("score", report.Score).Int("queue_depth", report.QueueDepth).Msg("Health check done")
	if err := river.RecordOutput(ctx, report); err != nil {
		return fmt.Errorf("failed to record health report: %w", err)
	}
	return nil
}

// Timeout implements river.Worker: a health check that takes a minute is itself the finding.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return time.Minute }

// Periodic is the schedule: every interval, run once across replicas by River's leader.
func Periodic(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return Args{Trigger: "schedule"}, nil
	}, &river.PeriodicJobOpts{ID: "health_check", RunOnStart: true})
}
