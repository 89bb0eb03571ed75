package appsetup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/config"
)

// codePattern bounds the temporary code GitHub passes to the callback; it becomes part of an
// API path, so anything else is rejected.
var codePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// errIncomplete reports a conversion answer without the fields the server cannot run without.
var errIncomplete = errors.New("incomplete app manifest conversion response")

// registeredPage is the data of registered.html; it carries no secret.
type registeredPage struct {
	Name       string
	AppID      int64
	Slug       string
	EnvFile    string
	HTMLURL    string
	InstallURL string
}

// serveCallback completes the manifest flow: GET /setup/callback?code=…&state=….
func (h *handler) serveCallback(w http.ResponseWriter, r *http.Request) {
	log := zerolog.Ctx(r.Context())
	query := r.URL.Query()
	if !stateMatches(r, query.Get("state")) {
		log.Warn().Msg("Rejected setup callback with a missing or mismatched state")
		h.renderMessageHint(w, r, http.StatusBadRequest, "Setup state does not match",
			"This callback does not belong to a registration started from this browser, so it was ignored and nothing was saved.",
			"Start again from the setup page, in the same browser and at the same address as the callback URL (the state cookie is kept per host).")
		return
	}
	code := query.Get("code")
	if !codePattern.MatchString(code) {
		h.renderMessage(w, r, http.StatusBadRequest, "Missing code", "GitHub's redirect did not carry a valid code; nothing was saved.")
		return
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	// Read the env file before the exchange: once the code is used the private key cannot be fetched again.
	doc, err := config.ReadEnvFile(h.envFile)
	if h.registered.Load() || (err == nil && doc.HasAppCredentials()) {
		log.Warn().Msg("Refused a setup callback: the GitHub App is already registered")
		h.renderClosed(w, r)
		return
	}
	if err != nil {
		log.Error().Err(err).Str("env_file", h.envFile).Msg("Cannot update the env file; the code was not exchanged")
		h.renderMessageHint(w, r, http.StatusInternalServerError, "Cannot update the env file",
			"The existing env file "+h.envFile+" could not be read or parsed, so the registration was not completed and nothing was saved.",
			"Fix or move the file, then start again from the setup page.")
		return
	}
	creds, err := h.exchange(r.Context(), code)
	if err != nil {
		message, status := describeExchangeError(err)
		log.Error().Int("status", status).Str("error", strings.ReplaceAll(err.Error(), code, "<code>")).
			Msg("Failed to exchange the app manifest code")
		h.renderMessageHint(w, r, http.StatusBadGateway, "GitHub did not complete the registration",
			message+" Nothing was saved.",
			"Reload this page to retry, or start again from the setup page (a code is valid for one hour and can be used once).")
		return
	}
	doc.Set(creds.envPairs())
	if err := config.WriteFileAtomic(h.envFile, doc.Bytes()); err != nil {
		log.Error().Err(err).Int64("app_id", creds.AppID).Str("env_file", h.envFile).Msg("Failed to save the GitHub App credentials")
		h.renderMessageHint(w, r, http.StatusInternalServerError, "The app was created but its credentials were not saved",
			"GitHub created the app (ID "+strconv.FormatInt(creds.AppID, 10)+") but "+h.envFile+" could not be written.",
			"Make the directory writable, then either generate a new private key in the app's settings and set the GITHUB_* variables yourself, or delete the app on GitHub and start again.")
		return
	}
	h.registered.Store(true)
	clearStateCookie(w, r)
	log.Info().Int64("app_id", creds.AppID).Str("app_slug", creds.Slug).Str("env_file", h.envFile).
		Msg("Registered the GitHub App and saved its credentials; restart to use it")
	if h.onRegistered != nil {
		h.onRegistered(creds.Credentials)
	}
	h.render(w, r, http.StatusOK, "registered.html", registeredPage{
		Name:       cmp.Or(creds.name, h.manifest.Name),
		AppID:      creds.AppID,
		Slug:       creds.Slug,
		EnvFile:    h.envFile,
		HTMLURL:    creds.HTMLURL,
		InstallURL: creds.HTMLURL + "/installations/new",
	})
}

// namedCredentials are Credentials plus the app's display name.
type namedCredentials struct {
	Credentials
	name string
}

// exchange converts the code into the app's configuration.
// GitHub API docs: https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest
func (h *handler) exchange(ctx context.Context, code string) (namedCredentials, error) {
	// The code is single-use: finish the exchange even if the browser goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchangeTimeout)
	defer cancel()
	app, _, err := h.client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return namedCredentials{}, fmt.Errorf("failed to complete app manifest: %w", err)
	}
	if app.GetID() <= 0 || app.GetPEM() == "" {
		return namedCredentials{}, errIncomplete
	}
	creds := namedCredentials{
		Credentials: Credentials{
			AppID:         app.GetID(),
			Slug:          app.GetSlug(),
			ClientID:      app.GetClientID(),
			ClientSecret:  app.GetClientSecret(),
			WebhookSecret: app.GetWebhookSecret(),
			PrivateKeyPEM: app.GetPEM(),
			HTMLURL:       strings.TrimRight(app.GetHTMLURL(), "/"),
		},
		name: app.GetName(),
	}
	if !strings.HasPrefix(creds.HTMLURL, "https://") && !strings.HasPrefix(creds.HTMLURL, "http://") {
		creds.HTMLURL = h.githubURL + "/apps/" + creds.Slug
	}
	return creds, nil
}

// envPairs lists the env keys and values to write, in order.
func (c Credentials) envPairs() [][2]string {
	return [][2]string{
		{config.EnvAppID, strconv.FormatInt(c.AppID, 10)},
		{config.EnvAppSlug, c.Slug},
		{config.EnvClientID, c.ClientID},
		{config.EnvClientSecret, c.ClientSecret},
		{config.EnvWebhookSecret, c.WebhookSecret},
		{config.EnvPrivateKey, c.PrivateKeyPEM},
	}
}

// describeExchangeError explains a failed exchange to the operator without echoing GitHub's
// answer, and returns the HTTP status GitHub answered with (0 when there was no answer).
func describeExchangeError(err error) (string, int) {
	var ghErr *github.ErrorResponse
	var netErr net.Error
	switch {
	case errors.As(err, new(*github.RateLimitError)) || errors.As(err, new(*github.AbuseRateLimitError)):
		return "GitHub rate-limited the request.", http.StatusForbidden
	case errors.Is(err, errIncomplete):
		return "GitHub's answer did not contain the app's ID and private key.", 0
	case errors.As(err, &ghErr) && ghErr.Response != nil:
		status := ghErr.Response.StatusCode
		switch {
		case status == http.StatusNotFound:
			return "GitHub does not know this code: it expired, was already used, or was issued by another GitHub host.", status
		case status == http.StatusUnprocessableEntity:
			return "GitHub refused to convert the manifest (422 Unprocessable Entity).", status
		case status >= 500:
			return fmt.Sprintf("GitHub had a server error (status %d).", status), status
		default:
			return fmt.Sprintf("GitHub answered with status %d.", status), status
		}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return "GitHub did not answer in time.", 0
	default:
		return "GitHub could not be reached.", 0
	}
}
