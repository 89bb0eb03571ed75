// Package healthcheck is the health_check workflow: it runs monitor's checks of the database,
// River and the GitHub API and records the result; it runs as a River periodic job, so once per interval
// across all replicas.
package healthcheck

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/monitor"
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

// Worker runs health_check executions.
type Worker struct {
	river.WorkerDefaults[Args]
	Checker *monitor.Checker
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
