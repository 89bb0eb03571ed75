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

// The paths the installation handler reads.
var (
	installationPaths     = newPathSet()
	inAction              = installationPaths.add("action")
	inInstallation        = installationPaths.add("installation")
	inID                  = installationPaths.add("installation.id")
	inAccount             = installationPaths.add("installation.account.login")
	inAccountType         = installationPaths.add("installation.account.type")
	inRepositorySelection = installationPaths.add("installation.repository_selection")
	inSuspendedAt         = installationPaths.add("installation.suspended_at")
	inRepositories        = installationPaths.add("repositories")
	inAdded               = installationPaths.add("repositories_added")
	inRemoved             = installationPaths.add("repositories_removed")
)

// Handle implements githubapp.EventHandler.
func (h *InstallationHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	r, err := extract(eventType, payload, installationPaths)
	if err != nil {
		return err
	}
	f := fields{event: eventType}
	action := f.str(r[inAction], "action")
	f.object(r[inInstallation], "installation", true)
	inst := store.Installation{
		ID:                  f.id(r[inID], "installation.id"),
		Account:             f.owner(r[inAccount], "installation.account.login"),
		AccountType:         f.optionalString(r[inAccountType], "installation.account.type"),
		RepositorySelection: f.optionalString(r[inRepositorySelection], "installation.repository_selection"),
		Suspended:           f.optionalString(r[inSuspendedAt], "installation.suspended_at") != "",
		UpdatedAt:           time.Now().UTC(),
	}
	repos := f.names(r[inRepositories], "repositories")
	added, removed := f.names(r[inAdded], "repositories_added"), f.names(r[inRemoved], "repositories_removed")
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

// names reads the full names of the repositories listed in list, the payload's member key.
func (f *fields) names(list gjson.Result, key string) []string {
	var out []string
	for i, r := range f.array(list, key) {
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

// The paths the ping handler reads.
var (
	pingPaths  = newPathSet()
	pingHookID = pingPaths.add("hook_id")
)

// Handle implements githubapp.EventHandler.
func (PingHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	r, err := extract(eventType, payload, pingPaths)
	if err != nil {
		return err
	}
	f := fields{event: eventType}
	hookID := f.optionalID(r[pingHookID], "hook_id")
	if f.err != nil {
		return f.err
	}
	zerolog.Ctx(ctx).Info().Int64("hook_id", hookID).Msg("Received ping")
	return nil
}
