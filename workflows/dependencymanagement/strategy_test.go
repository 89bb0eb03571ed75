package dependencymanagement_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	dm "github.com/contexten/autonomous/workflows/dependencymanagement"
)

const requirements = `# Runtime pins. This comment stays.
requests==2.31.0   # http
flask == 2.0.1
`

func pyRepo(h *harness) {
	h.reg.pypi["requests"] = []string{"2.31.0", "2.31.1", "2.32.0", "3.0.0", "3.1.0b1"}
	h.reg.pypi["flask"] = []string{"2.0.1", "2.0.3", "2.3.0", "3.0.0"}
	h.seed(map[string]string{"requirements.txt": requirements})
}

func TestStrategiesOpenTheirUpdates(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		want     map[string]string // branch -> requirements.txt
		majors   int
	}{
		{strategy: "conservative", want: map[string]string{
			"pypi-requests": strings.Replace(requirements, "2.31.0", "2.31.1", 1),
			"pypi-flask":    strings.Replace(requirements, "2.0.1", "2.0.3", 1),
		}, majors: 2},
		{strategy: "smart", want: map[string]string{
			"pypi-requests": strings.Replace(requirements, "2.31.0", "2.32.0", 1),
			"pypi-flask":    strings.Replace(requirements, "2.0.1", "2.3.0", 1),
		}, majors: 2},
		{strategy: "aggressive", want: map[string]string{
			"pypi-requests": strings.Replace(requirements, "2.31.0", "3.0.0", 1), // 3.1.0b1 is a pre-release
			"pypi-flask":    strings.Replace(requirements, "2.0.1", "3.0.0", 1),
		}},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			h := newHarness(t)
			pyRepo(h)
			args := repoArgs("cli:1")
			args.UpdateStrategy = tc.strategy
			out := h.run(t, args)
			got := map[string]string{}
			for _, p := range h.openPulls() {
				got[strings.TrimPrefix(p.Head, dm.BranchPrefix)] = string(h.repo.Files(p.Head)["requirements.txt"])
			}
			require.Equal(t, tc.want, got)
			require.Len(t, out.Majors, tc.majors, "majors are listed, not opened: %v", out.Majors)
		})
	}
}

func TestOpenPRLimitHoldsAndSecurityGoesPast(t *testing.T) {
	h := newHarness(t)
	h.reg.pypi["alpha"] = []string{"1.0.0", "1.1.0"}
	h.reg.pypi["beta"] = []string{"1.0.0", "1.1.0"}
	h.reg.pypi["gamma"] = []string{"1.0.0", "1.1.0"}
	h.reg.pypi["delta"] = []string{"1.0.0", "1.0.5", "1.1.0"}
	h.osv.add("PYSEC-2024-1", []string{"GHSA-dddd-eeee-ffff"}, "PyPI", "delta", []string{"1.0.0"}, "1.0.5", "")
	h.osv.add("GHSA-dddd-eeee-ffff", []string{"PYSEC-2024-1"}, "PyPI", "delta", []string{"1.0.0"}, "1.0.5", "")
	h.seed(map[string]string{"requirements.txt": "alpha==1.0.0\nbeta==1.0.0\ngamma==1.0.0\ndelta==1.0.0\n"})
	h.configure(func(c *config.DependencyManagementConfig) { c.MaxOpenPRs = 2 })

	out := h.run(t, repoArgs("cli:1"))

	var heads []string
	for _, p := range h.openPulls() {
		heads = append(heads, strings.TrimPrefix(p.Head, dm.BranchPrefix))
	}
	sort.Strings(heads)
	require.Equal(t, []string{"pypi-alpha", "pypi-beta", "security-pypi-delta"}, heads,
		"the security fix first and past the limit, then the limit's two updates in a stable order")
	require.Equal(t, []string{dm.BranchPrefix + "pypi-gamma"}, out.Pending)
	require.Contains(t, string(h.repo.Files(dm.BranchPrefix + "security-pypi-delta")["requirements.txt"]), "delta==1.0.5\n",
		"the smallest fixing version, not the newest")

	// The next run opens nothing new while the limit is reached.
	h.ciRunning()
	h.run(t, repoArgs("cli:2"))
	require.Len(t, h.openPulls(), 3)
	require.Contains(t, h.issues[0].GetBody(), "open pull request limit")
}

func TestGroupsAndIgnore(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	h.reg.pypi["pytest"] = []string{"7.0.0", "7.4.0"}
	h.seed(map[string]string{"requirements.txt": requirements, "requirements-dev.txt": "pytest==7.0.0\n"})
	h.configure(func(c *config.DependencyManagementConfig) {
		c.Groups = []config.DependencyGroup{{Name: "python", Ecosystems: []string{"PyPI"}, Patterns: []string{"*"}}}
		c.Ignore = []config.DependencyIgnore{{Dependency: "flask"}}
	})
	out := h.run(t, repoArgs("cli:1"))
	pulls := h.openPulls()
	require.Len(t, pulls, 1, "%+v", out)
	require.Equal(t, dm.BranchPrefix+"group-python", pulls[0].Head)
	files := h.repo.Files(pulls[0].Head)
	require.Equal(t, strings.Replace(requirements, "2.31.0", "2.32.0", 1), string(files["requirements.txt"]), "flask is ignored")
	require.Equal(t, "pytest==7.4.0\n", string(files["requirements-dev.txt"]))
	require.Equal(t, []string{"flask 2.0.1 → 2.3.0"}, out.Ignored)
}
