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

// The paths the check_run handler reads.
var (
	checkRunPaths    = newPathSet()
	crAction         = checkRunPaths.add("action")
	crCheck          = checkRunPaths.add("check_run")
	crID             = checkRunPaths.add("check_run.id")
	crConclusion     = checkRunPaths.add("check_run.conclusion")
	crName           = checkRunPaths.add("check_run.name")
	crAppSlug        = checkRunPaths.add("check_run.app.slug")
	crAppID          = checkRunPaths.add("check_run.app.id")
	crPullRequests   = checkRunPaths.add("check_run.pull_requests")
	crRepo           = checkRunPaths.add("repository")
	crRepoName       = checkRunPaths.add("repository.name")
	crRepoOwner      = checkRunPaths.add("repository.owner.login")
	crRepoID         = checkRunPaths.add("repository.id")
	crInstallation   = checkRunPaths.add("installation")
	crInstallationID = checkRunPaths.add("installation.id")
)

// Handle implements githubapp.EventHandler.
func (h *CheckRunHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	r, err := extract(eventType, payload, checkRunPaths)
	if err != nil {
		return err
	}
	f := fields{event: eventType}
	action := f.str(r[crAction], "action")
	f.object(r[crCheck], "check_run", true)
	checkRunID := f.id(r[crID], "check_run.id")
	owner, name := f.repository(r[crRepo], r[crRepoName], r[crRepoOwner], "repository")
	repoID := f.optionalID(r[crRepoID], "repository.id")
	installationID := f.installationID(r[crInstallation], r[crInstallationID])
	conclusion := f.optionalString(r[crConclusion], "check_run.conclusion")
	checkName := f.optionalString(r[crName], "check_run.name")
	appSlug := f.optionalString(r[crAppSlug], "check_run.app.slug")
	appID := f.optionalID(r[crAppID], "check_run.app.id")
	prs := f.prNumbers(r[crPullRequests], "check_run.pull_requests")
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
