// Package monitor is the bot's view of its own health: the component checks (database, River,
// the GitHub API, the optional integrations, the machine's resources and the workflows'
// performance) behind /readyz, the health_check workflow, `autonomous health-check`, `status`,
// /api/metrics and the dashboard, one implementation each; the health score computed from them;
// and the go-metrics registry that go-githubapp's client middleware, the webhook path and the
// other packages fill and /api/metrics and /metrics serve.
package monitor

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/contexten/autonomous/config"
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

// Status is a component's health.
type Status string

// The statuses, best first. NotConfigured is an optional integration that is not set up: it
// is left out of the score rather than counted as down.
const (
	Healthy       Status = "healthy"
	Degraded      Status = "degraded"
	Down          Status = "down"
	NotConfigured Status = "not_configured"
)

// Component names, as in Report.Components and the alert fingerprints "health:<name>".
const (
	ComponentDatabase  = "database"
	ComponentRiver     = "river"
	ComponentGitHub    = "github"
	ComponentWorkflows = "workflows"
	ComponentResources = "resources"
	ComponentCodegen   = "codegen"
	ComponentSlack     = "slack"
	ComponentLinear    = "linear"
)

// Component is the health of one component: its status, a message for people and the values
// it measured (JSON numbers, strings or booleans; keys are stable snake_case).
type Component struct {
	Name    string         `json:"name"`
	Status  Status         `json:"status"`
	Message string         `json:"message"`
	Values  map[string]any `json:"values,omitempty"`
	// LatencyMS is how long the check took.
	LatencyMS float64 `json:"latency_ms"`
	// Weight is the component's weight in the score (Weights), 0 when not configured.
	Weight float64 `json:"weight"`
}

// OK reports whether the component is healthy or not configured.
func (c Component) OK() bool { return c.Status == Healthy || c.Status == NotConfigured }

// Report is a health check's result. Its shape is stable: the dashboard, `status --json`,
// `health-check --json` and /api/metrics show it as is.
type Report struct {
	// Score is the health score 0–100 (see Score); Healthy is Score >= Threshold
	// (ALERT_HEALTH_SCORE), the verdict `autonomous health-check` exits by.
	Score     int     `json:"score"`
	Threshold float64 `json:"threshold"`
	Healthy   bool    `json:"healthy"`
	// Status is the worst status among the configured components.
	Status     Status      `json:"status"`
	Components []Component `json:"components"`
	// Workflows is each kind's performance over its last PERFORMANCE_HISTORY_SIZE finished
	// executions, sorted by kind; empty when the workflows component was not checked.
	Workflows []workflows.KindStats `json:"workflows"`
	CheckedAt time.Time             `json:"checked_at"`
	// QueueDepth and OldestAvailableSeconds describe River's backlog; QueueDepthByKind is
	// the available executions per kind; DiscardedLastHour is executions that spent their
	// retries in the last hour.
	QueueDepth             int            `json:"queue_depth"`
	QueueDepthByKind       map[string]int `json:"queue_depth_by_kind"`
	OldestAvailableSeconds float64        `json:"oldest_available_seconds"`
	DiscardedLastHour      int            `json:"discarded_last_hour"`
	// RateLimitRemaining is the GitHub API core rate limit left to the app, -1 when unknown.
	RateLimitRemaining int `json:"rate_limit_remaining"`
}

// Component returns the named component's result.
func (r Report) Component(name string) (Component, bool) {
	for _, c := range r.Components {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// Engine is what the checks need of the workflow engine.
type Engine interface {
	Running() bool
	Metrics(ctx context.Context) (workflows.Metrics, error)
	KindStats(ctx context.Context, kinds []string, history int) ([]workflows.KindStats, error)
	DiscardedSince(ctx context.Context, since time.Time) (int, error)
	Store() *store.Store
}

// Thresholds are the limits components are judged by (the ALERT_* settings).
type Thresholds struct {
	// CPUPercent and MemoryPercent: resources are degraded above them.
	CPUPercent    float64
	MemoryPercent float64
	// ErrorRatePercent: workflows are degraded above it.
	ErrorRatePercent float64
	// ResponseTime: an integration answering slower is degraded.
	ResponseTime time.Duration
	// HealthScore: a report scoring below it is not healthy.
	HealthScore float64
	// HistorySize is how many finished executions per kind the workflows component reads.
	HistorySize int
}

// DefaultThresholds are the settings' defaults (config/config.go).
var DefaultThresholds = Thresholds{
	CPUPercent: 80, MemoryPercent: 85, ErrorRatePercent: 10, ResponseTime: 5 * time.Second,
	HealthScore: 70, HistorySize: 1000,
}

// ThresholdsFrom reads the thresholds from the settings.
func ThresholdsFrom(cfg config.Config) Thresholds {
	return Thresholds{
		CPUPercent: cfg.AlertCPUPercent, MemoryPercent: cfg.AlertMemoryPercent,
		ErrorRatePercent: cfg.AlertErrorRatePercent,
		ResponseTime:     time.Duration(cfg.AlertResponseTimeMS) * time.Millisecond,
		HealthScore:      cfg.AlertHealthScore, HistorySize: cfg.PerformanceHistorySize,
	}
}

// Checker runs the checks. Optional integrations are nil when not configured.
type Checker struct {
	Engine Engine
	// GitHub is nil when the app has no credentials yet (the github component is then down:
	// the bot cannot work without it).
	GitHub ghapp.Clients
	// Codegen, Slack and Linear are nil when not configured.
	Codegen CodegenProbe
	Slack   SlackProbe
	Linear  LinearProbe
	// Resources samples the machine; nil samples this host with gopsutil (SystemResources).
	Resources ResourceSampler
	// DataDir is the directory whose disk the resources component measures (DataDir()).
	DataDir string
	// Thresholds; the zero value means DefaultThresholds.
	Thresholds Thresholds
	// RequireRunning is false for the CLI, which checks without starting River.
	RequireRunning bool

	mu   sync.Mutex
	last Report
	sys  *SystemResources
	// latest makes concurrent Latest calls share one check.
	latest sync.Mutex
}

// Options select what a check covers.
type Options struct {
	// CoreOnly checks the database, River and GitHub only (health_check's
	// check_all_integrations=false).
	CoreOnly bool
}

// probeTimeout bounds each component's check.
const probeTimeout = 15 * time.Second

// Check checks every component and scores the result.
func (c *Checker) Check(ctx context.Context) Report { return c.Run(ctx, Options{}) }

// Run checks the components opts selects and scores the result (Score).
func (c *Checker) Run(ctx context.Context, opts Options) Report {
	th := c.thresholds()
	r := Report{CheckedAt: time.Now().UTC(), RateLimitRemaining: -1, Threshold: th.HealthScore,
		QueueDepthByKind: map[string]int{}, Workflows: []workflows.KindStats{}}
	var kinds []string
	r.Components = append(r.Components,
		timed(ctx, ComponentDatabase, func(ctx context.Context) Component { return c.checkDatabase(ctx) }),
		timed(ctx, ComponentRiver, func(ctx context.Context) Component {
			comp, k := c.checkRiver(ctx, &r)
			kinds = k
			return comp
		}),
		timed(ctx, ComponentGitHub, func(ctx context.Context) Component { return c.checkGitHub(ctx, th, &r) }),
	)
	if !opts.CoreOnly {
		r.Components = append(r.Components,
			timed(ctx, ComponentWorkflows, func(ctx context.Context) Component { return c.checkWorkflows(ctx, th, kinds, &r) }),
			timed(ctx, ComponentResources, func(ctx context.Context) Component { return c.checkResources(ctx, th) }),
			timed(ctx, ComponentCodegen, func(ctx context.Context) Component { return c.checkCodegen(ctx, th) }),
			timed(ctx, ComponentSlack, func(ctx context.Context) Component { return c.checkSlack() }),
			timed(ctx, ComponentLinear, func(ctx context.Context) Component { return c.checkLinear(ctx, th) }),
		)
	}
	for i := range r.Components {
		if r.Components[i].Status != NotConfigured {
			r.Components[i].Weight = Weights[r.Components[i].Name]
		}
	}
	r.Score = Score(r.Components)
	r.Healthy = float64(r.Score) >= th.HealthScore
	r.Status = Worst(r.Components)
	if !opts.CoreOnly {
		c.mu.Lock()
		c.last = r
		c.mu.Unlock()
	}
	return r
}

// Last returns the most recent report of every component and whether there is one.
func (c *Checker) Last() (Report, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, !c.last.CheckedAt.IsZero()
}

// Latest returns the last report when it is younger than maxAge, else runs a full check: the
// metrics endpoints and the dashboard use it so that a scrape does not probe every integration;
// concurrent callers wait for one check and share its report.
func (c *Checker) Latest(ctx context.Context, maxAge time.Duration) Report {
	c.latest.Lock()
	defer c.latest.Unlock()
	if r, ok := c.Last(); ok && time.Since(r.CheckedAt) < maxAge {
		return r
	}
	return c.Check(ctx)
}

func (c *Checker) thresholds() Thresholds {
	if c.Thresholds == (Thresholds{}) {
		return DefaultThresholds
	}
	th := c.Thresholds
	if th.HistorySize <= 0 {
		th.HistorySize = DefaultThresholds.HistorySize
	}
	if th.ResponseTime <= 0 {
		th.ResponseTime = DefaultThresholds.ResponseTime
	}
	return th
}

// timed runs one check under probeTimeout and records its latency.
func timed(ctx context.Context, name string, check func(context.Context) Component) Component {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	comp := check(ctx)
	comp.Name = name
	comp.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	return comp
}
