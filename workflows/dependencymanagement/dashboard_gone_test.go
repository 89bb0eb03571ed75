package dependencymanagement_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeletedDashboardIsMadeAgain: a person deletes the dependency dashboard (GitHub then
// answers 404, or 410 Gone); the next run forgets the recorded issue and opens a new one
// instead of failing on it every day.
func TestDeletedDashboardIsMadeAgain(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	out := h.run(t, repoArgs("cli:1"))
	require.NotZero(t, out.Dashboard)
	h.mu.Lock()
	require.Len(t, h.issues, 1)
	h.issues = nil // deleted
	h.mu.Unlock()

	out = h.run(t, repoArgs("cli:2"))
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(t, h.issues, 1, "a new dashboard")
	require.Equal(t, int64(h.issues[0].GetNumber()), out.Dashboard)
	require.Contains(t, h.issues[0].GetBody(), "requests")
}
