package appsetup

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/rs/zerolog"
)

// orgPattern matches GitHub organization logins: alphanumerics and single inner hyphens.
var orgPattern = regexp.MustCompile(`^[A-Za-z0-9](?:-?[A-Za-z0-9])*$`)

// validOrg reports whether org is a well-formed GitHub organization login (at most 39 characters).
func validOrg(org string) bool {
	return len(org) <= 39 && orgPattern.MatchString(org)
}

// setupPage is the data of setup.html.
type setupPage struct {
	Name         string
	Description  string
	HomepageURL  string
	Events       []string
	Permissions  []permission
	HookURL      string
	CallbackURL  string
	ManifestJSON string
	Action       string
	Org          string
	OrgError     string
	EnvFile      string
}

// serveSetup renders the setup page: GET /, or GET /?org=NAME to register the app on an organization.
func (h *handler) serveSetup(w http.ResponseWriter, r *http.Request) {
	log := zerolog.Ctx(r.Context())
	base, err := h.baseURL(r)
	if err != nil {
		log.Warn().Err(err).Msg("Cannot derive the public URL for the setup page")
		h.renderMessage(w, r, http.StatusBadRequest, "Cannot determine this server's address",
			"The request's Host, X-Forwarded-Host or X-Forwarded-Proto header is not valid, so the webhook URL for GitHub cannot be derived. Open the page through a valid host name or configure the public URL of this server.")
		return
	}
	manifestJSON, err := h.manifest.jsonFor(base)
	if err != nil {
		log.Error().Err(err).Msg("Failed to encode the app manifest")
		h.renderMessage(w, r, http.StatusInternalServerError, "Internal error", "The app manifest could not be encoded.")
		return
	}
	state := cookieState(r)
	if state == "" {
		if state, err = newState(); err != nil {
			log.Error().Err(err).Msg("Failed to generate the setup state")
			h.renderMessage(w, r, http.StatusInternalServerError, "Internal error", "A random state could not be generated.")
			return
		}
	}
	page := setupPage{
		Name:         h.manifest.Name,
		Description:  h.manifest.Description,
		HomepageURL:  h.manifest.URL,
		Events:       h.manifest.Events,
		Permissions:  h.manifest.Permissions,
		HookURL:      base + hookPath,
		CallbackURL:  base + callbackPath,
		ManifestJSON: manifestJSON,
		EnvFile:      h.envFile,
	}
	status := http.StatusOK
	newAppPath := "/settings/apps/new"
	if org := r.URL.Query().Get("org"); org != "" {
		if validOrg(org) {
			page.Org = org
			newAppPath = "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
		} else {
			status = http.StatusBadRequest
			page.OrgError = "That is not a valid GitHub organization name (letters, digits and single hyphens, at most 39 characters)."
		}
	}
	page.Action = h.githubURL + newAppPath + "?state=" + url.QueryEscape(state)
	setStateCookie(w, r, state)
	h.render(w, r, status, "setup.html", page)
}
