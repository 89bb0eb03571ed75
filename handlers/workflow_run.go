package handlers

import (
	"context"
	"strings"

	"github.com/riverqueue/river"
	"github.com/tidwall/gjson"

	"github.com/contexten/autonomous/workflows/commands"
	"github.com/contexten/autonomous/workflows/failureanalysis"
)

// WorkflowRunHandler starts failure analysis when a GitHub Actions run completes with a failure.
// It also enqueues a completed successful run that has pull requests, is a fork's pull request
// run (whose pull_requests GitHub leaves empty) or is a re-run (attempt > 1): the worker then
// tells the pull request that a reported failure passes now (flaky when the same commit failed
// before), and returns at once when nothing was reported.
type WorkflowRunHandler struct {
	Base
}

// Handles implements githubapp.EventHandler.
func (h *WorkflowRunHandler) Handles() []string { return []string{"workflow_run"} }

// Handle implements githubapp.EventHandler.
func (h *WorkflowRunHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	top := topLevel(root, "action", "workflow_run", "repository", "installation")
	run, repo := top["workflow_run"], top["repository"]
	if _, err := required(eventType, root, "action"); err != nil {
		return err
	}
	if _, err := requiredIn(eventType, run, "workflow_run", "id"); err != nil {
		return err
	}
	if _, err := requiredIn(eventType, repo, "repository", "name", "owner.login"); err != nil {
		return err
	}
	action, runID, name, owner := top["action"].String(), run.Get("id").Int(), repo.Get("name").String(), repo.Get("owner.login").String()
	installationID := top["installation"].Get("id").Int()
	ctx, logger := repoContext(ctx, installationID, owner, name)

	conclusion := run.Get("conclusion").String()
	attempt := int(run.Get("run_attempt").Int())
	if attempt < 1 {
		attempt = 1
	}
	prs := run.Get("pull_requests.#.number").Array()
	failed := conclusion == "failure" || conclusion == "timed_out" || conclusion == "startup_failure"
	mayResolve := conclusion == "success" && (len(prs) > 0 || attempt > 1 || fromFork(run))
	if action != "completed" || (!failed && !mayResolve) {
		logger.Debug().Str("action", action).Str("conclusion", conclusion).Msg("Ignoring workflow run")
		return nil
	}
	logger = logger.With().Int64("run_id", runID).Int("run_attempt", attempt).Str("conclusion", conclusion).Logger()
	return h.enqueueWith(ctx, logger, failureanalysis.Args{
		Owner: owner, Repo: name, InstallationID: installationID,
		RunID: runID, RunAttempt: attempt, Trigger: "webhook",
	}, prTags(repo.Get("id").Int(), prs))
}

// fromFork reports whether the run is of a pull request from a fork: GitHub leaves such a run's
// pull_requests empty, and the worker finds the pull request by the fork's branch.
func fromFork(run gjson.Result) bool {
	head, base := run.Get("head_repository.id").Int(), run.Get("repository.id").Int()
	return strings.HasPrefix(run.Get("event").String(), "pull_request") && head != 0 && base != 0 && head != base
}

// prTags tags a job with its pull requests ("pr-<repository id>-<number>"), so the executions of
// a pull request can be listed and cancelled together. It returns nil without pull requests.
func prTags(repositoryID int64, numbers []gjson.Result) *river.InsertOpts {
	if repositoryID <= 0 {
		return nil
	}
	var tags []string
	seen := map[int64]bool{}
	for _, n := range numbers {
		if number := n.Int(); number > 0 && !seen[number] {
			seen[number] = true
			tags = append(tags, commands.PRTag(repositoryID, int(number)))
		}
	}
	if len(tags) == 0 {
		return nil
	}
	return &river.InsertOpts{Tags: tags}
}
