package testoptimization

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// Installations lists the installed repositories (store.Store).
type Installations interface {
	Installations(ctx context.Context) ([]store.Installation, error)
}

// Periodic is the daily schedule: once a day (once across replicas, River's leader), one
// execution per installed repository, each at its own offset within scheduleSpread so that
// repositories are not all backfilled at once.
func Periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour), func() (river.JobArgs, *river.InsertOpts) {
		return Args{Trigger: "schedule"}, nil
	}, &river.PeriodicJobOpts{ID: "test_optimization"})
}

// fanOut enqueues the day's execution of every installed repository, unique per repository and day.
func (w *Worker) fanOut(ctx context.Context, now time.Time) (int, error) {
	if w.deps.Installations == nil {
		return 0, nil
	}
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return 0, err
	}
	insts, err := w.deps.Installations.Installations(ctx)
	if err != nil {
		return 0, err
	}
	day := now.UTC().Format(time.DateOnly)
	n := 0
	for _, repo := range workflows.InstalledRepos(insts) {
		args := Args{Owner: repo.Owner, Repo: repo.Name, InstallationID: repo.InstallationID, Trigger: "schedule:" + day}
		if _, err := engine.Enqueue(ctx, args, &river.InsertOpts{ScheduledAt: now.Add(offset(repo.FullName()))}); err != nil {
			return n, fmt.Errorf("failed to schedule test optimization of %s: %w", repo.FullName(), err)
		}
		n++
	}
	zerolog.Ctx(ctx).Info().Int("repositories", n).Msg("Scheduled the daily test optimization")
	return n, nil
}

// offset spreads repositories over scheduleSpread by a hash of their name: stable from day to day.
func offset(repo string) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(strings.ToLower(repo)))
	return time.Duration(h.Sum64() % uint64(scheduleSpread))
}
