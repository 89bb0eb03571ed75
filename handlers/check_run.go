package handlers

import (
	"context"
	"strings"

	"github.com/tidwall/gjson"

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

// Handles implements githubapp.EventHandler.
func (h *CheckRunHandler) Handles() []string { return []string{"check_run"} }

// Handle implements githubapp.EventHandler.
func (h *CheckRunHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	f, err := required(eventType, root, "action", "check_run.id", "repository.name", "repository.owner.login")
	if err != nil {
		return err
	}
	action, checkRunID, name, owner := f[0].String(), f[1].Int(), f[2].String(), f[3].String()
	installationID := root.Get("installation.id").Int()
	ctx, logger := repoContext(ctx, installationID, owner, name)
	conclusion := root.Get("check_run.conclusion").String()
	logger = logger.With().Int64("check_run_id", checkRunID).Str("conclusion", conclusion).Logger()

	switch {
	case action != "completed" || (conclusion != "failure" && conclusion != "timed_out"):
		logger.Debug().Str("action", action).Msg("Ignoring check run")
		return nil
	case strings.EqualFold(root.Get("check_run.app.slug").String(), actionsAppSlug):
		logger.Debug().Msg("Ignoring GitHub Actions check run: its workflow_run is analyzed")
		return nil
	case h.ownCheck(root):
		logger.Debug().Msg("Ignoring the bot's own check run")
		return nil
	}
	return h.enqueueWith(ctx, logger, failureanalysis.Args{
		Owner: owner, Repo: name, InstallationID: installationID,
		CheckRunID: checkRunID, Trigger: "webhook",
	}, prTags(root.Get("repository.id").Int(), root.Get("check_run.pull_requests.#.number").Array()))
}

// ownCheck reports whether the check run is the bot's: by its name, or by the app that made it.
func (h *CheckRunHandler) ownCheck(root gjson.Result) bool {
	if root.Get("check_run.name").String() == failureanalysis.CheckRunName {
		return true
	}
	if h.AppSlug != "" && strings.EqualFold(root.Get("check_run.app.slug").String(), h.AppSlug) {
		return true
	}
	return h.AppID != 0 && root.Get("check_run.app.id").Int() == h.AppID
}
