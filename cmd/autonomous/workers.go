package main

import (
	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/commands"
	"github.com/contexten/autonomous/workflows/dependencymanagement"
	"github.com/contexten/autonomous/workflows/failureanalysis"
	"github.com/contexten/autonomous/workflows/healthcheck"
)

// workerDeps are what the workers are built from; buildApp fills them.
type workerDeps struct {
	cfg         config.Config
	clients     ghapp.Clients
	repoConfigs *config.RepoConfigLoader
	store       *store.Store
	checker     *monitor.Checker
	appSlug     string
}

// kindEntry is one workflow kind this binary runs: how to add its worker, its builder for
// Trigger (nil: only its webhook starts it) and its schedule (nil: none).
type kindEntry struct {
	kind     workflows.Kind
	worker   func(w *river.Workers, d workerDeps)
	build    workflows.Builder
	schedule func(cfg config.Config) *river.PeriodicJob
}

// kinds is the one list of workflow kinds: adding a kind is a folder under workflows/, a line
// here and its section file in config/.
var kinds = []kindEntry{
	{kind: workflows.FailureAnalysis, build: failureanalysis.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, failureanalysis.NewWorker(failureanalysis.Deps{Clients: d.clients, Configs: d.repoConfigs, Records: d.store, LogBytesLimit: d.cfg.LogBytesLimit}))
	}},
	{kind: workflows.HealthCheck, build: healthcheck.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, &healthcheck.Worker{Checker: d.checker})
	}, schedule: func(cfg config.Config) *river.PeriodicJob { return healthcheck.Periodic(cfg.HealthCheckInterval) }},
	{kind: workflows.DependencyManagement, build: dependencymanagement.Build, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, newDependencyWorker(d))
	}, schedule: func(config.Config) *river.PeriodicJob { return dependencymanagement.Periodic() }},
	{kind: workflows.SlashCommand, worker: func(w *river.Workers, d workerDeps) {
		river.AddWorker(w, commands.NewWorker(commands.Deps{Clients: d.clients, Configs: d.repoConfigs, Store: d.store, AppSlug: d.appSlug}))
	}},
}

// newWorkers adds every kind's worker and returns them with the kinds' schedules.
func newWorkers(d workerDeps) (*river.Workers, []*river.PeriodicJob) {
	workers := river.NewWorkers()
	var schedules []*river.PeriodicJob
	for _, k := range kinds {
		k.worker(workers, d)
		if k.schedule != nil {
			schedules = append(schedules, k.schedule(d.cfg))
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
