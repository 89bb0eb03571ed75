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
