package failureanalysis

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWorkerNeverLetsAnOlderRunOverwriteANewerOne: the analysis of an older run of a workflow
// that finishes late (a queue backlog, a retry) leaves the newer run's report in place.
func TestWorkerNeverLetsAnOlderRunOverwriteANewerOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	older := singleJobRun(networkErrorLog, 1)
	newer := singleJobRun(testFailureLog, 1)
	newer.ID = runID + 100
	newer.Attempts[0].Jobs[0].ID = 399449999
	h.gh.addRun(older)
	h.gh.addRun(newer)

	h.analyze(t, webhookArgs(newer.ID, 1))
	h.analyze(t, webhookArgs(older.ID, 1))

	comments := h.gh.Comments(7)
	require.Len(t, comments, 1)
	require.Contains(t, comments[0].Body, fmt.Sprintf("/actions/runs/%d/attempts/1", newer.ID))
	require.NotContains(t, comments[0].Body, fmt.Sprintf("/actions/runs/%d/attempts/1", older.ID))
}

// TestWorkerFindsForkPullRequestsOfThirdPartyChecks: a check run on a fork's commit lists no
// pull requests; the pull request is found through the commit.
func TestWorkerFindsForkPullRequestsOfThirdPartyChecks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	check := thirdPartyCheck(779, "Example CI / build", "example-ci")
	check["pull_requests"] = []map[string]any{}
	h.gh.addCheckRun(779, check)
	h.gh.mu.Lock()
	h.gh.forkPulls = map[string][]int{headSHA: {9}}
	h.gh.mu.Unlock()
	out := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, CheckRunID: 779, Trigger: "webhook"})
	require.Equal(t, []int{9}, out.PullRequests)
	require.Len(t, h.gh.Comments(9), 1)
	require.Len(t, h.gh.requestsTo("GET", "/commits/"+headSHA+"/pulls"), 1)
}
