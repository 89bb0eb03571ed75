package appsetup

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/ghapptest"
)

const (
	testState  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testPEM    = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtest0key0material0line0one\nZmFrZSBrZXkgbWF0ZXJpYWwgbGluZSB0d28=\n-----END RSA PRIVATE KEY-----\n"
	testSecret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0aabbccdd"
	testHook   = "whsec-6d1c0a7e5b9f4e2a8c3d"
)

// conversionResponse is a realistic answer of POST /app-manifests/{code}/conversions.
const conversionResponse = `{
  "id": 123,
  "slug": "autonomous-ci",
  "node_id": "MDM6QXBwMTIz",
  "owner": {"login": "contexten", "id": 1, "node_id": "MDEyOk9yZ2FuaXphdGlvbjE=", "type": "Organization", "site_admin": false},
  "name": "Autonomous CI",
  "description": "Keeps CI/CD healthy on its own.",
  "external_url": "https://github.com/contexten/autonomous",
  "html_url": "https://github.com/apps/autonomous-ci",
  "created_at": "2024-05-01T10:00:00Z",
  "updated_at": "2024-05-01T10:00:00Z",
  "permissions": {"actions": "write", "checks": "write", "contents": "read", "issues": "write", "metadata": "read", "pull_requests": "write"},
  "events": ["check_run", "check_suite", "issue_comment", "push", "workflow_run"],
  "client_id": "Iv1.abc",
  "client_secret": "` + testSecret + `",
  "webhook_secret": "` + testHook + `",
  "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtest0key0material0line0one\nZmFrZSBrZXkgbWF0ZXJpYWwgbGluZSB0d28=\n-----END RSA PRIVATE KEY-----\n"
}`

// callback serves GET /setup/callback with the given code, state and state cookie.
func callback(h http.Handler, code, state, cookie string) *http.Response {
	var cookies []*http.Cookie
	if cookie != "" {
		cookies = append(cookies, &http.Cookie{Name: stateCookie, Value: cookie})
	}
	return get(h, "127.0.0.1:3000", "/setup/callback?code="+code+"&state="+state, nil, cookies...)
}

func TestCallbackRegistersApp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing string // "" = no env file yet
		keep     []string
	}{
		{name: "new env file"},
		{
			// An app id without a private key is no registration: it is replaced.
			name: "existing env file",
			existing: "# local settings\nPORT=8080\nexport DATABASE_URL=\"postgres://u@db/autonomous\"\n\n" +
				"GITHUB_APP_ID=1\nGITHUB_CLIENT_SECRET=\"-----BEGIN OLD-----\nold\n-----END OLD-----\"\nSLACK_WEBHOOK_URL=https://hooks.slack.test/x # alerts\nGITHUB_APP_ID=2\n",
			keep: []string{"# local settings", "PORT=8080", `export DATABASE_URL="postgres://u@db/autonomous"`, "SLACK_WEBHOOK_URL=https://hooks.slack.test/x # alerts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeGitHub(t, http.StatusCreated, conversionResponse)
			envFile := filepath.Join(t.TempDir(), ".env")
			if tt.existing != "" {
				require.NoError(t, os.WriteFile(envFile, []byte(tt.existing), 0o644))
			}
			var mu sync.Mutex
			var got []Credentials
			h := newTestHandler(t, Config{APIURL: api.URL() + "/", EnvFile: envFile, OnRegistered: func(c Credentials) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, c)
			}})

			resp := callback(h, "c0de42", testState, testState)
			body := readBody(t, resp)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			require.Equal(t, []string{"POST /app-manifests/c0de42/conversions"}, api.recorded())

			info, err := os.Stat(envFile)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
			entries, err := os.ReadDir(filepath.Dir(envFile))
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file is left behind")

			values, err := config.LoadEnvFile(envFile)
			require.NoError(t, err)
			require.Equal(t, "123", values["GITHUB_APP_ID"])
			require.Equal(t, "autonomous-ci", values["GITHUB_APP_SLUG"])
			require.Equal(t, "Iv1.abc", values["GITHUB_CLIENT_ID"])
			require.Equal(t, testSecret, values["GITHUB_CLIENT_SECRET"])
			require.Equal(t, testHook, values["GITHUB_WEBHOOK_SECRET"])
			require.Equal(t, testPEM, values["GITHUB_PRIVATE_KEY"])

			raw, err := os.ReadFile(envFile)
			require.NoError(t, err)
			text := string(raw)
			require.Contains(t, text, `GITHUB_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\nMIIEow`)
			require.Equal(t, 1, strings.Count(text, "GITHUB_APP_ID="))
			require.NotContains(t, text, "OLD")
			for _, line := range tt.keep {
				require.Contains(t, text, line+"\n")
			}

			for _, secret := range []string{testSecret, testHook, "PRIVATE KEY", "MIIEow", "Iv1.abc"} {
				require.NotContains(t, body, secret)
			}
			require.Contains(t, body, `href="https://github.com/apps/autonomous-ci/installations/new"`)
			require.Contains(t, body, "Restart <code>autonomous serve</code>")
			require.Contains(t, body, "<code>123</code>")
			cleared := stateCookieOf(t, resp)
			require.Negative(t, cleared.MaxAge)

			require.Equal(t, []Credentials{{
				AppID: 123, Slug: "autonomous-ci", ClientID: "Iv1.abc", ClientSecret: testSecret,
				WebhookSecret: testHook, PrivateKeyPEM: testPEM, HTMLURL: "https://github.com/apps/autonomous-ci",
			}}, got)
		})
	}
}

func TestCallbackRejectsRequestsWithoutValidState(t *testing.T) {
	t.Parallel()
	other := strings.Repeat("f", 64)
	tests := []struct {
		name   string
		code   string
		state  string
		cookie string
		want   string
	}{
		{name: "no cookie", code: "c0de", state: testState, want: "state does not match"},
		{name: "no state", code: "c0de", cookie: testState, want: "state does not match"},
		{name: "mismatch", code: "c0de", state: other, cookie: testState, want: "state does not match"},
		{name: "malformed cookie", code: "c0de", state: "abc", cookie: "abc", want: "state does not match"},
		{name: "missing code", state: testState, cookie: testState, want: "valid code"},
		{name: "path in code", code: "..%2F..%2Fuser", state: testState, cookie: testState, want: "valid code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeGitHub(t, http.StatusCreated, conversionResponse)
			envFile := filepath.Join(t.TempDir(), ".env")
			h := newTestHandler(t, Config{APIURL: api.URL(), EnvFile: envFile})
			resp := callback(h, tt.code, tt.state, tt.cookie)
			body := readBody(t, resp)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Contains(t, body, tt.want)
			require.Empty(t, api.recorded(), "the code is not exchanged")
			require.NoFileExists(t, envFile)
		})
	}
}

func TestCallbackExchangeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"unknown or expired code", http.StatusNotFound, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`, "expired"},
		{"unprocessable", http.StatusUnprocessableEntity, `{"message":"Validation Failed"}`, "422"},
		{"server error", http.StatusInternalServerError, `{"message":"oops, secret ` + testSecret + `"}`, "server error (status 500)"},
		{"bad gateway without JSON", http.StatusBadGateway, `<html>bad gateway</html>`, "server error (status 502)"},
		{"incomplete answer", http.StatusCreated, `{"id":123,"slug":"autonomous-ci","client_secret":"` + testSecret + `"}`, "did not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeGitHub(t, tt.status, tt.body)
			envFile := filepath.Join(t.TempDir(), ".env")
			require.NoError(t, os.WriteFile(envFile, []byte("PORT=8080\n"), 0o644))
			called := false
			h := newTestHandler(t, Config{APIURL: api.URL(), EnvFile: envFile, OnRegistered: func(Credentials) { called = true }})
			resp := callback(h, "c0de42", testState, testState)
			body := readBody(t, resp)
			require.Equal(t, http.StatusBadGateway, resp.StatusCode)
			require.Contains(t, body, tt.want)
			require.Contains(t, body, "Nothing was saved")
			require.NotContains(t, body, testSecret)
			require.NotContains(t, body, "c0de42")
			require.Equal(t, []string{"POST /app-manifests/c0de42/conversions"}, api.recorded())
			raw, err := os.ReadFile(envFile)
			require.NoError(t, err)
			require.Equal(t, "PORT=8080\n", string(raw))
			require.False(t, called)
		})
	}
}

func TestCallbackExchangeTimeout(t *testing.T) {
	t.Parallel()
	api := ghapptest.New(t)
	api.HandleFunc("POST /app-manifests/{code}/conversions", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	envFile := filepath.Join(t.TempDir(), ".env")
	h := newTestHandler(t, Config{APIURL: api.URL(), EnvFile: envFile, HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
	resp := callback(h, "c0de42", testState, testState)
	body := readBody(t, resp)
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	require.Contains(t, body, "did not answer in time")
	require.NoFileExists(t, envFile)
	require.Equal(t, []string{"POST /app-manifests/c0de42/conversions"}, api.Calls(""))
}

func TestCallbackUnreadableEnvFileStopsBeforeExchange(t *testing.T) {
	t.Parallel()
	api := newFakeGitHub(t, http.StatusCreated, conversionResponse)
	envFile := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(envFile, []byte("KEY=\"unterminated\n"), 0o600))
	h := newTestHandler(t, Config{APIURL: api.URL(), EnvFile: envFile})
	resp := callback(h, "c0de42", testState, testState)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Empty(t, api.recorded(), "the single-use code is kept when the credentials could not be saved")
}

func TestCallbackGitHubEnterpriseAPIPath(t *testing.T) {
	t.Parallel()
	api := newFakeGitHub(t, http.StatusCreated, conversionResponse)
	h := newTestHandler(t, Config{APIURL: api.URL() + "/api/v3", GitHubURL: "https://ghe.example.com"})
	resp := callback(h, "c0de42", testState, testState)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, []string{"POST /api/v3/app-manifests/c0de42/conversions"}, api.recorded())
}

func TestCallbackLogsNoSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"registered", http.StatusCreated, conversionResponse, "Registered the GitHub App"},
		{"exchange failed", http.StatusNotFound, `{"message":"Not Found"}`, "Failed to exchange"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeGitHub(t, tt.status, tt.body)
			h := newTestHandler(t, Config{APIURL: api.URL()})
			var logs strings.Builder
			logger := zerolog.New(&logs)
			req := httptest.NewRequest(http.MethodGet, "/setup/callback?code=c0de42&state="+testState, nil)
			req.AddCookie(&http.Cookie{Name: stateCookie, Value: testState})
			req = req.WithContext(logger.WithContext(req.Context()))
			h.ServeHTTP(httptest.NewRecorder(), req)
			require.Contains(t, logs.String(), tt.want)
			for _, secret := range []string{testSecret, testHook, "PRIVATE KEY", "MIIEow", "c0de42"} {
				require.NotContains(t, logs.String(), secret)
			}
		})
	}
}
