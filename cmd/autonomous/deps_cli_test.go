package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCLIExecuteDependencyManagementPrintsTheReport: `execute dependency_management --wait`
// prints the dependency dashboard people read, not the output's JSON, which --json prints whole
// with the same report in it.
func TestCLIExecuteDependencyManagementPrintsTheReport(t *testing.T) {
	t.Parallel()
	a := startAuditE2E(t) // a fake GitHub with the repository's Git data
	a.gh.srv.HandleFunc("GET /repos/octo-org/hello-world/installation", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 2311213})
	})
	a.gh.srv.HandleFunc("GET /repos/octo-org/hello-world/issues", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, []any{})
	})
	a.gh.srv.HandleFunc("POST /repos/octo-org/hello-world/issues", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusCreated, map[string]any{"number": 12})
	})
	a.repo.Commit("main", "", "dev@example.com", "initial", map[string][]byte{"README.md": []byte("# hello\n")})
	creds := writeConfig(t, a.app.cfg.DatabaseURL, credentialLines(t, a.gh.APIURL())...)

	code, out, errOut := runCLI(t, "", "execute", "dependency_management", "--repo", "octo-org/hello-world", "--wait", "--timeout", "30s", "--config", creds)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^execution \d+ completed\n\n`, out)
	require.NotContains(t, out, `"dashboard_issue"`, "the report, not the JSON")
	require.NotContains(t, out, "<!--", "no issue marker in the terminal")

	code, out, errOut = runCLI(t, "", "execute", "dependency_management", "--repo", "octo-org/hello-world", "--wait", "--json", "--timeout", "30s", "--config", creds)
	require.Equal(t, 0, code, errOut)
	var x struct {
		State  string `json:"state"`
		Output struct {
			Report string `json:"report"`
		} `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x), out)
	require.Equal(t, "completed", x.State)
	require.NotEmpty(t, x.Output.Report)
}
