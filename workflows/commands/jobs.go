package commands

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/contexten/autonomous/workflows"
)

// EngineJobs implements JobControl over the workflow engine. The worker must be registered
// before the engine exists, so the wiring creates an empty EngineJobs, gives it to NewWorker,
// and sets Engine once NewEngine returned (before Start).
type EngineJobs struct {
	Engine *workflows.Engine
}

// Enqueue implements JobControl with the engine's group-committed insert.
func (j *EngineJobs) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (workflows.Inserted, error) {
	if j.Engine == nil {
		return workflows.Inserted{}, fmt.Errorf("failed to enqueue %s: the engine is not wired", args.Kind())
	}
	return j.Engine.Enqueue(ctx, args, opts)
}

// JobList implements JobControl.
func (j *EngineJobs) JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error) {
	if j.Engine == nil {
		return nil, fmt.Errorf("failed to list jobs: the engine is not wired")
	}
	return j.Engine.Client().JobList(ctx, params)
}

// JobCancel implements JobControl.
func (j *EngineJobs) JobCancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error) {
	if j.Engine == nil {
		return nil, fmt.Errorf("failed to cancel job %d: the engine is not wired", jobID)
	}
	return j.Engine.Client().JobCancel(ctx, jobID)
}
