// Package appsetup registers the GitHub App through GitHub's manifest flow, as Probot does.
//
// When autonomous serve has no GitHub App credentials it mounts the handler of this package at
// the root. The setup page (GET /) posts app.yml, as JSON with this server's webhook and
// redirect URLs, to GitHub; GitHub creates the app and redirects to GET /setup/callback with a
// one-time code, which is exchanged for the app's credentials. They are saved to an env file
// (mode 0600) that the config loader reads back with LoadEnvFile.
//
// Whoever completes the flow first decides which app the server uses, so the setup page should
// only be reachable by the operator until the app is registered (serve listens on loopback while
// unconfigured). The flow is one-shot: once a callback saved credentials, or when the env file
// already holds some, every setup route answers 410 Gone and the env file is never written again.
package appsetup

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/config"
)

// Defaults of Config.
const (
	// DefaultGitHubURL is the web URL of github.com.
	DefaultGitHubURL = "https://github.com"
	// DefaultAPIURL is the REST API base URL of github.com.
	DefaultAPIURL = "https://api.github.com/"
	// DefaultEnvFile is the file the credentials are written to.
	DefaultEnvFile = ".env"
)

// exchangeTimeout bounds the code exchange with GitHub.
const exchangeTimeout = 30 * time.Second

// Config configures the setup handler.
type Config struct {
	// Manifest is the app.yml contents (YAML).
	Manifest []byte
	// GitHubURL is the GitHub web URL, default "https://github.com" (GHE: https://ghe.example.com).
	GitHubURL string
	// APIURL is the REST API base URL, default "https://api.github.com/" (GHE: https://ghe.example.com/api/v3/).
	APIURL string
	// PublicURL is the externally visible base URL of this server (e.g. https://bot.example.com).
	// When empty it is derived from each request: X-Forwarded-Proto / X-Forwarded-Host, else
	// r.Host, with scheme https only for TLS requests.
	PublicURL string
	// EnvFile is where the credentials are written, default ".env".
	EnvFile string
	// HTTPClient is used for the code exchange; default a client with a 30s timeout.
	HTTPClient *http.Client
	// OnRegistered, when set, is called after the env file has been written.
	OnRegistered func(Credentials)
}

// Credentials are what GitHub returns for a newly registered app.
type Credentials struct {
	AppID         int64
	Slug          string
	ClientID      string
	ClientSecret  string
	WebhookSecret string
	PrivateKeyPEM string
	HTMLURL       string
}

// handler serves the setup page and the manifest callback.
type handler struct {
	manifest     *manifest
	githubURL    string
	publicURL    string
	envFile      string
	client       *github.Client
	onRegistered func(Credentials)
	// mu serialises callbacks so that two exchanges never write the env file at once.
	mu sync.Mutex
	// registered is set once a callback saved credentials: the flow never runs again.
	registered atomic.Bool
}

// NewHandler returns the handler that serves GET / (the setup page) and GET /setup/callback;
// every other path is 404. It fails when the manifest is not valid YAML with a name, or a
// configured URL is not an absolute http(s) URL.
func NewHandler(cfg Config) (http.Handler, error) {
	m, err := parseManifest(cfg.Manifest)
	if err != nil {
		return nil, err
	}
	h := &handler{
		manifest:     m,
		githubURL:    cmp.Or(cfg.GitHubURL, DefaultGitHubURL),
		publicURL:    cfg.PublicURL,
		envFile:      cmp.Or(cfg.EnvFile, DefaultEnvFile),
		onRegistered: cfg.OnRegistered,
	}
	if h.githubURL, err = normalizeBaseURL("GitHubURL", h.githubURL); err != nil {
		return nil, err
	}
	if h.publicURL != "" {
		if h.publicURL, err = normalizeBaseURL("PublicURL", h.publicURL); err != nil {
			return nil, err
		}
	}
	apiURL, err := normalizeBaseURL("APIURL", cmp.Or(cfg.APIURL, DefaultAPIURL))
	if err != nil {
		return nil, err
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: exchangeTimeout}
	}
	h.client = github.NewClient(httpClient)
	if h.client.BaseURL, err = url.Parse(apiURL + "/"); err != nil {
		return nil, fmt.Errorf("failed to parse APIURL: %w", err)
	}
	return h, nil
}

// ServeHTTP routes the two pages of the flow.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve http.HandlerFunc
	switch r.URL.Path {
	case "/":
		serve = h.serveSetup
	case callbackPath:
		serve = h.serveCallback
	default:
		h.renderMessage(w, r, http.StatusNotFound, "Not found",
			"This server is waiting for its GitHub App to be registered; only the setup page is available.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.renderMessage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "Use GET.")
		return
	}
	if h.closed() {
		h.renderClosed(w, r)
		return
	}
	serve(w, r)
}

// closed reports whether the app is registered: by a callback of this process, or in the env
// file (by another process or by hand).
func (h *handler) closed() bool {
	if h.registered.Load() {
		return true
	}
	doc, err := config.ReadEnvFile(h.envFile)
	return err == nil && doc.HasAppCredentials()
}

// renderClosed answers a setup route after registration.
func (h *handler) renderClosed(w http.ResponseWriter, r *http.Request) {
	h.renderMessageHint(w, r, http.StatusGone, "The GitHub App is already registered",
		"This server's GitHub App credentials are saved in "+h.envFile+", so the setup page is closed and nothing was changed.",
		"Restart autonomous serve to use the app. To register a different app, remove its credentials from "+h.envFile+" first.")
}

// normalizeBaseURL checks that raw is an absolute http(s) URL without query or fragment and
// returns it without a trailing slash.
func normalizeBaseURL(name, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("failed to parse %s: %w", name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("invalid %s %q: want an absolute http(s) URL without query", name, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// errInvalidHost reports a request whose host headers cannot form a public URL.
var errInvalidHost = errors.New("invalid Host or X-Forwarded-Host header")

// requestScheme is the scheme the browser used: X-Forwarded-Proto from a proxy, else TLS or not.
func requestScheme(r *http.Request) (string, error) {
	if proto := firstHeaderValue(r, "X-Forwarded-Proto"); proto != "" {
		proto = strings.ToLower(proto)
		if proto != "http" && proto != "https" {
			return "", errors.New("invalid X-Forwarded-Proto header")
		}
		return proto, nil
	}
	if r.TLS != nil {
		return "https", nil
	}
	return "http", nil
}

// baseURL is the URL GitHub should use to reach this server: PublicURL, or derived from the request.
func (h *handler) baseURL(r *http.Request) (string, error) {
	if h.publicURL != "" {
		return h.publicURL, nil
	}
	scheme, err := requestScheme(r)
	if err != nil {
		return "", err
	}
	host := firstHeaderValue(r, "X-Forwarded-Host")
	if host == "" {
		host = r.Host
	}
	if !validHost(host) {
		return "", errInvalidHost
	}
	return scheme + "://" + strings.ToLower(host), nil
}

// firstHeaderValue returns the first comma-separated element of a (proxy) header, trimmed.
func firstHeaderValue(r *http.Request, name string) string {
	first, _, _ := strings.Cut(r.Header.Get(name), ",")
	return strings.TrimSpace(first)
}

// validHost accepts host[:port] where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
func validHost(host string) bool {
	if host == "" || len(host) > 261 {
		return false
	}
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		name, port = host[:i], host[i+1:]
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
	}
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		return len(name) > 2 && strings.Trim(name[1:len(name)-1], "0123456789abcdefABCDEF:.") == ""
	}
	return name != "" && strings.Trim(strings.ToLower(name), "abcdefghijklmnopqrstuvwxyz0123456789.-") == ""
}
