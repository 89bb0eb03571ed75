package dependencymanagement_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	dm "github.com/contexten/autonomous/workflows/dependencymanagement"
)

const workflowYML = `name: ci
on: [push]   # keep
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@1111111111111111111111111111111111111111 # v4.1.0
      # a comment between steps
      - uses: actions/setup-go@v5
      - run: go test ./...
`

func TestActionsKeepTheirPinStyleAndComments(t *testing.T) {
	h := newHarness(t)
	h.tags["actions/checkout"] = []map[string]any{
		{"name": "v4.1.0", "commit": map[string]any{"sha": "1111111111111111111111111111111111111111"}},
		{"name": "v4.2.2", "commit": map[string]any{"sha": "2222222222222222222222222222222222222222"}},
		{"name": "v4", "commit": map[string]any{"sha": "2222222222222222222222222222222222222222"}},
	}
	h.tags["actions/setup-go"] = []map[string]any{
		{"name": "v5", "commit": map[string]any{"sha": "5555555555555555555555555555555555555555"}},
		{"name": "v5.0.1", "commit": map[string]any{"sha": "5555555555555555555555555555555555555555"}},
		{"name": "v6", "commit": map[string]any{"sha": "6666666666666666666666666666666666666666"}},
	}
	h.seed(map[string]string{".github/workflows/ci.yml": workflowYML})
	h.configure(func(c *config.DependencyManagementConfig) {
		c.UpdateStrategy = "aggressive"
		c.Groups = []config.DependencyGroup{{Name: "actions", Ecosystems: []string{"GitHub Actions"}}}
	})
	out := h.run(t, repoArgs("cli:1"))
	pulls := h.openPulls()
	require.Len(t, pulls, 1, "every action in one group: %+v", out)
	got := string(h.repo.Files(pulls[0].Head)[".github/workflows/ci.yml"])
	want := strings.NewReplacer(
		"1111111111111111111111111111111111111111 # v4.1.0", "2222222222222222222222222222222222222222 # v4.2.2",
		"setup-go@v5", "setup-go@v6").Replace(workflowYML)
	require.Equal(t, want, got, "the SHA pin moves to the release's commit with its tag in the comment; v5 stays a major tag")
	require.Contains(t, pulls[0].Body, "https://github.com/actions/checkout/releases/tag/v4.2.2")
}

const packageJSON = `{
  "name": "web",
  "dependencies": {
    "left": "^1.0.0",
    "right": "~2.0.0"
  }
}
`

const packageLock = `{
  "name": "web",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "web",
      "dependencies": {
        "left": "^1.0.0",
        "right": "~2.0.0"
      }
    },
    "node_modules/left": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/left/-/left-1.0.0.tgz",
      "integrity": "sha512-10101010101010101010101010101010==",
      "dependencies": {
        "tiny": "^1.0.0"
      }
    },
    "node_modules/right": {
      "version": "2.0.0",
      "resolved": "https://registry.npmjs.org/right/-/right-2.0.0.tgz",
      "integrity": "sha512-200200200200200200200200200200=="
    },
    "node_modules/tiny": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/tiny/-/tiny-1.0.0.tgz",
      "integrity": "sha512-100100100100100100100100100100=="
    }
  }
}
`

func TestNPMLockIsUpdatedOrNeedsRegeneration(t *testing.T) {
	h := newHarness(t)
	h.reg.addNPM("left", "1.0.0", map[string]string{"tiny": "^1.0.0"})
	h.reg.addNPM("left", "1.1.0", map[string]string{"tiny": "^1.0.0", "right": "~2.0.0"}) // a new dependency the lock satisfies
	h.reg.addNPM("right", "2.0.0", nil)
	h.reg.addNPM("right", "2.0.1", map[string]string{"huge": "^9.0.0"}) // a new dependency the lock lacks
	h.reg.addNPM("tiny", "1.0.0", nil)
	h.seed(map[string]string{"package.json": packageJSON, "package-lock.json": packageLock})

	out := h.run(t, repoArgs("cli:1"))

	pulls := h.openPulls()
	require.Len(t, pulls, 1, "right needs lock regeneration and gets no PR: %+v", out)
	require.Equal(t, dm.BranchPrefix+"npm-left", pulls[0].Head)
	files := h.repo.Files(pulls[0].Head)
	require.Equal(t, strings.Replace(packageJSON, `"left": "^1.0.0"`, `"left": "^1.1.0"`, 1), string(files["package.json"]))
	wantLock := strings.NewReplacer(
		`"left": "^1.0.0"`, `"left": "^1.1.0"`,
		`"version": "1.0.0",
      "resolved": "https://registry.npmjs.org/left/-/left-1.0.0.tgz",
      "integrity": "sha512-10101010101010101010101010101010==",
      "dependencies": {
        "tiny": "^1.0.0"
      }`, `"version": "1.1.0",
      "resolved": "https://registry.npmjs.org/left/-/left-1.1.0.tgz",
      "integrity": "sha512-110110110110110110110110110110==",
      "dependencies": {
        "right": "~2.0.0",
        "tiny": "^1.0.0"
      }`).Replace(packageLock)
	require.Equal(t, wantLock, string(files["package-lock.json"]))
	require.Len(t, out.Blocked, 1)
	require.Contains(t, out.Blocked[0], "right 2.0.0 → 2.0.1")
	require.Contains(t, out.Blocked[0], dm.NeedsLock)
	require.Contains(t, h.issues[0].GetBody(), dm.NeedsLock, "the dashboard lists it as blocked")
}

func TestRegistryAndGitHubFaults(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	delete(h.reg.pypi, "flask") // 404 from PyPI: a problem for flask, the rest goes on
	out := h.run(t, repoArgs("cli:1"))
	require.Len(t, h.openPulls(), 1)
	require.Len(t, out.Problems, 1)
	require.Contains(t, out.Problems[0], "flask")

	// A 503 from PyPI fails the attempt (no partial plan); the retry succeeds.
	h3 := newHarness(t)
	pyRepo(h3)
	h3.reg.failOnce("/pypi/flask/json", 503)
	out = h3.run(t, repoArgs("cli:1"))
	require.Len(t, h3.openPulls(), 2, "%+v", out)
	require.Empty(t, out.Problems)

	// A 5xx from GitHub while listing the tree is retried: the job fails this attempt.
	h2 := newHarness(t)
	pyRepo(h2)
	h2.srv.Fail(ghapptest.Fault{Method: "GET", Path: "/repos/octo/app/git/trees/" + h2.repo.Head("main"), Status: 502, Body: `{"message":"Bad Gateway"}`, Times: 1})
	out = h2.run(t, repoArgs("cli:1"))
	require.Len(t, h2.openPulls(), 2, "the retry after the 502 opens the PRs: %+v", out)
}

func TestHumanPushedBranchIsLeftAlone(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	h.run(t, repoArgs("cli:1"))
	b := dm.BranchPrefix + "pypi-requests"
	h.repo.Commit(b, b, "person@example.com", "my fix", map[string][]byte{"requirements.txt": []byte("requests==2.32.0\nflask==2.0.1\n")})
	pushed := h.repo.Head(b)
	h.ciRunning()
	out := h.run(t, repoArgs("cli:2"))
	require.Equal(t, pushed, h.repo.Head(b), "the person's commit stays")
	require.Contains(t, strings.Join(out.Blocked, "\n"), "a person pushed")
}

func TestBrokenManifestIsReportedAndTheRestUpdated(t *testing.T) {
	h := newHarness(t)
	h.reg.pypi["requests"] = []string{"2.31.0", "2.31.1"}
	h.seed(map[string]string{"requirements.txt": "requests==2.31.0\n", "web/package.json": "{\"dependencies\": {", "go.mod": "module x\n\ngo 1.21\nrequire (\n"})
	out := h.run(t, repoArgs("cli:1"))
	require.Len(t, out.ParseErrors, 2, "%+v", out)
	require.Contains(t, out.ParseErrors[0], "go.mod")
	require.Contains(t, out.ParseErrors[1], "web/package.json")
	require.Len(t, h.openPulls(), 1)
}
