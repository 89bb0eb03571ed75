package commands

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/dependencymanagement"
)

// depsWorker stands in for the dependency_management worker: the jobs it gets are only listed.
type depsWorker struct {
	river.WorkerDefaults[dependencymanagement.Args]
}

func (depsWorker) Work(context.Context, *river.Job[dependencymanagement.Args]) error { return nil }

func TestDepsStartsThePullRequestsDependencyReport(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t, "/ci deps")
	h := newHarness(t, gh, defaultConfigs())
	row := h.run(t)
	require.Equal(t, rivertype.JobStateCompleted, row.State, "errors: %+v", row.Errors)
	require.Equal(t, []string{"eyes", "rocket"}, gh.reactions())
	require.Len(t, gh.replies(), 1)
	require.Contains(t, gh.replies()[0], "dependency report of this pull request queued as execution")
	res, err := h.engine.Client().JobList(context.Background(),
		river.NewJobListParams().Kinds("dependency_management").TagsAny(PRTag(42, 7)))
	require.NoError(t, err)
	require.Len(t, res.Jobs, 1)
	var args dependencymanagement.Args
	require.NoError(t, json.Unmarshal(res.Jobs[0].EncodedArgs, &args))
	require.Equal(t, dependencymanagement.Args{Owner: "acme", Repo: "widgets", InstallationID: 5, Trigger: "comment:9001", PullRequest: 7}, args)
}
