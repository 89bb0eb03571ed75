package commands

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/performancemonitoring"
)

// TestPerf: `/ci perf` enqueues one performance check of the pull request through the engine,
// tagged with it, and says so; a redelivered comment enqueues nothing more; a reader may not.
func TestPerf(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci perf")
	h := newHarness(t, gh, defaultConfigs())
	require.Equal(t, rivertype.JobStateCompleted, h.run(t).State)
	require.Equal(t, []string{"eyes", "rocket"}, gh.reactions())
	require.Len(t, gh.replies(), 1)
	require.Contains(t, gh.replies()[0], "comparison of this pull request's CI durations")

	list := func() []*rivertype.JobRow {
		res, err := h.engine.Client().JobList(context.Background(),
			river.NewJobListParams().Kinds("performance_monitoring").TagsAny(PRTag(42, 7)))
		require.NoError(t, err)
		return res.Jobs
	}
	jobs := list()
	require.Len(t, jobs, 1)
	var args performancemonitoring.Args
	require.NoError(t, json.Unmarshal(jobs[0].EncodedArgs, &args))
	require.Equal(t, performancemonitoring.Args{Owner: "acme", Repo: "widgets", InstallationID: 5, PullRequest: 7, Trigger: "comment:9001"}, args)

	require.Equal(t, rivertype.JobStateCompleted, h.run(t).State, "the redelivered comment")
	require.Len(t, list(), 1)

	reader := newFakeGitHub(t, "/ci perf")
	reader.author = "rita"
	hr := newHarness(t, reader, defaultConfigs())
	require.Equal(t, rivertype.JobStateCompleted, hr.run(t).State)
	require.Contains(t, reader.replies()[0], "needs the **write** permission")
}
