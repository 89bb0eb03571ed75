package handlers

import (
	"context"
	"strings"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/failureanalysis"
)

// actionsAppSlug is the GitHub Actions app: its check runs are jobs of workflow runs, analyzed
// from workflow_run events, so nothing is analyzed twice.
const actionsAppSlug = "github-actions"

// CheckRunHandler starts failure analysis of a failed check run of a CI that is not GitHub
// Actions (CircleCI, Buildkite, Jenkins, …): on a completed check run that failed or timed out,
// it enqueues an analysis of the check run's output. It ignores GitHub Actions' check runs and
// the bot's own.
type CheckRunHandler struct {
	Base
	// AppSlug is the app's slug; check runs of the app itself are never analyzed.
	AppSlug string
	// AppID is the app's id, when known, for the same purpose.
	AppID int64
}

var _ githubapp.EventHandler = (*CheckRunHandler)(nil)

// Handles implements githubapp.EventHandler.
func (h *CheckRunHandler) Handles() []string { return []string{"check_run"} }

// Handle implements githubapp.EventHandler.
func (h *CheckRunHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	top := members(root, "action", "check_run", "repository", "installation")
	f := fields{event: eventType}
	action := f.str(top["action"], "action")
	// The check run's members in one pass: its app and pull requests come after its check suite.
	check := members(f.object(top["check_run"], "check_run", true), "id", "conclusion", "name", "app", "pull_requests")
	checkRunID := f.id(check["id"], "check_run.id")
	repo := top["repository"]
	owner, name := f.repository(repo, "repository")
	repoID := f.optionalID(repo.Get("id"), "repository.id")
	installationID := f.installationID(top["installation"])
	conclusion := f.optionalString(check["conclusion"], "check_run.conclusion")
	checkName := f.optionalString(check["name"], "check_run.name")
	appSlug := f.optionalString(check["app"].Get("slug"), "check_run.app.slug")
	appID := f.optionalID(check["app"].Get("id"), "check_run.app.id")
	prs := f.prNumbers(check["pull_requests"], "check_run.pull_requests")
	if f.err != nil {
		return f.err
	}
	ctx, logger := repoContext(ctx, installationID, owner, name)
	logger = logger.With().Int64(workflows.LogKeyCheckRunID, checkRunID).Str(workflows.LogKeyConclusion, conclusion).Logger()

	switch {
	case action != "completed" || (conclusion != "failure" && conclusion != "timed_out"):
		logger.Debug().Str("action", action).Msg("Ignoring check run")
		return nil
	case strings.EqualFold(appSlug, actionsAppSlug):
		logger.Debug().Msg("Ignoring GitHub Actions check run: its workflow_run is analyzed")
		return nil
	case h.ownCheck(checkName, appSlug, appID):
		logger.Debug().Msg("Ignoring the bot's own check run")
		return nil
	}
	return h.enqueueWith(ctx, logger, failureanalysis.Args{
		Owner: owner, Repo: name, InstallationID: installationID,
		CheckRunID: checkRunID, Trigger: "webhook",
	}, prTags(repoID, prs))
}

// ownCheck reports whether the check run is the bot's: by its name, or by the app that made it.
func (h *CheckRunHandler) ownCheck(name, appSlug string, appID int64) bool {
	return name == failureanalysis.CheckRunName ||
		(h.AppSlug != "" && strings.EqualFold(appSlug, h.AppSlug)) ||
		(h.AppID != 0 && appID == h.AppID)
}
