package testoptimization

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// RepoConfigs loads a repository's configuration (config.RepoConfigLoader).
type RepoConfigs interface {
	Load(ctx context.Context, client *github.Client, owner, repo string) (config.RepoConfig, error)
}

// Records is what the workflow keeps in the database (store.Store).
type Records interface {
	prreport.Records
	TestRunCollected(ctx context.Context, owner, repo string, runID int64, attempt int) (bool, error)
	SaveTestRun(ctx context.Context, run store.TestRun, results []store.TestResult, keepRuns int) (bool, error)
	TestRuns(ctx context.Context, owner, repo string, limit int) ([]store.TestRun, error)
	TestResults(ctx context.Context, owner, repo string, lastRuns int) ([]store.StoredTestResult, error)
	FlakyTests(ctx context.Context, owner, repo string, testIDs ...string) (map[string]store.FlakyTest, error)
	SaveFlakyTest(ctx context.Context, f store.FlakyTest) error
	LogFailedTests(ctx context.Context, owner, repo string, runID int64, attempt int) (map[string][]string, error)
	LogFailedTestsOfJobs(ctx context.Context, owner, repo string, jobs []string) (map[string][]string, error)
	RunResults(ctx context.Context, owner, repo string, runID int64) ([]store.RunResult, error)
}

// Alerter raises and resolves a quarantined test's issue (alerting.Service).
type Alerter interface {
	Raise(ctx context.Context, a alerting.Alert) error
	Resolve(ctx context.Context, fingerprint, text string) error
}

// Deps are the worker's collaborators.
type Deps struct {
	Clients ghapp.Clients
	Configs RepoConfigs
	Store   Records
	// Alerts is nil when no alerting is wired: verdicts and the CI health issue still work.
	Alerts Alerter
	// Installations lists the repositories of the daily schedule.
	Installations Installations
	// Downloads fetches artifact zips from the pre-signed address GitHub redirects to; it
	// carries no GitHub credentials.
	Downloads *http.Client
}

// Worker runs test_optimization executions.
type Worker struct {
	river.WorkerDefaults[Args]
	deps Deps
}

// NewWorker creates the worker.
func NewWorker(deps Deps) *Worker {
	if deps.Downloads == nil {
		deps.Downloads = &http.Client{Timeout: 5 * time.Minute}
	}
	return &Worker{deps: deps}
}

// Timeout implements river.Worker: a backfill downloads many artifacts.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 15 * time.Minute }

// awaitAnalysisTries bounds how often a collection waits for failure analysis (30 s apart).
const awaitAnalysisTries = 10

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	a := job.Args
	logger := zerolog.Ctx(ctx).With().Str(githubapp.LogKeyRepositoryOwner, a.Owner).Str(githubapp.LogKeyRepositoryName, a.Repo).
		Int64(workflows.LogKeyRunID, a.RunID).Logger()
	ctx = logger.WithContext(ctx)
	if a.Owner == "" && a.Trigger == "schedule" {
		_, err := w.fanOut(ctx, time.Now())
		return recovery.Decide(err)
	}
	// A snoozed job's attempt count does not grow; the snoozes it took are in its metadata.
	await := job.Attempt <= awaitAnalysisTries && snoozes(job) < awaitAnalysisTries
	rep, err := w.work(ctx, a, await)
	if errors.Is(err, errAwaitAnalysis) {
		return river.JobSnooze(30 * time.Second)
	}
	if err != nil {
		logger.Warn().Err(err).Str("error_class", string(recovery.Classify(err))).Msg("Test optimization failed")
		return recovery.Decide(err)
	}
	if rep.Skipped == "" {
		rep.Text = strings.TrimPrefix(healthBody(rep, time.Now().UTC()), healthMarker+"\n")
	} else {
		rep.Text = "Test optimization skipped: " + rep.Skipped + "\n"
	}
	if err := river.RecordOutput(ctx, rep); err != nil {
		return fmt.Errorf("failed to record output: %w", err)
	}
	logger.Info().Int("flaky", len(rep.Flaky)).Int("runs", rep.RunsAnalyzed).Int("changes", len(rep.Changes)).Msg("Test optimization done")
	return nil
}

func snoozes(job *river.Job[Args]) int {
	// River counts snoozes in the job's metadata ("snoozes").
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = jsonUnmarshal(job.Metadata, &meta)
	return meta.Snoozes
}

// session is one execution's state.
type session struct {
	w      *Worker
	client *github.Client
	args   Args
	cfg    config.TestOptimizationConfig
}

func (w *Worker) work(ctx context.Context, a Args, awaitAnalysis bool) (Report, error) {
	rep := Report{Repo: a.Owner + "/" + a.Repo}
	client, installationID, err := w.deps.Clients.ForRepo(ctx, a.Owner, a.Repo, a.InstallationID)
	if err != nil {
		return rep, err
	}
	a.InstallationID = installationID
	cfg, cfgErr := w.deps.Configs.Load(ctx, client, a.Owner, a.Repo)
	if cfgErr != nil && cfg.TestOptimization.LookbackRuns == 0 {
		return rep, cfgErr // GitHub failed; a parse error comes with the defaults
	}
	s := &session{w: w, client: client, args: a, cfg: cfg.TestOptimization.WithDefaults()}
	if !s.cfg.Enabled && (a.Trigger == "webhook" || isSchedule(a.Trigger)) {
		rep.Skipped = "test_optimization is disabled in " + config.RepoConfigPath
		return rep, nil
	}
	rep.LookbackRuns = s.cfg.LookbackRuns
	if a.LookbackRuns > 0 {
		rep.LookbackRuns = a.LookbackRuns
	}
	rep.FlakyThreshold = s.threshold()
	if a.RunID != 0 {
		out, err := s.collect(ctx, a.RunID, a.RunAttempt, nil, awaitAnalysis)
		if err != nil {
			return rep, err
		}
		rep.Collected = append(rep.Collected, out)
		if out.Skipped != "" {
			return rep, nil // nothing new to judge
		}
	} else if err := s.backfill(ctx, &rep); err != nil {
		return rep, err
	}
	if err := s.judge(ctx, &rep); err != nil {
		return rep, err
	}
	if s.cfg.HealthIssue && (a.RunID == 0 || len(rep.Changes) > 0) {
		number, err := s.updateHealthIssue(ctx, rep)
		if err != nil {
			return rep, err
		}
		rep.HealthIssue = number
	}
	if a.PR != 0 {
		if err := s.answerPR(ctx, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func isSchedule(trigger string) bool { return len(trigger) >= 8 && trigger[:8] == "schedule" }
