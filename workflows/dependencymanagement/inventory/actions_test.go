package inventory_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

func TestParseWorkflow(t *testing.T) {
	t.Parallel()
	src := "on: push\r\n" +
		"jobs:\r\n" +
		"  build:\r\n" +
		"    steps:\r\n" +
		"      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11   #  v4.1.1\r\n" +
		"      - name: 'é step'\r\n" +
		"        uses: \"owner/repo/sub/dir@v2\"\r\n" +
		"      - uses: ./local\r\n" +
		"      - uses: docker://alpine:3\r\n" +
		"      - {name: é, uses: o/r@main}\r\n" +
		"      - run: 'echo uses: x/y@v1'\r\n" +
		"  call:\r\n" +
		"    uses: org/wf/.github/workflows/w.yml@release/v1\r\n"
	got, err := inventory.ParseWorkflow(".github/workflows/ci.yml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, []brief{
		{"actions/checkout", "", "b4ffde65f46336ab88eb53be808477a3936bae11", 5, 32, true, false},
		{"owner/repo", "v2", "v2", 7, 35, true, false},
		{"o/r", "", "main", 10, 30, true, false},
		{"org/wf", "", "release/v1", 13, 42, true, false},
	}, briefs(got))
	require.Equal(t, &inventory.ActionRef{Owner: "actions", Repo: "checkout", Ref: "b4ffde65f46336ab88eb53be808477a3936bae11",
		RefKind: inventory.RefSHA, Comment: "v4.1.1", Job: "build", Step: 0}, got[0].Action)
	require.Equal(t, "sub/dir", got[1].Action.Path)
	require.Equal(t, inventory.RefTag, got[1].Action.RefKind)
	require.Equal(t, inventory.RefBranch, got[2].Action.RefKind)
	require.Equal(t, -1, got[3].Action.Step)

	for _, bad := range []string{"jobs: [\n", "- a\n- b\n"} {
		_, err := inventory.ParseWorkflow("w.yml", []byte(bad))
		var pe *inventory.ParseError
		require.ErrorAs(t, err, &pe, bad)
	}
}

func TestRefKindOf(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]string{
		"v4": inventory.RefTag, "v4.1.0": inventory.RefTag, "1.2": inventory.RefTag, "v1.0.0-beta.1": inventory.RefTag,
		"main": inventory.RefBranch, "release/v1": inventory.RefBranch, "b4ffde6": inventory.RefBranch,
		"b4ffde65f46336ab88eb53be808477a3936bae11": inventory.RefSHA,
	} {
		require.Equal(t, want, inventory.RefKindOf(ref), ref)
	}
}

func TestParseWorkflowAnchorsAndComposite(t *testing.T) {
	t.Parallel()
	src := "x-steps: &steps\n  - uses: actions/setup-node@v4 # node\njobs:\n  a:\n    steps: *steps\n  b:\n    steps:\n      - uses: a/b@v1\n"
	got, err := inventory.ParseWorkflow(".github/workflows/w.yml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, []brief{
		{"actions/setup-node", "v4", "v4", 2, 30, true, false},
		{"a/b", "v1", "v1", 8, 19, true, false},
	}, briefs(got))
	require.Equal(t, "node", got[0].Action.Comment)

	composite := "name: x\nruns:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n      with: {path: x}\n"
	got, err = inventory.ParseWorkflow("action.yml", []byte(composite))
	require.NoError(t, err)
	require.Equal(t, []brief{{"actions/cache", "v4", "v4", 5, 27, true, false}}, briefs(got))
}
