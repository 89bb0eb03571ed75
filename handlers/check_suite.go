package handlers

import (
	"context"
	"strings"

	"github.com/palantir/go-githubapp/githubapp"
)

// CheckSuiteHandler receives check_suite events. It enqueues no analysis, on purpose; a
// completed suite on a dependency update branch starts that PR's merge-when-green check
// (check_suite_deps.go).
//
// A completed check_suite payload names the suite, its app and its conclusion, but not its check
// runs, and the failure_analysis job analyzes one workflow run or one check run (its args carry
// identifiers only). Every app that reports a failed suite also sends a check_run event for each
// failed check run of it, and CheckRunHandler analyzes those; GitHub Actions' suites are analyzed
// from workflow_run events, and the bot's own suite is never analyzed. So this handler validates
// the payload, logs what it saw, and leaves the work to the other handlers: a suite is never
// analyzed twice.
type CheckSuiteHandler struct {
	Base
	// AppSlug is the app's slug, to tell the bot's own suites apart in the logs.
	AppSlug string
}

var _ githubapp.EventHandler = (*CheckSuiteHandler)(nil)

// Handles implements githubapp.EventHandler.
func (h *CheckSuiteHandler) Handles() []string { return []string{"check_suite"} }

// The paths the check_suite handler reads.
var (
	checkSuitePaths  = newPathSet()
	csAction         = checkSuitePaths.add("action")
	csSuite          = checkSuitePaths.add("check_suite")
	csID             = checkSuitePaths.add("check_suite.id")
	csConclusion     = checkSuitePaths.add("check_suite.conclusion")
	csAppSlug        = checkSuitePaths.add("check_suite.app.slug")
	csHeadBranch     = checkSuitePaths.add("check_suite.head_branch")
	csHeadSHA        = checkSuitePaths.add("check_suite.head_sha")
	csRepo           = checkSuitePaths.add("repository")
	csRepoName       = checkSuitePaths.add("repository.name")
	csRepoOwner      = checkSuitePaths.add("repository.owner.login")
	csInstallation   = checkSuitePaths.add("installation")
	csInstallationID = checkSuitePaths.add("installation.id")
)

// Handle implements githubapp.EventHandler.
func (h *CheckSuiteHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	r, err := extract(eventType, payload, checkSuitePaths)
	if err != nil {
		return err
	}
	f := fields{event: eventType}
	action := f.str(r[csAction], "action")
	f.object(r[csSuite], "check_suite", true)
	suiteID := f.id(r[csID], "check_suite.id")
	owner, name := f.repository(r[csRepo], r[csRepoName], r[csRepoOwner], "repository")
	installationID := f.installationID(r[csInstallation], r[csInstallationID])
	conclusion := f.optionalString(r[csConclusion], "check_suite.conclusion")
	slug := f.optionalString(r[csAppSlug], "check_suite.app.slug")
	if f.err != nil {
		return f.err
	}
	_, logger := repoContext(ctx, installationID, owner, name)
	logger = logger.With().Int64("check_suite_id", suiteID).Str("action", action).Str("conclusion", conclusion).Str("app_slug", slug).Logger()
	if action == "completed" {
		if err := h.enqueueDepsFollowUp(ctx, logger, r[csHeadBranch], r[csHeadSHA], owner, name, installationID, suiteID); err != nil {
			return err
		}
	}

	switch {
	case action != "completed" || (conclusion != "failure" && conclusion != "timed_out"):
		logger.Debug().Msg("Ignoring check suite")
	case strings.EqualFold(slug, actionsAppSlug) || (h.AppSlug != "" && strings.EqualFold(slug, h.AppSlug)):
		logger.Debug().Msg("Ignoring check suite of GitHub Actions or of the bot")
	default:
		logger.Info().Msg("Check suite failed; its failed check runs are analyzed from their check_run events")
	}
	return nil
}
