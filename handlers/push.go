package handlers

import (
	"context"
	"regexp"
	"strings"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"

	"github.com/contexten/autonomous/workflows/performancemonitoring"
)

// PushHandler receives push events. A push of a branch (not a tag, not a deletion) enqueues a
// performance_monitoring check of that branch, unique per head commit, so a redelivered push
// adds nothing; the worker, which reads the repository's configuration, checks only the
// baseline branch (performance_monitoring.baseline_branch, default the repository's default
// branch) and skips any other at once. A push to the default branch that touches a workflow
// file or a manifest also starts a security audit of the pushed commit (enqueueAudit).
type PushHandler struct {
	Base
}

var _ githubapp.EventHandler = (*PushHandler)(nil)

// pushEvent is what the push handlers read of the payload.
type pushEvent struct {
	Owner, Repo    string
	RepoID         int64
	InstallationID int64
	// Ref is the full ref pushed ("refs/heads/main"); Branch is its branch name, empty for a tag.
	Ref, Branch   string
	Before, After string
	Deleted       bool
	DefaultBranch string
	// Changed are the paths the push's commits added, modified or removed; ChangedComplete is
	// false when GitHub's list may be cut short.
	Changed         []string
	ChangedComplete bool
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// Handles implements githubapp.EventHandler.
func (h *PushHandler) Handles() []string { return []string{"push"} }

// Handle implements githubapp.EventHandler.
func (h *PushHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	ev, err := parsePush(eventType, payload)
	if err != nil {
		return err
	}
	ctx, logger := repoContext(ctx, ev.InstallationID, ev.Owner, ev.Repo)
	logger = logger.With().Str("ref", ev.Ref).Str("head_sha", ev.After).Logger()
	if err := h.enqueuePerformance(ctx, logger, ev); err != nil {
		return err
	}
	if ev.Deleted || strings.Trim(ev.After, "0") == "" {
		return nil
	}
	return h.enqueueAudit(ctx, logger, pushedRef{Owner: ev.Owner, Name: ev.Repo, InstallationID: ev.InstallationID, Ref: ev.Ref,
		DefaultBranch: ev.DefaultBranch, After: ev.After, Changed: ev.Changed, Complete: ev.ChangedComplete})
}

// The paths the push handlers read.
var (
	pushPaths             = newPathSet()
	pushRef               = pushPaths.add("ref")
	pushBefore            = pushPaths.add("before")
	pushAfter             = pushPaths.add("after")
	pushDeleted           = pushPaths.add("deleted")
	pushRepo              = pushPaths.add("repository")
	pushRepoName          = pushPaths.add("repository.name")
	pushRepoOwner         = pushPaths.add("repository.owner.login")
	pushRepoID            = pushPaths.add("repository.id")
	pushRepoDefaultBranch = pushPaths.add("repository.default_branch")
	pushInstallation      = pushPaths.add("installation")
	pushInstallationID    = pushPaths.add("installation.id")
	pushCommits           = pushPaths.add("commits")
)

// parsePush reads and checks the push payload's fields.
func parsePush(eventType string, payload []byte) (pushEvent, error) {
	r, err := extract(eventType, payload, pushPaths)
	if err != nil {
		return pushEvent{}, err
	}
	f := fields{event: eventType}
	var ev pushEvent
	ev.Ref = f.str(r[pushRef], "ref")
	ev.Before = f.optionalString(r[pushBefore], "before")
	ev.After = f.str(r[pushAfter], "after")
	if d := r[pushDeleted]; d.Exists() && d.Type != gjson.Null {
		if d.IsBool() {
			ev.Deleted = d.Bool()
		} else {
			f.fail("deleted", "must be true or false")
		}
	}
	ev.Owner, ev.Repo = f.repository(r[pushRepo], r[pushRepoName], r[pushRepoOwner], "repository")
	ev.RepoID = f.optionalID(r[pushRepoID], "repository.id")
	ev.DefaultBranch = f.optionalString(r[pushRepoDefaultBranch], "repository.default_branch")
	ev.InstallationID = f.installationID(r[pushInstallation], r[pushInstallationID])
	ev.Changed, ev.ChangedComplete = pushedPaths(&f, r[pushCommits])
	if f.err != nil {
		return pushEvent{}, f.err
	}
	if !shaPattern.MatchString(ev.After) {
		return pushEvent{}, &MalformedPayloadError{Event: eventType, Reason: "after must be a commit SHA"}
	}
	if b, ok := strings.CutPrefix(ev.Ref, "refs/heads/"); ok && b != "" {
		ev.Branch = b
	}
	return ev, nil
}

// enqueuePerformance enqueues the performance check of a pushed branch.
func (h *PushHandler) enqueuePerformance(ctx context.Context, logger zerolog.Logger, ev pushEvent) error {
	if ev.Branch == "" || ev.Deleted || strings.Trim(ev.After, "0") == "" {
		logger.Debug().Bool("deleted", ev.Deleted).Msg("Ignoring push: not a branch update")
		return nil
	}
	return h.enqueue(ctx, logger, performancemonitoring.Args{
		Owner: ev.Owner, Repo: ev.Repo, InstallationID: ev.InstallationID,
		Branch: ev.Branch, HeadSHA: ev.After, DefaultBranch: ev.DefaultBranch, Trigger: performancemonitoring.TriggerPush,
	})
}
