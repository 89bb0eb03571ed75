package dependencymanagement_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDepsCommandReportsThePRsChangesAndAdvisories(t *testing.T) {
	h := newHarness(t)
	base := h.seed(map[string]string{"requirements.txt": "requests==2.31.0\nurllib3==2.0.0\n", "go.mod": "module example.com/app\n\ngo 1.21\n"})
	h.repo.Commit("feature", base, "dev@example.com", "bump", map[string][]byte{
		"requirements.txt": []byte("requests==2.32.0\nurllib3==2.0.7\nidna==1.0\n"),
	})
	h.osv.add("GHSA-1111-2222-3333", nil, "PyPI", "idna", []string{"1.0"}, "3.7", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")
	h.osv.add("GHSA-4444-5555-6666", nil, "PyPI", "urllib3", []string{"2.0.0"}, "2.0.7", "")
	n := h.repo.AddPull("feature", "main", "Bump things")

	args := repoArgs("comment:77")
	args.PullRequest = n
	out := h.run(t, args)

	require.Len(t, out.Changes, 3, "%+v", out)
	require.Contains(t, out.Changes, "PyPI requests 2.31.0 → 2.32.0 (requirements.txt)")
	comments := h.repo.Comments(n)
	require.Len(t, comments, 1)
	c := comments[0]
	require.Contains(t, c, "Dependencies: 3 changes, 1 known advisory in the new versions, 1 fixed")
	require.Contains(t, c, "| requests | `2.31.0` | `2.32.0` |")
	require.Contains(t, c, "[GHSA-1111-2222-3333](https://osv.dev/vulnerability/GHSA-1111-2222-3333) high")
	require.Contains(t, c, "fixes GHSA-4444-5555-6666")
	require.Contains(t, c, "(added)")
}
