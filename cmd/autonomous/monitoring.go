package main

import (
	"context"
	"net/http"
	"time"

	"github.com/rcrowley/go-metrics"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/integrations/slack"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
)

// healthChecker is the monitor.Checker the settings describe: thresholds from ALERT_* and
// PERFORMANCE_HISTORY_SIZE, the data directory from DATABASE_URL, and the integration clients
// that are configured (nil ones are not_configured; a nil pointer never becomes a non-nil
// interface here).
func healthChecker(cfg config.Config, gh ghapp.Clients, cg *codegen.Client, sl *slack.Client, ln *linear.Client) *monitor.Checker {
	c := &monitor.Checker{GitHub: gh, Thresholds: monitor.ThresholdsFrom(cfg), DataDir: monitor.DataDir(cfg.DatabaseURL)}
	if cg != nil {
		c.Codegen = cg
	}
	if sl != nil {
		c.Slack = sl
	}
	if ln != nil {
		c.Linear = ln
	}
	return c
}

// cliHealthChecker is the CLI's checker: the integrations are built from the settings as the
// server builds them; a setting a client refuses makes that component down with the reason.
// closeGitHub removes the GitHub clients' HTTP cache (githubForCLI) once the checks are done.
func cliHealthChecker(cfg config.Config, engine monitor.Engine) (c *monitor.Checker, closeGitHub func() error) {
	gh, closeGitHub := githubForCLI(cfg)
	c = healthChecker(cfg, gh, nil, nil, nil)
	c.Engine = engine
	if cfg.CodegenToken != "" && cfg.CodegenOrgID != "" {
		if cg, err := codegen.New(cfg.CodegenOrgID, cfg.CodegenToken, codegen.WithURL(cfg.CodegenAPIURL)); err != nil {
			c.Codegen = brokenProbe{err}
		} else {
			c.Codegen = cg
		}
	}
	if cfg.SlackWebhookURL != "" {
		if sl, err := slack.New(cfg.SlackWebhookURL); err != nil {
			c.Slack = brokenProbe{err}
		} else {
			c.Slack = sl
		}
	}
	if cfg.LinearAPIKey != "" {
		if ln, err := linear.New(cfg.LinearAPIKey, linear.WithURL(cfg.LinearAPIURL)); err != nil {
			c.Linear = brokenProbe{err}
		} else {
			c.Linear = ln
		}
	}
	return c, closeGitHub
}

// brokenProbe is an integration whose settings its client refused: every probe is the error.
type brokenProbe struct{ err error }

func (b brokenProbe) ListRepos(context.Context) ([]codegen.Repo, error) { return nil, b.err }
func (b brokenProbe) Viewer(context.Context) (linear.Viewer, error)     { return linear.Viewer{}, b.err }
func (b brokenProbe) LastSend() (slack.SendResult, bool) {
	return slack.SendResult{At: time.Now(), Err: b.err}, true
}

// countWebhooks counts every delivery by event and outcome in the registry
// (monitor.WebhookOutcome), whatever answered it: the signature check, the dispatcher or the
// error callback.
func countWebhooks(registry metrics.Registry, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		monitor.WebhookOutcome(registry, r.Header.Get("X-GitHub-Event"), rec.status)
	})
}

// metricsReport is GET /api/metrics: the engine's figures (counts by kind and state, success and
// error rates, duration percentiles, backlog), the inbox's counts, the error rate in percent, durations and
// success rates per kind, the health score and the report it comes from, and the registry.
type metricsReport struct {
	workflows.Metrics
	ErrorRatePercent float64                   `json:"error_rate_percent"`
	Durations        map[string]kindDurations  `json:"durations"`
	HealthScore      int                       `json:"health_score"`
	Health           monitor.Report            `json:"health"`
	Registry         map[string]map[string]any `json:"registry"`
	Inbox            inboxCounts               `json:"inbox"`
}

// inboxCounts are the webhook jobs accepted and not yet moved into River, and those kept
// because they cannot be (workflows.Inbox).
type inboxCounts struct {
	Waiting int64 `json:"waiting"`
	Failed  int64 `json:"failed"`
}

// kindDurations are one kind's figures over its last PERFORMANCE_HISTORY_SIZE finished executions.
type kindDurations struct {
	P50MS            float64 `json:"p50_ms"`
	P95MS            float64 `json:"p95_ms"`
	Finished         int     `json:"finished"`
	SuccessRate      float64 `json:"success_rate"`
	ErrorRatePercent float64 `json:"error_rate_percent"`
}

// latestHealth is the last health report when younger than the check interval, else a new one.
func (a *App) latestHealth(ctx context.Context) monitor.Report {
	return a.checker.Latest(ctx, a.cfg.HealthCheckInterval)
}

func (a *App) apiMetrics(w http.ResponseWriter, r *http.Request) {
	m, err := a.engine.Metrics(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "failed to compute metrics"})
		return
	}
	waiting, failed, err := a.inboxStore.Counts(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "failed to count the inbox"})
		return
	}
	health := a.latestHealth(r.Context())
	out := metricsReport{
		Inbox:   inboxCounts{Waiting: waiting, Failed: failed},
		Metrics: m, ErrorRatePercent: 100 * m.ErrorRate, Durations: map[string]kindDurations{},
		HealthScore: health.Score, Health: health, Registry: monitor.Snapshot(a.registry),
	}
	for _, k := range health.Workflows {
		out.Durations[k.Kind] = kindDurations{P50MS: k.DurationP50MS, P95MS: k.DurationP95MS, Finished: k.Finished,
			SuccessRate: k.SuccessRate, ErrorRatePercent: k.ErrorRatePercent}
	}
	writeJSON(w, http.StatusOK, out)
}

// prometheusContentType is the text exposition format, version 0.0.4.
const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

// prometheusMetrics is GET /metrics: the registry, River's executions and the health report in
// Prometheus' text format (monitor.WritePrometheus).
func (a *App) prometheusMetrics(w http.ResponseWriter, r *http.Request) {
	m, err := a.engine.Metrics(r.Context())
	if err != nil {
		http.Error(w, "failed to compute metrics", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", prometheusContentType)
	scrape := monitor.Scrape{Registry: a.registry, Executions: m, Report: a.latestHealth(r.Context())}
	if err := monitor.WritePrometheus(w, scrape); err != nil {
		a.logger.Warn().Err(err).Msg("Failed to write /metrics")
	}
}

// requireMetricsToken admits GET /metrics with ADMIN_TOKEN or METRICS_TOKEN (bearer or basic
// password, as requireToken); with neither configured /metrics is closed.
func (a *App) requireMetricsToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.AdminToken == "" && a.cfg.MetricsToken == "" {
			// Closed, as the dashboard and /api/* are without ADMIN_TOKEN: no token can open it.
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "/metrics is closed: set METRICS_TOKEN (or ADMIN_TOKEN) and restart"})
			return
		}
		if !tokenMatches(r, a.cfg.AdminToken) && !tokenMatches(r, a.cfg.MetricsToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="Autonomous CI metrics"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid METRICS_TOKEN or ADMIN_TOKEN is required (Authorization: Bearer <token>)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
