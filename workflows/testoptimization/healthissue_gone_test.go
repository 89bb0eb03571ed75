package testoptimization

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeletedHealthIssueIsMadeAgain: a person deletes the CI health issue (GitHub then answers
// 404, or 410 Gone); the next report forgets it and opens a new one instead of failing on the
// edit every day.
func TestDeletedHealthIssueIsMadeAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(1, "sha1", t0, map[string]string{"TestA": "passed"})
	rep := h.run(t, Args{Owner: owner, Repo: repoName, Trigger: "cli:1"})
	require.NotZero(t, rep.HealthIssue)
	h.gh.mu.Lock()
	require.Len(t, h.gh.issues, 1)
	delete(h.gh.issues, rep.HealthIssue)
	h.gh.mu.Unlock()

	rep = h.run(t, Args{Owner: owner, Repo: repoName, Trigger: "cli:2"})
	h.gh.mu.Lock()
	defer h.gh.mu.Unlock()
	require.Len(t, h.gh.issues, 1, "a new CI health issue")
	require.Contains(t, h.gh.issues[rep.HealthIssue].GetBody(), healthMarker)
}
