package handlers

import (
	"context"
	"strconv"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"

	"github.com/contexten/autonomous/store"
)

// InstallationStore records installations so `autonomous status` can list them.
type InstallationStore interface {
	SaveInstallation(ctx context.Context, inst store.Installation) error
	ChangeInstallationRepositories(ctx context.Context, inst store.Installation, added, removed []string) error
	DeleteInstallation(ctx context.Context, id int64) error
}

// InstallationHandler records app installations and their repositories. It writes only the
// bot's own table, never GitHub.
type InstallationHandler struct {
	Installations InstallationStore
}

var _ githubapp.EventHandler = (*InstallationHandler)(nil)

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
	f := fields{event: eventType}
	action := f.str(root.Get("action"), "action")
	installation := f.object(root.Get("installation"), "installation", true)
	inst := store.Installation{
		ID:                  f.id(installation.Get("id"), "installation.id"),
		Account:             f.owner(installation.Get("account.login"), "installation.account.login"),
		AccountType:         f.optionalString(installation.Get("account.type"), "installation.account.type"),
		RepositorySelection: f.optionalString(installation.Get("repository_selection"), "installation.repository_selection"),
		Suspended:           f.optionalString(installation.Get("suspended_at"), "installation.suspended_at") != "",
		UpdatedAt:           time.Now().UTC(),
	}
	repos := f.names(root, "repositories")
	added, removed := f.names(root, "repositories_added"), f.names(root, "repositories_removed")
	if f.err != nil {
		return f.err
	}
	logger := zerolog.Ctx(ctx).With().Int64(githubapp.LogKeyInstallationID, inst.ID).Str("account", inst.Account).Str("action", action).Logger()
	var storeErr error
	switch {
	case eventType == "installation" && action == "deleted":
		storeErr = h.Installations.DeleteInstallation(ctx, inst.ID)
	case eventType == "installation":
		inst.Repositories = repos
		inst.Suspended = action == "suspend" || (inst.Suspended && action != "unsuspend")
		storeErr = h.Installations.SaveInstallation(ctx, inst)
	default:
		storeErr = h.Installations.ChangeInstallationRepositories(ctx, inst, added, removed)
	}
	if storeErr != nil {
		return &EnqueueError{Err: storeErr}
	}
	logger.Info().Msg("Recorded installation change")
	return nil
}

// names reads the full names of the repositories listed in the payload's member key.
func (f *fields) names(root gjson.Result, key string) []string {
	var out []string
	for i, r := range f.array(root.Get(key), key) {
		at := key + "." + strconv.Itoa(i)
		f.object(r, at, true)
		out = append(out, f.fullName(r.Get("full_name"), at+".full_name"))
	}
	return out
}

// PingHandler answers GitHub's ping, sent when the webhook is created.
type PingHandler struct{}

var _ githubapp.EventHandler = (*PingHandler)(nil)

// Handles implements githubapp.EventHandler.
func (PingHandler) Handles() []string { return []string{"ping"} }

// Handle implements githubapp.EventHandler.
func (PingHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	root, err := parse(eventType, payload)
	if err != nil {
		return err
	}
	f := fields{event: eventType}
	hookID := f.optionalID(root.Get("hook_id"), "hook_id")
	if f.err != nil {
		return f.err
	}
	zerolog.Ctx(ctx).Info().Int64("hook_id", hookID).Msg("Received ping")
	return nil
}
