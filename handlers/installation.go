package handlers

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"

	"github.com/contexten/autonomous/workflows"
)

// InstallationStore records installations so `autonomous status` can list them.
type InstallationStore interface {
	SaveInstallation(ctx context.Context, inst workflows.Installation) error
	ChangeInstallationRepositories(ctx context.Context, inst workflows.Installation, added, removed []string) error
	DeleteInstallation(ctx context.Context, id int64) error
}

// InstallationHandler records app installations and their repositories. It writes only the
// bot's own table, never GitHub.
type InstallationHandler struct {
	Installations InstallationStore
}

// Handles implements githubapp.EventHandler.
func (h *InstallationHandler) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

// Handle implements githubapp.EventHandler.
func (h *InstallationHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	f, err := required(eventType, root, "action", "installation.id", "installation.account.login")
	if err != nil {
		return err
	}
	action := f[0].String()
	inst := workflows.Installation{
		ID:                  f[1].Int(),
		Account:             f[2].String(),
		AccountType:         root.Get("installation.account.type").String(),
		RepositorySelection: root.Get("installation.repository_selection").String(),
		Suspended:           root.Get("installation.suspended_at").Type == gjson.String,
		UpdatedAt:           time.Now().UTC(),
	}
	logger := zerolog.Ctx(ctx).With().Int64("github_installation_id", inst.ID).Str("account", inst.Account).Str("action", action).Logger()
	var storeErr error
	switch {
	case eventType == "installation" && action == "deleted":
		storeErr = h.Installations.DeleteInstallation(ctx, inst.ID)
	case eventType == "installation":
		inst.Repositories = names(root.Get("repositories"))
		inst.Suspended = action == "suspend" || (inst.Suspended && action != "unsuspend")
		storeErr = h.Installations.SaveInstallation(ctx, inst)
	default:
		storeErr = h.Installations.ChangeInstallationRepositories(ctx, inst,
			names(root.Get("repositories_added")), names(root.Get("repositories_removed")))
	}
	if storeErr != nil {
		return &EnqueueError{Err: storeErr}
	}
	logger.Info().Msg("Recorded installation change")
	return nil
}

func names(repos gjson.Result) []string {
	var out []string
	for _, r := range repos.Array() {
		if n := r.Get("full_name").String(); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// PingHandler answers GitHub's ping, sent when the webhook is created.
type PingHandler struct{}

// Handles implements githubapp.EventHandler.
func (PingHandler) Handles() []string { return []string{"ping"} }

// Handle implements githubapp.EventHandler.
func (PingHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	zerolog.Ctx(ctx).Info().Int64("hook_id", root.Get("hook_id").Int()).Msg("Received ping")
	return nil
}
