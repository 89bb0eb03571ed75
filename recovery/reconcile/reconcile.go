// Package reconcile is the installation_sync job: it brings the recorded installations of the
// app and their repositories (store/installations.go, kept by the installation webhooks) in line
// with GitHub's, so installations, repositories and uninstalls the bot missed while it was down
// are known. It runs as a River periodic job on start and then every Interval, once across
// replicas, and can be started with `autonomous execute installation_sync`.
package reconcile

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// Interval is how often the installations are reconciled after the run on start; webhooks
// keep them current in between.
const Interval = 6 * time.Hour

const (
	// maxInstallationPages bounds GET /app/installations (100 a page). A listing cut there
	// removes nothing.
	maxInstallationPages = 100
	// maxRepoPages bounds one installation's repositories (100 a page).
	maxRepoPages = 100
)

// Args starts one reconciliation; it carries no identifiers.
type Args struct {
	// Trigger is "schedule", "cli" or "api".
	Trigger string `json:"trigger,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.InstallationSync) }

// Build is the engine's builder for installation_sync.
func Build(_ workflows.Repo, _ workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	return Args{Trigger: "cli"}, nil, nil
}

// Periodic is the schedule: on start (off the serving path: River's leader inserts it once the
// engine runs) and every Interval.
func Periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(Interval), func() (river.JobArgs, *river.InsertOpts) {
		return Args{Trigger: "schedule"}, nil
	}, &river.PeriodicJobOpts{ID: string(workflows.InstallationSync), RunOnStart: true})
}

// Clients gives the app's GitHub clients (ghapp.Clients is one).
type Clients interface {
	App() (*github.Client, error)
	ForRepo(ctx context.Context, owner, repo string, installationID int64) (*github.Client, int64, error)
}

// Installations is the table of recorded installations (*store.Store is one).
type Installations interface {
	Installations(ctx context.Context) ([]store.Installation, error)
	SaveInstallation(ctx context.Context, inst store.Installation) error
	DeleteInstallation(ctx context.Context, id int64) error
}

// Deps are the worker's collaborators.
type Deps struct {
	Clients       Clients
	Installations Installations
}

// Worker runs installation_sync.
type Worker struct {
	river.WorkerDefaults[Args]
	deps Deps
}

// NewWorker returns the worker.
func NewWorker(d Deps) *Worker { return &Worker{deps: d} }

// Timeout implements river.Worker.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 10 * time.Minute }

// Result is a run's output: installation ids by what happened to their record.
type Result struct {
	Listed    int     `json:"listed"`
	Added     []int64 `json:"added,omitempty"`
	Updated   []int64 `json:"updated,omitempty"`
	Removed   []int64 `json:"removed,omitempty"`
	Unchanged int     `json:"unchanged"`
	// Unreadable are installations whose repositories GitHub would not list (403, 404); their
	// recorded repositories are kept.
	Unreadable []int64 `json:"unreadable,omitempty"`
	// Complete is false when the listing stopped at its bound; nothing is removed then.
	Complete bool `json:"complete"`
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	res, err := w.Run(ctx)
	if err != nil {
		return recovery.Decide(err)
	}
	zerolog.Ctx(ctx).Info().Int("listed", res.Listed).Int("added", len(res.Added)).Int("updated", len(res.Updated)).
		Int("removed", len(res.Removed)).Msg("Installations reconciled")
	if err := river.RecordOutput(ctx, res); err != nil {
		return fmt.Errorf("failed to record reconciliation output: %w", err)
	}
	return nil
}

// Run reconciles; Work is Run plus River's decisions.
func (w *Worker) Run(ctx context.Context) (Result, error) {
	var res Result
	app, err := w.deps.Clients.App()
	if err != nil {
		return res, err
	}
	var listed []*github.Installation
	pages := 0
	// GET /app/installations — https://docs.github.com/en/rest/apps/apps#list-installations-for-the-authenticated-app
	err = ghapp.EachFresh(ctx, app, "app/installations", nil, maxInstallationPages, func(page []*github.Installation) bool {
		pages++
		listed = append(listed, page...)
		return false
	})
	if err != nil {
		return res, fmt.Errorf("failed to list the app's installations: %w", err)
	}
	res.Complete = pages < maxInstallationPages
	recorded, err := w.deps.Installations.Installations(ctx)
	if err != nil {
		return res, err
	}
	known := map[int64]store.Installation{}
	for _, inst := range recorded {
		known[inst.ID] = inst
	}
	seen := map[int64]bool{}
	for _, gi := range listed {
		if gi == nil || gi.GetID() == 0 || seen[gi.GetID()] {
			continue
		}
		seen[gi.GetID()] = true
		res.Listed++
		if err := w.reconcile(ctx, gi, known, &res); err != nil {
			return res, err
		}
	}
	if !res.Complete {
		return res, nil
	}
	for _, inst := range recorded {
		if seen[inst.ID] {
			continue
		}
		if err := w.deps.Installations.DeleteInstallation(ctx, inst.ID); err != nil {
			return res, err
		}
		zerolog.Ctx(ctx).Info().Int64("installation_id", inst.ID).Str("account", inst.Account).Msg("Forgot an installation GitHub no longer lists")
		res.Removed = append(res.Removed, inst.ID)
	}
	return res, nil
}

// reconcile records one listed installation and its repositories, writing only what changed.
func (w *Worker) reconcile(ctx context.Context, gi *github.Installation, known map[int64]store.Installation, res *Result) error {
	prev, had := known[gi.GetID()]
	inst := store.Installation{
		ID:                  gi.GetID(),
		Account:             gi.GetAccount().GetLogin(),
		AccountType:         gi.GetAccount().GetType(),
		RepositorySelection: gi.GetRepositorySelection(),
		Suspended:           gi.SuspendedAt != nil,
		Repositories:        prev.Repositories,
		UpdatedAt:           time.Now().UTC(),
	}
	if !inst.Suspended {
		// A suspended installation's token cannot list anything; its repositories are kept.
		repos, readable, err := w.repositories(ctx, inst.ID)
		if err != nil {
			return err
		}
		if readable {
			inst.Repositories = repos
		} else {
			res.Unreadable = append(res.Unreadable, inst.ID)
		}
	}
	if had && same(prev, inst) {
		res.Unchanged++
		return nil
	}
	if err := w.deps.Installations.SaveInstallation(ctx, inst); err != nil {
		return err
	}
	if had {
		res.Updated = append(res.Updated, inst.ID)
	} else {
		zerolog.Ctx(ctx).Info().Int64("installation_id", inst.ID).Str("account", inst.Account).Msg("Recorded a missed installation")
		res.Added = append(res.Added, inst.ID)
	}
	return nil
}

// repositories lists the full names of an installation's repositories; readable is false when
// GitHub refuses (403: suspended meanwhile; 404: uninstalled meanwhile, which the next run sees).
func (w *Worker) repositories(ctx context.Context, id int64) ([]string, bool, error) {
	client, _, err := w.deps.Clients.ForRepo(ctx, "", "", id)
	if err != nil {
		return nil, false, err
	}
	var names []string
	// GET /installation/repositories — https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-app-installation
	err = ghapp.EachFresh(ctx, client, "installation/repositories", nil, maxRepoPages, func(page github.ListRepositories) bool {
		for _, r := range page.Repositories {
			if r.GetFullName() != "" {
				names = append(names, r.GetFullName())
			}
		}
		return false
	})
	if ghapp.HasStatus(err, http.StatusForbidden) && !rateLimited(err) || ghapp.IsNotFound(err) {
		zerolog.Ctx(ctx).Warn().Int64("installation_id", id).Int("status", ghapp.StatusCode(err)).Msg("GitHub refused to list an installation's repositories; keeping the recorded ones")
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("failed to list the repositories of installation %d: %w", id, err)
	}
	sort.Strings(names)
	return slices.Compact(names), true, nil
}

// rateLimited reports whether a 403 is GitHub's rate limit, which is waited out, not recorded.
func rateLimited(err error) bool { return recovery.Classify(err) == recovery.RateLimit }

func same(a, b store.Installation) bool {
	ra := append([]string(nil), a.Repositories...)
	sort.Strings(ra)
	return a.Account == b.Account && a.AccountType == b.AccountType && a.RepositorySelection == b.RepositorySelection &&
		a.Suspended == b.Suspended && slices.Equal(ra, b.Repositories)
}
