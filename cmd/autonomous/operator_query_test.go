package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// TestOperatorListsRefuseBadQueries: the operator lists answer a limit that is not a number in
// their range, or a state River does not have, with 400 and the reason, as /api/recoveries
// does, rather than silently listing the default (or nothing).
func TestOperatorListsRefuseBadQueries(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})
	c := newOperatorClient(t, app)

	for _, tc := range []struct {
		path string
		want int
		says string
	}{
		{"/api/executions?limit=abc", http.StatusBadRequest, "limit must be a number from 1 to 1000"},
		{"/api/executions?limit=0", http.StatusBadRequest, "limit must be a number from 1 to 1000"},
		{"/api/executions?limit=-1", http.StatusBadRequest, "limit must be a number from 1 to 1000"},
		{"/api/executions?limit=1001", http.StatusBadRequest, "limit must be a number from 1 to 1000"},
		{"/api/executions?state=bogus", http.StatusBadRequest, `unknown state \"bogus\" (known: available, cancelled`},
		{"/api/executions?state=completed,", http.StatusOK, `"executions"`},
		{"/api/executions?limit=1000&state=completed,discarded", http.StatusOK, `"executions"`},
		{"/api/executions", http.StatusOK, `"executions"`},
		{"/api/alerts?limit=abc", http.StatusBadRequest, "limit must be a number from 1 to 500"},
		{"/api/alerts?limit=0", http.StatusBadRequest, "limit must be a number from 1 to 500"},
		{"/api/alerts?limit=501", http.StatusBadRequest, "limit must be a number from 1 to 500"},
		{"/api/alerts?limit=500", http.StatusOK, `"alerts"`},
		{"/api/alerts", http.StatusOK, `"alerts"`},
		{"/api/recoveries?limit=abc", http.StatusBadRequest, "limit must be a number from 1 to 500"},
	} {
		code, hdr, body := c.do(http.MethodGet, tc.path, "", bearerOK)
		require.Equal(t, tc.want, code, "%s: %s", tc.path, body)
		require.Contains(t, body, tc.says, tc.path)
		require.Contains(t, hdr.Get("Content-Type"), "application/json", tc.path)
	}
}
