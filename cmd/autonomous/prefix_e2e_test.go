package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/commands"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// withRepoConfig makes gh serve content as octo-org/hello-world's .github/autonomous.yml (GET
// contents, base64 as GitHub documents:
// https://docs.github.com/rest/repos/contents#get-repository-content) and returns its API URL.
func withRepoConfig(t *testing.T, gh *fakeGitHub, content string) string {
	t.Helper()
	gh.srv.HandleFunc("GET /repos/octo-org/hello-world/contents/.github/autonomous.yml", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{
			"type": "file", "encoding": "base64", "size": len(content), "name": "autonomous.yml",
			"path": ".github/autonomous.yml", "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
			"content": base64.StdEncoding.EncodeToString([]byte(content)),
		})
	})
	return gh.APIURL()
}

// TestSlashCommandCustomPrefix: a repository that configures `prefix: "!ci"` gets `!ci help`
// answered end to end; `/ci help` is then not a command of that repository.
func TestSlashCommandCustomPrefix(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	gh.setRole(e2eWriter, "write")
	cfg := testConfig(t, withRepoConfig(t, gh, "commands:\n  prefix: \"!ci\"\n"), workflowstest.SQLiteURL(t))
	e := &e2e{t: t, gh: gh, app: startApp(t, cfg, appOptions{})}

	const id = 910101
	e.comment("bang-1", id, e2eWriter, "User", "!ci help")
	out := e.waitCommand(id)
	require.Equal(t, []string{"help"}, out.Commands)
	body := e.reply(id)
	require.Contains(t, body, "Commands start a line with `!ci` or `@autonomous-ci`")
	require.Contains(t, body, "`!ci retry`")

	const slash = 910102
	e.comment("bang-2", slash, e2eWriter, "User", "/ci help")
	require.Eventually(t, func() bool {
		row := e.jobFor(commands.Kind, func(raw []byte) bool {
			var a commands.Args
			return json.Unmarshal(raw, &a) == nil && a.CommentID == slash
		})
		return row != nil && row.State == rivertype.JobStateCompleted
	}, 20*time.Second, 10*time.Millisecond)
	require.Empty(t, e.replies(slash), "the repository's prefix is !ci: /ci help is no command there")
	require.Empty(t, e.gh.reactionsOn(slash))
}
