package failureanalysis

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A workflow of the default branch that fails raises one "red" alert per workflow; its next pass
// resolves it. A pull request's failure raises none.
func TestDefaultBranchRedAlert(t *testing.T) {
	t.Parallel()
	h := newFixHarness(t)
	run := failedRun()
	run.HeadBranch, run.Event, run.PullNumbers = "main", "push", nil
	h.gh.addRun(run)
	out := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID, RunAttempt: 1, Trigger: "webhook"})
	require.NotEmpty(t, out.Failures)
	raised := h.alerts.Raised()
	require.Len(t, raised, 1)
	require.Equal(t, "red:"+fakeOwner+"/"+fakeRepo+":159038", raised[0].Fingerprint)
	require.Contains(t, raised[0].Title, "is red on main (CI)")
	require.Empty(t, h.alerts.Resolved())

	green := failedRun()
	green.ID, green.HeadBranch, green.Event, green.PullNumbers = runID+1, "main", "push", nil
	green.Attempts[0].Conclusion = "success"
	h.gh.addRun(green)
	out = h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID + 1, RunAttempt: 1, Trigger: "webhook"})
	require.Equal(t, "the default branch passes", out.Skipped)
	require.Equal(t, []string{"red:" + fakeOwner + "/" + fakeRepo + ":159038"}, h.alerts.Resolved())
	require.Len(t, h.alerts.Raised(), 1)

	// A pull request's failure is the pull request's news, not the branch's.
	pr := failedRun()
	pr.ID = runID + 2
	h.gh.addRun(pr)
	h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, RunID: runID + 2, RunAttempt: 1, Trigger: "webhook"})
	require.Len(t, h.alerts.Raised(), 1)
}
