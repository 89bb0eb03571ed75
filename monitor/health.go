// Package monitor is the bot's view of its own health: the component checks (database, River,
// the GitHub API) behind both /readyz and the health_check workflow, one implementation each,
// and the go-metrics registry that go-githubapp's client middleware fills and /api/metrics
// serves.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rcrowley/go-metrics"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// ErrUnreachable and ErrNotMigrated are what Database finds wrong.
var (
	ErrUnreachable = errors.New("database unreachable")
	ErrNotMigrated = errors.New("migrations are not applied: run autonomous init")
	// ErrNotRunning is what River finds wrong.
	ErrNotRunning = errors.New("river is not running")
)

// Database checks that the database answers and its migrations are applied; the error wraps
// ErrUnreachable or ErrNotMigrated.
func Database(ctx context.Context, st *store.Store) error {
	if err := st.DB.PingContext(ctx); err != nil {
		return &checkError{msg: "failed to reach the database", is: ErrUnreachable, err: err}
	}
	ok, err := st.MigrationsApplied(ctx)
	if err != nil {
		return &checkError{msg: "failed to read the migrations", is: ErrNotMigrated, err: err}
	}
	if !ok {
		return ErrNotMigrated
	}
	return nil
}

// checkError is a check's finding (is) with its cause.
type checkError struct {
	msg     string
	is, err error
}

func (e *checkError) Error() string        { return e.msg + ": " + e.err.Error() }
func (e *checkError) Is(target error) bool { return target == e.is }
func (e *checkError) Unwrap() error        { return e.err }

// River checks that the engine works jobs.
func River(e interface{ Running() bool }) error {
	if !e.Running() {
		return ErrNotRunning
	}
	return nil
}

// NewRegistry creates the process's one go-metrics registry: the GitHub clients' middleware
// fills it (ghapp.NewClientCreator) and Snapshot serves it.
func NewRegistry() metrics.Registry { return metrics.NewRegistry() }

// Snapshot is the registry's metrics by name, as JSON-ready values.
func Snapshot(registry metrics.Registry) map[string]map[string]any {
	if registry == nil {
		return map[string]map[string]any{}
	}
	return registry.GetAll()
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
		if err := Database(ctx, st); err != nil {
			return "", err
		}
		return string(st.Dialect) + ", migrated", nil
	}))
	r.Components = append(r.Components, timed("river", func() (string, error) {
		m, err := c.Engine.Metrics(ctx)
		if err != nil {
			return "", err
		}
		r.QueueDepth, r.OldestAvailableSeconds = m.QueueDepth, m.OldestAvailableSec
		if c.RequireRunning {
			if err := River(c.Engine); err != nil {
				return "", err
			}
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
