package dependencymanagement_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	dm "github.com/contexten/autonomous/workflows/dependencymanagement"
)

func followUp(branch, sha, suite string) dm.Args {
	a := repoArgs("check_suite:" + suite)
	a.Branch, a.HeadSHA = branch, sha
	return a
}

func pullOf(t *testing.T, h *harness, head string) (int, bool, string) {
	t.Helper()
	for _, p := range h.repo.Pulls() {
		if p.Head == head {
			return p.Number, p.Merged, p.MergeMethod
		}
	}
	t.Fatalf("no pull request from %s", head)
	return 0, false, ""
}

func TestGreenUpdateIsMergedAndRedIsNot(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	h.run(t, repoArgs("cli:1"))
	green, red := dm.BranchPrefix+"pypi-requests", dm.BranchPrefix+"pypi-flask"
	greenSHA, redSHA := h.repo.Head(green), h.repo.Head(red)
	h.setChecks(greenSHA, checkRun("test", "completed", "success"), checkRun("lint", "completed", "skipped"))
	h.setChecks(redSHA, checkRun("test", "completed", "success"), checkRun("lint", "completed", "failure"))

	out := h.run(t, followUp(green, greenSHA, "1"))
	require.Equal(t, "green", out.Checks)
	_, merged, method := pullOf(t, h, green)
	require.True(t, merged)
	require.Equal(t, "squash", method)

	out = h.run(t, followUp(red, redSHA, "2"))
	require.Equal(t, "failed", out.Checks)
	n, merged, _ := pullOf(t, h, red)
	require.False(t, merged)
	notes := h.repo.Comments(n)
	require.Len(t, notes, 1)
	require.Contains(t, notes[0], "lint: failure")
	// Another suite of the same head: still one note.
	h.run(t, followUp(red, redSHA, "3"))
	require.Len(t, h.repo.Comments(n), 1)
}

func TestPendingChecksWaitAndStaleHeadIsSkipped(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	h.run(t, repoArgs("cli:1"))
	b := dm.BranchPrefix + "pypi-requests"
	sha := h.repo.Head(b)
	h.setChecks(sha, checkRun("test", "completed", "success"))
	h.mu.Lock()
	h.status[sha] = map[string]any{"state": "pending", "total_count": 1, "statuses": []any{map[string]any{"context": "ci/legacy", "state": "pending"}}}
	h.mu.Unlock()
	out := h.run(t, followUp(b, sha, "1"))
	require.Equal(t, "pending", out.Checks, "a pending commit status holds the merge")
	out = h.run(t, followUp(b, strings.Repeat("0", 40), "2"))
	require.Contains(t, out.Skipped, "head moved")
	_, merged, _ := pullOf(t, h, b)
	require.False(t, merged)
}

func TestMajorsAndTestBeforeMergeOffAreNeverMerged(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	args := repoArgs("cli:1")
	args.UpdateStrategy = "aggressive"
	h.run(t, args)
	b := dm.BranchPrefix + "pypi-flask"
	sha := h.repo.Head(b)
	h.setChecks(sha, checkRun("test", "completed", "success"))
	out := h.run(t, followUp(b, sha, "1"))
	require.Contains(t, out.Skipped, "major")
	_, merged, _ := pullOf(t, h, b)
	require.False(t, merged)

	h.configure(func(c *config.DependencyManagementConfig) { c.TestBeforeMerge = false })
	b = dm.BranchPrefix + "pypi-requests"
	sha = h.repo.Head(b)
	h.setChecks(sha, checkRun("test", "completed", "success"))
	out = h.run(t, followUp(b, sha, "2"))
	require.Contains(t, out.Skipped, "test_before_merge is off")
	_, merged, _ = pullOf(t, h, b)
	require.False(t, merged)
}
