package handlers

import (
	"context"

	"github.com/contexten/autonomous/workflows/failureanalysis"
)

// WorkflowRunHandler starts failure analysis when a GitHub Actions run completes with a failure.
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
	f, err := required(eventType, root, "action", "workflow_run.id", "repository.name", "repository.owner.login")
	if err != nil {
		return err
	}
	action, runID, name, owner := f[0].String(), f[1].Int(), f[2].String(), f[3].String()
	installationID := root.Get("installation.id").Int()
	ctx, logger := repoContext(ctx, installationID, owner, name)

	conclusion := root.Get("workflow_run.conclusion").String()
	if action != "completed" || (conclusion != "failure" && conclusion != "timed_out") {
		logger.Debug().Str("action", action).Str("conclusion", conclusion).Msg("Ignoring workflow run")
		return nil
	}
	attempt := int(root.Get("workflow_run.run_attempt").Int())
	if attempt < 1 {
		attempt = 1
	}
	logger = logger.With().Int64("run_id", runID).Int("run_attempt", attempt).Logger()
	return h.enqueue(ctx, logger, failureanalysis.Args{
		Owner: owner, Repo: name, InstallationID: installationID,
		RunID: runID, RunAttempt: attempt, Trigger: "webhook",
	})
}
