package securityaudit

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// Installations lists the recorded installations of the app (store.Store).
type Installations interface {
	Installations(ctx context.Context) ([]store.Installation, error)
}

// Trigger starts an execution of a kind (workflows.Engine).
type Trigger interface {
	Trigger(ctx context.Context, kind workflows.Kind, repo workflows.Repo, raw map[string]any, opts ...workflows.TriggerOption) (workflows.Inserted, error)
}

// SweepWorker runs the weekly sweep: one security_audit of the default branch of every
// repository of every installation that is not suspended, as recorded from the installation
// webhooks. Each audit is unique by its week, so a retried sweep adds none twice.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Installations Installations
	// Engine triggers the audits; nil takes the engine of the job's context.
	Engine Trigger
}

// SweepOutput is what a sweep did.
type SweepOutput struct {
	Queued     int `json:"queued"`
	Duplicates int `json:"duplicates"`
}

// Work implements river.Worker.
func (w *SweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	out, err := w.sweep(ctx, job.Args.Week)
	if err != nil {
		return recovery.Decide(err)
	}
	if err := river.RecordOutput(ctx, out); err != nil {
		return fmt.Errorf("failed to record output: %w", err)
	}
	return nil
}

func (w *SweepWorker) sweep(ctx context.Context, week string) (SweepOutput, error) {
	engine := w.Engine
	if engine == nil {
		e, err := workflows.FromContext(ctx)
		if err != nil {
			return SweepOutput{}, err
		}
		engine = e
	}
	insts, err := w.Installations.Installations(ctx)
	if err != nil {
		return SweepOutput{}, fmt.Errorf("failed to list installations: %w", err)
	}
	var out SweepOutput
	for _, repo := range workflows.InstalledRepos(insts) {
		ins, err := engine.Trigger(ctx, workflows.SecurityAudit, repo, nil, workflows.By("schedule:"+week))
		if err != nil {
			return out, fmt.Errorf("failed to queue the audit of %s: %w", repo.FullName(), err)
		}
		if ins.Duplicate {
			out.Duplicates++
		} else {
			out.Queued++
		}
	}
	return out, nil
}
