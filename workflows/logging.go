package workflows

import (
	"context"
	"errors"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"
)

// The log keys of the bot's own fields; GitHub's identifiers use go-githubapp's LogKey*
// constants (githubapp.LogKeyRepositoryOwner, …). A key is added to a logger once: a job's
// context already carries LogKeyJobID, LogKeyKind and LogKeyJobAttempt (jobLogger).
const (
	LogKeyJobID      = "job_id"
	LogKeyKind       = "kind"
	LogKeyJobAttempt = "attempt"
	LogKeyRunID      = "run_id"
	LogKeyRunAttempt = "run_attempt"
	LogKeyCheckRunID = "check_run_id"
	LogKeyCommentID  = "comment_id"
	LogKeyConclusion = "conclusion"
)

// jobLogger puts the engine's logger, with the job's identity, into every worker's context, so
// workers log with zerolog.Ctx(ctx) as handlers do; while the engine's inbox is congested it
// lets one job work at a time (Inbox.throttle).
type jobLogger struct {
	river.MiddlewareDefaults
	logger zerolog.Logger
	engine *Engine
}

type engineKey struct{}

// FromContext returns the engine running the job whose context ctx is: workers start further
// executions through it (Trigger), so no worker needs the engine before it exists.
func FromContext(ctx context.Context) (*Engine, error) {
	if e, ok := ctx.Value(engineKey{}).(*Engine); ok && e != nil {
		return e, nil
	}
	return nil, errors.New("failed to find the workflow engine: not in a job's context")
}

// Work implements rivertype.WorkerMiddleware.
func (m *jobLogger) Work(ctx context.Context, job *rivertype.JobRow, doInner func(ctx context.Context) error) error {
	logger := m.logger.With().Int64(LogKeyJobID, job.ID).Str(LogKeyKind, job.Kind).Int(LogKeyJobAttempt, job.Attempt).Logger()
	ctx = context.WithValue(logger.WithContext(ctx), engineKey{}, m.engine)
	m.engine.jobsStarted.Add(1)
	defer m.engine.jobsEnded.Add(1)
	if ib := m.engine.yield.Load(); ib != nil {
		return ib.throttle(ctx, doInner)
	}
	return doInner(ctx)
}

var _ rivertype.WorkerMiddleware = &jobLogger{}
