package main

import (
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/budget"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/recovery/reconcile"
	"github.com/contexten/autonomous/recovery/redelivery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/commands"
	"github.com/contexten/autonomous/workflows/dependencymanagement"
	"github.com/contexten/autonomous/workflows/failureanalysis"
	"github.com/contexten/autonomous/workflows/healthcheck"
	"github.com/contexten/autonomous/workflows/performancemonitoring"
	"github.com/contexten/autonomous/workflows/securityaudit"
	"github.com/contexten/autonomous/workflows/testoptimization"
)

// workerDeps are what the workers are built from; buildApp fills them.
type workerDeps struct {
	cfg         config.Config
	clients     ghapp.Clients
	repoConfigs *config.RepoConfigLoader
	store       *store.Store
	checker     *monitor.Checker
	appSlug     string
	// alerts raises and resolves alerts; nil-safe for workers (skip alerting when nil).
	alerts *alerting.Service

	// healthAlerts and healer are health_check's alerting and auto-recovery; nil: none.
	healthAlerts healthcheck.Alerter
	healer       healthcheck.Healer
	// recovery heals for the health check's auto_recovery (Heal).
	recovery *recovery.Manager
	// codegen is the AI fix agent; nil when CODEGEN_TOKEN or CODEGEN_ORG_ID is empty.
	codegen *codegen.Client
}

// failureAnalysisDeps are the Deps of failure_analysis and of its ai_fix kind.
func failureAnalysisDeps(d workerDeps) failureanalysis.Deps {
	deps := failureanalysis.Deps{Clients: d.clients, Configs: d.repoConfigs, Records: d.store, LogBytesLimit: d.cfg.LogBytesLimit,
		Fixes: d.store, Budget: budget.Ledger{DB: d.store.DB, Dialect: d.store.Dialect}, AppSlug: d.appSlug,
		FixPoll: d.cfg.CodegenPollInterval, Flaky: testoptimization.Tracker{Store: d.store}}
	if d.codegen != nil { // a nil *codegen.Client must not become a non-nil Agent
		deps.Agent = d.codegen
	}
	if d.alerts != nil { // escalations of fixes that keep failing; a Codegen plan limit or auth error
		deps.Alerts = d.alerts
	}
	return deps
}

// kindEntry is one workflow kind this binary runs: how to add its worker, its builder for
// Trigger (nil: only its webhook starts it) and its schedule (nil: none).
type kindEntry struct {
	kind     workflows.Kind
	worker   func(w *river.Workers, d workerDeps)
	build    workflows.Builder
	schedule func(cfg config.Config) *river.PeriodicJob
	// internal marks a job kind that is not a workflow (no spec in the registry, never
	// triggered by people): the alert deliveries.
	internal bool
}

// kinds is the one list of workflow kinds: adding a kind is a folder under workflows/, a line
// here and its section file in config/.
var kinds = []kindEntry{
	{kind: workflows.FailureAnalysis, build: failureanalysis.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, failureanalysis.NewWorker(failureAnalysisDeps(d)))
	}},
	{kind: workflows.AIFix, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, failureanalysis.NewFixWorker(failureAnalysisDeps(d)))
	}},
	{kind: workflows.TestOptimization, build: testoptimization.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, testoptimization.NewWorker(testoptimization.Deps{Clients: d.clients, Configs: d.repoConfigs, Store: d.store, Installations: d.store, Alerts: d.alerts}))
	}, schedule: func(cfg config.Config) *river.PeriodicJob {
		if !cfg.HasAppCredentials() {
			return nil
		}
		return testoptimization.Periodic()
	}},
	{kind: workflows.HealthCheck, build: healthcheck.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, &healthcheck.Worker{Checker: d.checker, Alerts: d.healthAlerts, Healer: d.healer})
	}, schedule: func(cfg config.Config) *river.PeriodicJob {
		if !cfg.MonitoringEnabled {
			return nil // MONITORING_ENABLED=false: no scheduled checks and so no health alerts
		}
		return healthcheck.Periodic(cfg.HealthCheckInterval)
	}},
	{kind: workflows.SecurityAudit, build: securityaudit.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, securityaudit.NewWorker(securityaudit.Deps{Clients: d.clients, Configs: d.repoConfigs, Records: d.store,
			OSV: osv.New(d.cfg.OSVAPIURL, &http.Client{Timeout: time.Minute})}))
		river.AddWorker(w, &securityaudit.SweepWorker{Installations: d.store})
	}, schedule: func(config.Config) *river.PeriodicJob { return securityaudit.Periodic() }},
	{kind: workflows.PerformanceMonitoring, build: performancemonitoring.Build, worker: func(w *river.Workers, d workerDeps) {
		deps := performancemonitoring.Deps{Clients: d.clients, Configs: d.repoConfigs, Records: d.store,
			HistorySize: d.cfg.PerformanceHistorySize, Interval: d.cfg.PerformanceCheckInterval}
		if d.alerts != nil {
			deps.Alerts = d.alerts // baseline-branch regressions, deduplicated by fingerprint
		}
		river.AddWorker(w, performancemonitoring.NewWorker(deps))
	}, schedule: func(cfg config.Config) *river.PeriodicJob {
		if !cfg.HasAppCredentials() {
			return nil
		}
		return performancemonitoring.Periodic(cfg.PerformanceCheckInterval)
	}},
	{kind: workflows.DependencyManagement, build: dependencymanagement.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, newDependencyWorker(d))
	}, schedule: func(cfg config.Config) *river.PeriodicJob {
		if !cfg.HasAppCredentials() {
			return nil
		}
		return dependencymanagement.Periodic()
	}},
	{kind: workflows.SlashCommand, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, commands.NewWorker(commands.Deps{Clients: d.clients, Configs: d.repoConfigs, Store: d.store, AppSlug: d.appSlug,
			FixAgentConfigured: d.codegen != nil}))
	}},
	// Self-healing after downtime: scheduled (on start, then periodically) only once the app has
	// credentials; triggerable with `autonomous execute`.
	{kind: workflows.WebhookRedelivery, build: redelivery.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, redelivery.NewWorker(redelivery.Deps{Clients: d.clients, Ledger: d.store}))
	}, schedule: func(cfg config.Config) *river.PeriodicJob {
		if !cfg.HasAppCredentials() {
			return nil
		}
		return redelivery.Periodic(cfg.WebhookRedeliveryInterval)
	}},
	{kind: workflows.InstallationSync, build: reconcile.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, reconcile.NewWorker(reconcile.Deps{Clients: d.clients, Installations: d.store}))
	}, schedule: func(cfg config.Config) *river.PeriodicJob {
		if !cfg.HasAppCredentials() {
			return nil
		}
		return reconcile.Periodic()
	}},
	{kind: alerting.Kind, internal: true, worker: func(w *river.Workers, d workerDeps) {
		if d.alerts != nil {
			river.AddWorker(w, d.alerts.Worker())
		}
	}},
}

// newWorkers adds every kind's worker and returns them with the kinds' schedules.
func newWorkers(d workerDeps) (*river.Workers, []*river.PeriodicJob) {
	workers := river.NewWorkers()
	var schedules []*river.PeriodicJob
	for _, k := range kinds {
		k.worker(workers, d)
		if k.schedule != nil {
			if job := k.schedule(d.cfg); job != nil {
				schedules = append(schedules, job)
			}
		}
	}
	return workers, schedules
}

// registerBuilders makes the kinds that have a builder triggerable from the CLI, the API and
// other workers (engine.Trigger).
func registerBuilders(engine *workflows.Engine) {
	for _, k := range kinds {
		if k.build != nil {
			engine.Register(k.kind, k.build)
		}
	}
}
