package appsetup

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSetupCannotBeReplayed: after one visitor registered the app, a second visitor can neither
// open the setup page nor complete a callback of their own; the code is not exchanged and the
// env file keeps the first app's credentials.
func TestSetupCannotBeReplayed(t *testing.T) {
	t.Parallel()
	api := newFakeGitHub(t, http.StatusCreated, conversionResponse)
	envFile := filepath.Join(t.TempDir(), ".env")
	h := newTestHandler(t, Config{APIURL: api.URL(), EnvFile: envFile})

	first := get(h, "127.0.0.1:8080", "/", nil)
	readBody(t, first)
	require.Equal(t, http.StatusOK, first.StatusCode)
	state := stateCookieOf(t, first).Value
	resp := callback(h, "c0de1", state, state)
	require.Equal(t, http.StatusOK, resp.StatusCode, readBody(t, resp))
	saved, err := os.ReadFile(envFile)
	require.NoError(t, err)

	// The second visitor, with a state of their own and a code of another app.
	page := get(h, "127.0.0.1:8080", "/", nil)
	body := readBody(t, page)
	require.Equal(t, http.StatusGone, page.StatusCode)
	require.Contains(t, body, "already registered")
	require.NotContains(t, body, `name="manifest"`)
	resp = callback(h, "c0de2", testState, testState)
	body = readBody(t, resp)
	require.Equal(t, http.StatusGone, resp.StatusCode)
	require.Contains(t, body, "nothing was changed")

	require.Equal(t, []string{"POST /app-manifests/c0de1/conversions"}, api.recorded(), "the second code is never exchanged")
	after, err := os.ReadFile(envFile)
	require.NoError(t, err)
	require.Equal(t, string(saved), string(after))
}

// TestSetupConcurrentCallbacksRegisterOnce: of many callbacks racing, one registers the app.
func TestSetupConcurrentCallbacksRegisterOnce(t *testing.T) {
	t.Parallel()
	api := newFakeGitHub(t, http.StatusCreated, conversionResponse)
	envFile := filepath.Join(t.TempDir(), ".env")
	var mu sync.Mutex
	registered := 0
	h := newTestHandler(t, Config{APIURL: api.URL(), EnvFile: envFile, OnRegistered: func(Credentials) {
		mu.Lock()
		registered++
		mu.Unlock()
	}})
	const n = 16
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := callback(h, "c0de"+strings.Repeat("x", i), testState, testState)
			_ = resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	counts := map[int]int{}
	for c := range codes {
		counts[c]++
	}
	require.Equal(t, map[int]int{http.StatusOK: 1, http.StatusGone: n - 1}, counts)
	require.Len(t, api.recorded(), 1)
	require.Equal(t, 1, registered)
}

// TestSetupRefusedWhenEnvFileHoldsCredentials: credentials written by another process (or by
// hand) close the setup routes of a server that started without them.
func TestSetupRefusedWhenEnvFileHoldsCredentials(t *testing.T) {
	t.Parallel()
	for name, existing := range map[string]string{
		"inline key": "GITHUB_APP_ID=7\nGITHUB_PRIVATE_KEY=\"" + strings.ReplaceAll(testPEM, "\n", `\n`) + "\"\nGITHUB_WEBHOOK_SECRET=s\n",
		"key path":   "GITHUB_APP_ID=7\nGITHUB_PRIVATE_KEY_PATH=/etc/app.pem\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := newFakeGitHub(t, http.StatusCreated, conversionResponse)
			envFile := filepath.Join(t.TempDir(), ".env")
			require.NoError(t, os.WriteFile(envFile, []byte(existing), 0o600))
			h := newTestHandler(t, Config{APIURL: api.URL(), EnvFile: envFile})
			page := get(h, "127.0.0.1:8080", "/", nil)
			readBody(t, page)
			require.Equal(t, http.StatusGone, page.StatusCode)
			resp := callback(h, "c0de", testState, testState)
			readBody(t, resp)
			require.Equal(t, http.StatusGone, resp.StatusCode)
			require.Empty(t, api.recorded())
			after, err := os.ReadFile(envFile)
			require.NoError(t, err)
			require.Equal(t, existing, string(after))
		})
	}
}
