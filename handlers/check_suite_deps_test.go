package handlers

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/dependencymanagement"
)

func TestCheckSuiteOnDependencyBranchStartsTheMergeCheck(t *testing.T) {
	t.Parallel()
	for _, conclusion := range []string{"success", "failure"} {
		jobs := &optsEnqueuer{}
		h := &CheckSuiteHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci"}
		body := checkSuite(t, set("check_suite.head_branch", "autonomous-ci/deps/pypi-requests"), set("check_suite.conclusion", conclusion))
		require.NoError(t, h.Handle(context.Background(), "check_suite", "d1", body))
		got := jobs.Jobs()
		require.Len(t, got, 1)
		a, ok := got[0].Args.(dependencymanagement.Args)
		require.True(t, ok)
		require.Equal(t, "autonomous-ci/deps/pypi-requests", a.Branch)
		require.Equal(t, "6dcb09b5b57875f334f61aebed695e2e4193db5e", a.HeadSHA)
		require.Regexp(t, `^check_suite:\d+$`, a.Trigger)
	}
	// Not completed, or another branch: nothing.
	for _, edits := range [][]edit{
		{set("check_suite.head_branch", "autonomous-ci/deps/x"), set("action", "requested")},
		{set("check_suite.head_branch", "feature/deps")},
	} {
		jobs := &optsEnqueuer{}
		h := &CheckSuiteHandler{Base: Base{Jobs: jobs}}
		require.NoError(t, h.Handle(context.Background(), "check_suite", "d1", checkSuite(t, edits...)))
		require.Empty(t, jobs.Jobs())
	}
	// A head_branch that is not a string is malformed.
	h := &CheckSuiteHandler{Base: Base{Jobs: &optsEnqueuer{}}}
	err := h.Handle(context.Background(), "check_suite", "d1", checkSuite(t, set("check_suite.head_branch", 5)))
	require.True(t, IsMalformed(err), "%v", err)
}
