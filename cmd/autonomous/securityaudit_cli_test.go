package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCLIExecuteSecurityAuditPrintsTheReport: `execute security_audit --wait` prints the
// audit as people read it (the check run's title and summary table), not the output's JSON,
// which --json prints whole with the same report in it.
func TestCLIExecuteSecurityAuditPrintsTheReport(t *testing.T) {
	t.Parallel()
	a := startAuditE2E(t)
	a.gh.srv.HandleFunc("GET /repos/octo-org/hello-world/installation", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"id": 2311213})
	})
	a.repo.Commit("main", "", "dev@example.com", "initial", map[string][]byte{"README.md": []byte("# hello\n")})
	a.repo.Commit("main", "", "dev@example.com", "Add the triage workflow", map[string][]byte{".github/workflows/triage.yml": []byte(auditInjected)})
	creds := writeConfig(t, a.app.cfg.DatabaseURL, credentialLines(t, a.gh.APIURL())...)

	code, out, errOut := runCLI(t, "", "execute", "security_audit", "--repo", "octo-org/hello-world", "--wait", "--timeout", "30s", "--config", creds)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^execution \d+ completed\n\n### 🛡️ Security audit: 1 finding \(1 critical\)\n\nAudited 1 workflow files`, out)
	require.Contains(t, out, "| severity | rule | where | finding |")
	require.Contains(t, out, "`.github/workflows/triage.yml:11`")
	require.NotContains(t, out, `"finding_count"`, "the report, not the JSON")

	code, out, errOut = runCLI(t, "", "execute", "security_audit", "--repo", "octo-org/hello-world", "--wait", "--json", "--timeout", "30s", "--config", creds)
	require.Equal(t, 0, code, errOut)
	var x struct {
		State  string `json:"state"`
		Output struct {
			FindingCount int    `json:"finding_count"`
			Report       string `json:"report"`
		} `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x), out)
	require.Equal(t, "completed", x.State)
	require.Equal(t, 1, x.Output.FindingCount)
	require.Contains(t, x.Output.Report, "| severity | rule | where | finding |")
}
