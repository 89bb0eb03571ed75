package failureanalysis

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// CheckRunName is the name of the check run the bot creates; its own check runs are never
// analyzed.
const CheckRunName = "Autonomous CI / failure analysis"

// RepoConfigs loads a repository's configuration (config.RepoConfigLoader).
type RepoConfigs interface {
	Load(ctx context.Context, client *github.Client, owner, repo string) (config.RepoConfig, error)
}

// Records is the bot's memory of reports and analyzed runs (store.Store).
type Records interface {
	PRReport(ctx context.Context, owner, repo string, number int) (store.PRReport, error)
	SavePRReport(ctx context.Context, r store.PRReport) error
	LockPRReport(ctx context.Context, owner, repo string, number int, ttl, wait time.Duration) (func(), error)
	SaveRunResult(ctx context.Context, r store.RunResult) error
	RunResults(ctx context.Context, owner, repo string, runID int64) ([]store.RunResult, error)
	LockRun(ctx context.Context, owner, repo string, runID int64, ttl, wait time.Duration) (func(), error)
	CreateOnce(ctx context.Context, e store.Effect) (int64, bool, error)
	ForgetEffect(ctx context.Context, key string, id int64) error
}

// Deps are the worker's collaborators.
type Deps struct {
	Clients ghapp.Clients
	Configs RepoConfigs
	Records Records
	// LogClient downloads job logs from the address GitHub redirects to. It carries no GitHub
	// credentials: the address is pre-signed and may be on another host.
	LogClient *http.Client
	// LogBytesLimit caps the bytes read from one job log (LOG_BYTES_LIMIT); the repository may
	// lower it.
	LogBytesLimit int64
	// Flaky tells known flaky tests apart (test optimization); nil: none are known.
	Flaky FlakyTests
	// CreateSettle is how long a create whose answer was lost may still land on GitHub
	// (store.Effect.Settle); default store.DefaultCreateSettle.
	CreateSettle time.Duration

	// AI fixes (fix.go). Agent is nil when Codegen is not configured, Fixes nil turns fixes off.
	Agent Agent
	Fixes FixStore
	// Budget counts agent runs per repository per day; nil: no daily bound.
	Budget FixBudget
	// Alerts escalates fixes that keep failing and tells of a plan limit; nil: PR comments only.
	Alerts Alerter
	// AppSlug is the bot's slug: its own pull requests are never fixed.
	AppSlug string
	// FixPoll is the first poll interval of an agent run (doubling up to FixPollMax, 15 s and
	// 5 min by default); FixRunTimeout gives up on a run (3 h); PlanLimitPause is how long a 402
	// pauses agent runs (1 h).
	FixPoll, FixPollMax, FixRunTimeout, PlanLimitPause time.Duration
}

// Worker runs the failure_analysis workflow.
type Worker struct {
	river.WorkerDefaults[Args]
	deps      Deps
	baselines baselineCache // passing logs of the last green runs, for the analyzer's diff
}

// NewWorker creates the worker.
func NewWorker(deps Deps) *Worker {
	if deps.LogClient == nil {
		deps.LogClient = &http.Client{Timeout: 5 * time.Minute}
	}
	if deps.LogBytesLimit <= 0 {
		deps.LogBytesLimit = 64 << 20
	}
	return &Worker{deps: deps}
}

// Output is what one execution did, recorded as the job's output.
type Output struct {
	Skipped      string       `json:"skipped,omitempty"`
	HeadSHA      string       `json:"head_sha,omitempty"`
	Attempt      int          `json:"attempt,omitempty"`
	Conclusion   string       `json:"conclusion,omitempty"`
	Failures     []FailureOut `json:"failures,omitempty"`
	PullRequests []int        `json:"pull_requests,omitempty"`
	CommentIDs   []int64      `json:"comment_ids,omitempty"`
	CheckRunID   int64        `json:"check_run_id,omitempty"`
	// CheckRunError is why GitHub refused the check run; the comment was posted all the same.
	CheckRunError string `json:"check_run_error,omitempty"`
	Rerun         string `json:"rerun,omitempty"`
	ConfigProblem string `json:"config_problem,omitempty"`
	// SkippedPRs are the pull requests labelled SkipLabel: nothing was done for them.
	SkippedPRs []int `json:"skipped_pull_requests,omitempty"`
	// Fix says per pull request what the AI fix flow did.
	Fix []string `json:"fix,omitempty"`
}

// FailureOut summarizes one distinct failure in the output.
type FailureOut struct {
	Jobs           []string `json:"jobs"`
	FailedStep     string   `json:"failed_step"`
	Classification string   `json:"classification"`
	Retryable      bool     `json:"retryable"`
	FailedTests    []string `json:"failed_tests,omitempty"`
	Fingerprint    string   `json:"fingerprint"`
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	a := job.Args
	logger := zerolog.Ctx(ctx).With().Str(githubapp.LogKeyRepositoryOwner, a.Owner).Str(githubapp.LogKeyRepositoryName, a.Repo).
		Int64(workflows.LogKeyRunID, a.RunID).Int64(workflows.LogKeyCheckRunID, a.CheckRunID).Logger()
	ctx = logger.WithContext(ctx)
	out, err := w.work(ctx, a)
	if err != nil {
		logger.Warn().Err(err).Str("error_class", string(recovery.Classify(err))).Msg("Failure analysis failed")
		return recovery.Decide(err)
	}
	if err := river.RecordOutput(ctx, out); err != nil {
		return fmt.Errorf("failed to record output: %w", err)
	}
	logger.Info().Int("failures", len(out.Failures)).Str("skipped", out.Skipped).Msg("Failure analysis done")
	return nil
}

func (w *Worker) work(ctx context.Context, a Args) (Output, error) {
	client, installationID, err := w.deps.Clients.ForRepo(ctx, a.Owner, a.Repo, a.InstallationID)
	if err != nil {
		return Output{}, err
	}
	a.InstallationID = installationID
	cfg, cfgErr := w.deps.Configs.Load(ctx, client, a.Owner, a.Repo)
	if cfgErr != nil && cfg.FailureAnalysis.LogBytesLimit == 0 {
		return Output{}, cfgErr // GitHub failed; a parse error comes with the defaults
	}
	fa := cfg.FailureAnalysis
	out := Output{}
	if cfgErr != nil {
		out.ConfigProblem = cfgErr.Error()
		// The problem text is the parser's, about the repository's file: safe to log.
		zerolog.Ctx(ctx).Warn().Err(cfgErr).Msg("Repository configuration is invalid; using the defaults")
	}
	if !fa.Enabled && a.Trigger == "webhook" {
		out.Skipped = "failure_analysis is disabled in " + config.RepoConfigPath
		return out, nil
	}
	s := &session{w: w, client: client, args: a, cfg: fa, out: &out, configProblem: out.ConfigProblem, repoCfg: cfg}
	if a.CheckRunID != 0 {
		return out, s.analyzeCheckRun(ctx)
	}
	return out, s.analyzeWorkflowRun(ctx)
}

// session is one execution's state, so the steps below share it without long parameter lists.
type session struct {
	w             *Worker
	client        *github.Client
	args          Args
	cfg           config.FailureAnalysisConfig
	out           *Output
	configProblem string
	base          *baselines // the last green run of the workflow, for failed runs
	repoCfg       config.RepoConfig
	pulls         map[int]*github.PullRequest // fetched once (fix.go)
	defaultBr     string                      // the repository's default branch, once known (fix.go)
}

func (s *session) logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }
