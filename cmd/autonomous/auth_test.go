package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

func TestTokenMatchesAuthorizationSchemes(t *testing.T) {
	t.Parallel()
	const token = "admin-token"
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"Bearer admin-token", true},
		{"bearer admin-token", true}, // RFC 7235: the scheme is case-insensitive
		{"BEARER admin-token", true},
		{"Bearer  admin-token ", true},
		{"admin-token", false}, // a bare token without a scheme
		{"Token admin-token", false},
		{"Bearer", false},
		{"Bearer ", false},
		{"Bearer admin-token2", false},
		{"Bearer admin-toke", false},
		{"Bearer wrong", false},
		{"", false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/metrics", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		require.Equal(t, tc.want, tokenMatches(req, token), "%q", tc.header)
	}
	basic := func(user, password string) *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/riverui/", nil)
		req.SetBasicAuth(user, password)
		return req
	}
	require.True(t, tokenMatches(basic("operator", token), token), "River UI's basic auth")
	require.True(t, tokenMatches(basic("", token), token))
	require.False(t, tokenMatches(basic("operator", "wrong"), token))
	require.False(t, tokenMatches(basic("operator", ""), token))
	require.False(t, tokenMatches(httptest.NewRequest(http.MethodGet, "/", nil), ""), "no configured token: closed")
	empty := httptest.NewRequest(http.MethodGet, "/", nil)
	empty.Header.Set("Authorization", "Bearer ")
	require.False(t, tokenMatches(empty, ""), "an empty bearer never matches an unset token")
}

// TestOperatorAPIAuthorizationThroughServer checks the schemes on the running server.
func TestOperatorAPIAuthorizationThroughServer(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})
	status := func(header string) int {
		req, err := http.NewRequest(http.MethodGet, app.URL()+"/api/metrics", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, status("bearer admin-token"))
	require.Equal(t, http.StatusOK, status("Bearer admin-token"))
	require.Equal(t, http.StatusUnauthorized, status("admin-token"))
	require.Equal(t, http.StatusUnauthorized, status("Basic admin-token"))
}
