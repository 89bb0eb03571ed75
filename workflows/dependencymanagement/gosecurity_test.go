package dependencymanagement_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/config"
	dm "github.com/contexten/autonomous/workflows/dependencymanagement"
)

// zipHash is the h1: hash go mod download records for a module zip.
func zipHash(t *testing.T, zip []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "m.zip")
	require.NoError(t, os.WriteFile(f, zip, 0o644))
	h, err := dirhash.HashZip(f, dirhash.Hash1)
	require.NoError(t, err)
	return h
}

func modHash(t *testing.T, gomod string) string {
	t.Helper()
	h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader([]byte(gomod))), nil
	})
	require.NoError(t, err)
	return h
}

func goModOf(path string, requires ...string) string {
	s := "module " + path + "\n\ngo 1.21\n"
	if len(requires) > 0 {
		s += "\nrequire (\n"
		for _, r := range requires {
			s += "\t" + strings.Replace(r, "@", " ", 1) + "\n"
		}
		s += ")\n"
	}
	return s
}

const appGoMod = `// The app. Comments and spacing must survive.
module example.com/app

go 1.21

require (
	example.com/vuln v1.0.0 // keep this comment
	example.com/dep   v1.0.0
)
`

// goRepo seeds a Go module whose example.com/vuln v1.0.0 has a critical advisory known under
// two ids (GO- and GHSA-), fixed in v1.0.1, which needs example.com/dep v1.1.0.
func goRepo(t *testing.T, h *harness) (sums map[string]string) {
	t.Helper()
	sums = map[string]string{}
	add := func(path, version string, requires ...string) {
		z := h.proxy.AddMod(t, path, version, requires...)
		sums[path+" "+version] = zipHash(t, z)
		sums[path+" "+version+"/go.mod"] = modHash(t, goModOf(path, requires...))
	}
	add("example.com/dep", "v1.0.0")
	add("example.com/dep", "v1.1.0")
	add("example.com/vuln", "v1.0.0", "example.com/dep@v1.0.0")
	add("example.com/vuln", "v1.0.1", "example.com/dep@v1.1.0")
	add("example.com/vuln", "v1.1.0", "example.com/dep@v1.1.0")
	goSum := ""
	for _, k := range []string{"example.com/dep v1.0.0", "example.com/dep v1.0.0/go.mod", "example.com/vuln v1.0.0", "example.com/vuln v1.0.0/go.mod"} {
		goSum += k + " " + sums[k] + "\n"
	}
	h.osv.add("GO-2024-0001", []string{"GHSA-aaaa-bbbb-cccc", "CVE-2024-0001"}, "Go", "example.com/vuln", []string{"1.0.0"}, "1.0.1",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	h.osv.add("GHSA-aaaa-bbbb-cccc", []string{"GO-2024-0001", "CVE-2024-0001"}, "Go", "example.com/vuln", []string{"1.0.0"}, "1.0.1", "")
	h.seed(map[string]string{"go.mod": appGoMod, "go.sum": goSum, "main.go": "package main\n"})
	return sums
}

func pullByHead(t *testing.T, h *harness, head string) (number int, title, body string, labels []string) {
	t.Helper()
	for _, p := range h.repo.Pulls() {
		if p.Head == head {
			return p.Number, p.Title, p.Body, p.Labels
		}
	}
	t.Fatalf("no pull request from %s; have %v", head, h.repo.Pulls())
	return
}

func TestSecurityFixForGoModuleHasExactGoSum(t *testing.T) {
	h := newHarness(t)
	sums := goRepo(t, h)
	h.configure(func(c *config.DependencyManagementConfig) { c.UpdateStrategy = "conservative" })

	out := h.run(t, repoArgs("schedule:2026-12-02"))

	require.Len(t, h.openPulls(), 1, "only the security fix: conservative opens no minor update; output %+v", out)
	branch := dm.BranchPrefix + "security-go-example.com-vuln"
	_, title, body, labels := pullByHead(t, h, branch)
	require.Contains(t, title, "GHSA-aaaa-bbbb-cccc", "the GHSA id names the merged advisory")
	require.NotContains(t, title, "GO-2024-0001")
	require.Contains(t, title, "v1.0.1")
	require.Contains(t, labels, "security")
	require.Contains(t, body, "smallest version that fixes")
	require.Contains(t, body, "https://osv.dev/vulnerability/GHSA-aaaa-bbbb-cccc")

	files := h.repo.Files(branch)
	wantMod := strings.Replace(strings.Replace(appGoMod, "vuln v1.0.0", "vuln v1.0.1", 1), "dep   v1.0.0", "dep   v1.1.0", 1)
	require.Equal(t, wantMod, string(files["go.mod"]), "only the version strings change")

	var want []string
	for _, k := range []string{"example.com/dep v1.0.0", "example.com/dep v1.0.0/go.mod", "example.com/dep v1.1.0", "example.com/dep v1.1.0/go.mod",
		"example.com/vuln v1.0.0", "example.com/vuln v1.0.0/go.mod", "example.com/vuln v1.0.1", "example.com/vuln v1.0.1/go.mod"} {
		want = append(want, k+" "+sums[k])
	}
	got := strings.Split(strings.TrimSpace(string(files["go.sum"])), "\n")
	sort.Strings(got)
	require.Equal(t, want, got, "go.sum holds the hashes go mod download computes for the new build list")
	require.Equal(t, []string{"go.mod", "go.sum"}, h.repo.Changed("main", branch))

	require.Len(t, h.alerts.Raised(), 1, "one critical advisory, one alert")
	require.Equal(t, alerting.Critical, h.alerts.Raised()[0].Severity)
	require.Equal(t, "deps:octo/app:ghsa-aaaa-bbbb-cccc", h.alerts.Raised()[0].Fingerprint)
}

func TestRedeliveredScheduleOpensNoSecondPR(t *testing.T) {
	h := newHarness(t)
	goRepo(t, h)

	first := h.run(t, repoArgs("schedule:2026-12-02"))
	require.Len(t, h.openPulls(), 2, "the security fix and the minor update of example.com/dep: %+v", first)
	h.ciRunning() // CI still running: no merge
	pullsBefore := len(h.repo.Pulls())

	// The same day's schedule again is the same job.
	ins, err := h.engine.Enqueue(t.Context(), repoArgs("schedule:2026-12-02"), nil)
	require.NoError(t, err)
	require.True(t, ins.Duplicate)

	// The next day's run finds the PRs and leaves them as they are.
	second := h.run(t, repoArgs("schedule:2026-12-03"))
	require.Len(t, h.repo.Pulls(), pullsBefore)
	require.Len(t, h.openPulls(), 2)
	for _, p := range second.PRs {
		require.Equal(t, dm.PRUnchanged, p.Action, "%+v", p)
	}
	require.Len(t, h.issues, 1, "one dashboard issue, edited in place")
	body := h.issues[0].GetBody()
	require.Contains(t, body, "GHSA-aaaa-bbbb-cccc")
	require.Contains(t, body, "## Open update pull requests")
}
