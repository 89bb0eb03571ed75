package handlers

import (
	"context"
	"strings"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/commands"
	"github.com/contexten/autonomous/workflows/failureanalysis"
	"github.com/contexten/autonomous/workflows/performancemonitoring"
	"github.com/contexten/autonomous/workflows/testoptimization"
)

// WorkflowRunHandler starts failure analysis when a GitHub Actions run completes with a failure.
// It also enqueues a completed successful run that has pull requests, is a fork's pull request
// run (whose pull_requests GitHub leaves empty) or is a re-run (attempt > 1): the worker then
// tells the pull request that a reported failure passes now (flaky when the same commit failed
// before), and returns at once when nothing was reported.
type WorkflowRunHandler struct {
	Base
}

var _ githubapp.EventHandler = (*WorkflowRunHandler)(nil)

// Handles implements githubapp.EventHandler.
func (h *WorkflowRunHandler) Handles() []string { return []string{"workflow_run"} }

// The paths the workflow_run handler reads.
var (
	workflowRunPaths    = newPathSet()
	wrAction            = workflowRunPaths.add("action")
	wrRun               = workflowRunPaths.add("workflow_run")
	wrRunID             = workflowRunPaths.add("workflow_run.id")
	wrConclusion        = workflowRunPaths.add("workflow_run.conclusion")
	wrAttempt           = workflowRunPaths.add("workflow_run.run_attempt")
	wrPullRequests      = workflowRunPaths.add("workflow_run.pull_requests")
	wrEvent             = workflowRunPaths.add("workflow_run.event")
	wrHeadSHA           = workflowRunPaths.add("workflow_run.head_sha")
	wrHeadBranch        = workflowRunPaths.add("workflow_run.head_branch")
	wrHeadRepoID        = workflowRunPaths.add("workflow_run.head_repository.id")
	wrHeadOwner         = workflowRunPaths.add("workflow_run.head_repository.owner.login")
	wrBaseRepoID        = workflowRunPaths.add("workflow_run.repository.id")
	wrRepo              = workflowRunPaths.add("repository")
	wrRepoName          = workflowRunPaths.add("repository.name")
	wrRepoOwner         = workflowRunPaths.add("repository.owner.login")
	wrRepoID            = workflowRunPaths.add("repository.id")
	wrRepoDefaultBranch = workflowRunPaths.add("repository.default_branch")
	wrInstallation      = workflowRunPaths.add("installation")
	wrInstallationID    = workflowRunPaths.add("installation.id")
)

// Handle implements githubapp.EventHandler.
func (h *WorkflowRunHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	r, err := extract(eventType, payload, workflowRunPaths)
	if err != nil {
		return err
	}
	f := fields{event: eventType}
	action := f.str(r[wrAction], "action")
	f.object(r[wrRun], "workflow_run", true)
	runID := f.id(r[wrRunID], "workflow_run.id")
	owner, name := f.repository(r[wrRepo], r[wrRepoName], r[wrRepoOwner], "repository")
	repoID := f.optionalID(r[wrRepoID], "repository.id")
	installationID := f.installationID(r[wrInstallation], r[wrInstallationID])
	conclusion := f.optionalString(r[wrConclusion], "workflow_run.conclusion")
	attempt := f.optionalID(r[wrAttempt], "workflow_run.run_attempt")
	prs := f.prNumbers(r[wrPullRequests], "workflow_run.pull_requests")
	event := f.optionalString(r[wrEvent], "workflow_run.event")
	head := f.optionalID(r[wrHeadRepoID], "workflow_run.head_repository.id")
	base := f.optionalID(r[wrBaseRepoID], "workflow_run.repository.id")
	if f.err != nil {
		return f.err
	}
	headSHA := f.optionalString(r[wrHeadSHA], "workflow_run.head_sha")
	headBranch := f.optionalString(r[wrHeadBranch], "workflow_run.head_branch")
	headOwner := f.optionalString(r[wrHeadOwner], "workflow_run.head_repository.owner.login")
	defaultBranch := f.optionalString(r[wrRepoDefaultBranch], "repository.default_branch")
	if f.err != nil {
		return f.err
	}
	ctx, logger := repoContext(ctx, installationID, owner, name)
	attempt = max(attempt, 1)
	if action == "completed" {
		forkHead := ""
		if fromFork := strings.HasPrefix(event, "pull_request") && head != 0 && base != 0 && head != base; fromFork && len(prs) == 0 &&
			ValidOwner(headOwner) && headBranch != "" {
			forkHead = headOwner + ":" + headBranch
		}
		if err := h.enqueuePerformance(ctx, logger, owner, name, repoID, installationID, runID, headSHA, conclusion, prs, forkHead); err != nil {
			return err
		}
	}
	failed := conclusion == "failure" || conclusion == "timed_out" || conclusion == "startup_failure"
	fromFork := strings.HasPrefix(event, "pull_request") && head != 0 && base != 0 && head != base
	// A pass of the default branch may clear its red-branch alert.
	onDefault := defaultBranch != "" && headBranch == defaultBranch && !strings.HasPrefix(event, "pull_request")
	mayResolve := conclusion == "success" && (len(prs) > 0 || attempt > 1 || fromFork || onDefault)
	if action != "completed" {
		logger.Debug().Str("action", action).Str("conclusion", conclusion).Msg("Ignoring workflow run")
		return nil
	}
	logger = logger.With().Int64(workflows.LogKeyRunID, runID).Int64(workflows.LogKeyRunAttempt, attempt).Str(workflows.LogKeyConclusion, conclusion).Logger()
	// Every completed attempt with test verdicts is test optimization's evidence (passes too).
	// Not tagged with the pull requests: collecting evidence is not the pull request's work,
	// so /ci status does not list it and /ci cancel leaves it.
	if collectsTests(conclusion) {
		if err := h.enqueueWith(ctx, logger, testoptimization.CollectArgs(owner, name, installationID, runID, int(attempt)), nil); err != nil {
			return err
		}
	}
	if !failed && !mayResolve {
		logger.Debug().Msg("Nothing for failure analysis in this workflow run")
		return nil
	}
	return h.enqueueWith(ctx, logger, failureanalysis.Args{
		Owner: owner, Repo: name, InstallationID: installationID,
		RunID: runID, RunAttempt: int(attempt), Trigger: "webhook",
	}, prTags(repoID, prs))
}

// prTags tags a job with its pull requests ("pr-<repository id>-<number>"), so the executions of
// a pull request can be listed and cancelled together. It returns nil without pull requests.
func prTags(repositoryID int64, numbers []int64) *river.InsertOpts {
	if repositoryID <= 0 {
		return nil
	}
	var tags []string
	seen := map[int64]bool{}
	for _, number := range numbers {
		if number > 0 && !seen[number] {
			seen[number] = true
			tags = append(tags, commands.PRTag(repositoryID, int(number)))
		}
	}
	if len(tags) == 0 {
		return nil
	}
	return &river.InsertOpts{Tags: tags}
}

// enqueuePerformance enqueues a performance_monitoring check of each pull request of a completed
// run, unless the run was cancelled or skipped (its duration says nothing); one check per pull
// request and run, so a redelivery adds nothing. A fork's run names no pull request: its check
// carries the fork's owner:branch (forkHead), by which the worker finds it.
func (h *WorkflowRunHandler) enqueuePerformance(ctx context.Context, logger zerolog.Logger, owner, name string, repoID, installationID, runID int64,
	headSHA, conclusion string, prs []int64, forkHead string) error {
	switch conclusion {
	case "", "cancelled", "skipped", "stale":
		return nil
	}
	if len(prs) == 0 && forkHead != "" && headSHA != "" {
		return h.enqueue(ctx, logger, performancemonitoring.Args{
			Owner: owner, Repo: name, InstallationID: installationID,
			RunID: runID, HeadSHA: headSHA, ForkHead: forkHead, Trigger: performancemonitoring.TriggerWebhook,
		})
	}
	seen := map[int64]bool{}
	for _, number := range prs {
		if number <= 0 || seen[number] {
			continue
		}
		seen[number] = true
		args := performancemonitoring.Args{
			Owner: owner, Repo: name, InstallationID: installationID,
			PullRequest: int(number), RunID: runID, HeadSHA: headSHA, Trigger: performancemonitoring.TriggerWebhook,
		}
		if err := h.enqueueWith(ctx, logger, args, prTags(repoID, []int64{number})); err != nil {
			return err
		}
	}
	return nil
}

// collectsTests reports whether a run that concluded so has test verdicts to collect.
func collectsTests(conclusion string) bool {
	return conclusion == "success" || conclusion == "failure" || conclusion == "timed_out"
}
