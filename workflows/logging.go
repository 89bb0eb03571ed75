package workflows

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"
)

// jobLogger puts the engine's logger, with the job's identity, into every worker's context, so
// workers log with zerolog.Ctx(ctx) as handlers do.
type jobLogger struct {
	river.MiddlewareDefaults
	logger zerolog.Logger
}

// Work implements rivertype.WorkerMiddleware.
func (m *jobLogger) Work(ctx context.Context, job *rivertype.JobRow, doInner func(ctx context.Context) error) error {
	logger := m.logger.With().Int64("job_id", job.ID).Str("kind", job.Kind).Int("attempt", job.Attempt).Logger()
	return doInner(logger.WithContext(ctx))
}

var _ rivertype.WorkerMiddleware = &jobLogger{}
