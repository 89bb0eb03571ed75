package dependencymanagement_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	dm "github.com/contexten/autonomous/workflows/dependencymanagement"
)

func vulnerablePy(h *harness) {
	h.reg.pypi["delta"] = []string{"1.0.0", "1.1.0", "2.0.0"}
	h.osv.add("GHSA-dddd-eeee-ffff", nil, "PyPI", "delta", []string{"1.0.0"}, "2.0.0", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")
	h.seed(map[string]string{"requirements.txt": "delta==1.0.0\n"})
}

func TestSecurityFixNeedingAMajorSaysSo(t *testing.T) {
	h := newHarness(t)
	vulnerablePy(h)
	h.run(t, repoArgs("cli:1"))
	pulls := h.openPulls()
	require.Len(t, pulls, 1, "the security fix replaces the minor update")
	require.Equal(t, dm.BranchPrefix+"security-pypi-delta", pulls[0].Head)
	require.Equal(t, "delta==2.0.0\n", string(h.repo.Files(pulls[0].Head)["requirements.txt"]))
	require.Contains(t, pulls[0].Body, "This is a major update")
	require.Contains(t, pulls[0].Body, "never merged by the bot")
}

func TestSecurityPriorityLevels(t *testing.T) {
	t.Run("normal: the fix rides with the updates", func(t *testing.T) {
		h := newHarness(t)
		vulnerablePy(h)
		args := repoArgs("cli:1")
		args.SecurityPriority, args.UpdateStrategy = "normal", "aggressive"
		h.run(t, args)
		pulls := h.openPulls()
		require.Len(t, pulls, 1)
		require.Equal(t, dm.BranchPrefix+"pypi-delta", pulls[0].Head)
		require.True(t, strings.HasPrefix(pulls[0].Title, "fix(deps):"), pulls[0].Title)
		require.Contains(t, pulls[0].Title, "GHSA-dddd-eeee-ffff")
		require.NotContains(t, pulls[0].Labels, "security")
	})
	t.Run("low: reported, not fixed", func(t *testing.T) {
		h := newHarness(t)
		vulnerablePy(h)
		args := repoArgs("cli:1")
		args.SecurityPriority = "low"
		out := h.run(t, args)
		pulls := h.openPulls()
		require.Len(t, pulls, 1)
		require.Equal(t, "delta==1.1.0\n", string(h.repo.Files(pulls[0].Head)["requirements.txt"]), "smart's minor update only")
		require.Equal(t, []string{"PyPI delta@1.0.0: GHSA-dddd-eeee-ffff (high)"}, out.Advisories)
	})
}

func TestSupersededUpdatePRIsClosed(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	h.run(t, repoArgs("cli:1"))
	require.Len(t, h.openPulls(), 2)
	h.ciRunning()
	// A person updates requests on the default branch themselves.
	h.repo.Commit("main", h.repo.Head("main"), "dev@example.com", "bump requests", map[string][]byte{
		"requirements.txt": []byte(strings.Replace(requirements, "2.31.0", "2.32.0", 1)),
	})
	out := h.run(t, repoArgs("cli:2"))
	require.Len(t, out.Closed, 1)
	open := h.openPulls()
	require.Len(t, open, 1)
	require.Equal(t, dm.BranchPrefix+"pypi-flask", open[0].Head)
	c, ok := h.repo.CommitOf(h.repo.Head(open[0].Head))
	require.True(t, ok)
	require.Equal(t, []string{h.repo.Head("main")}, c.Parents, "the remaining PR was moved onto the new base")
	require.Equal(t, strings.Replace(strings.Replace(requirements, "2.31.0", "2.32.0", 1), "2.0.1", "2.3.0", 1),
		string(h.repo.Files(open[0].Head)["requirements.txt"]))
	require.Contains(t, strings.Join(h.repo.Comments(out.Closed[0]), "\n"), "Superseded")
}
