package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
)

// newRecovery builds the recovery manager, the middleware every job runs through, from the
// monitor and engine settings. alerts is nil until alerting is configured: nothing escalates.
func newRecovery(cfg config.Config, st *store.Store, alerts recovery.Alerter, registry metrics.Registry, logger zerolog.Logger) *recovery.Manager {
	cleanup := recovery.Cleanup{
		DataDir: dataDir(cfg),
		Temp:    []recovery.TempFiles{{Dir: os.TempDir(), Pattern: "gomod-*.zip"}},
		// Nothing older than an attempt may still be written by a job.
		MaxAge: cfg.WorkflowDefaultTimeout,
	}
	if st.Dialect == store.Postgres {
		cleanup.DB, cleanup.DBIdle = st.DB, 20
	}
	return recovery.NewManager(st, recovery.Options{
		Alerts:              alerts,
		Enabled:             cfg.RecoveryEnabled,
		EscalationThreshold: cfg.EscalationThreshold,
		MaxConcurrent:       cfg.MaxConcurrentRecoveries,
		AutoRestart:         cfg.AutoRestartEnabled,
		RetryDelay:          cfg.WorkflowRetryDelay,
		MaxWorkers:          cfg.MaxConcurrentWorkflows,
		MemoryPercent:       cfg.AlertMemoryPercent,
		DiskPercent:         cfg.AlertDiskPercent,
		Cleanup:             cleanup,
		Registry:            registry,
		Logger:              logger,
	})
}

// dataDir is the folder of the SQLite database, else the working directory.
func dataDir(cfg config.Config) string {
	dialect, dsn, err := config.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil || dialect != string(store.SQLite) {
		return "."
	}
	file := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(file, '?'); i >= 0 {
		file = file[:i]
	}
	if file == "" || file == ":memory:" {
		return "."
	}
	return filepath.Dir(file)
}
