package failureanalysis

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
)

// TestBuildSetsOnlyGivenSwitches: the fix switches reach the job only when given, so a job
// triggered without them follows the repository's configuration.
func TestBuildSetsOnlyGivenSwitches(t *testing.T) {
	t.Parallel()
	repo := workflows.Repo{Owner: "acme", Name: "widgets", InstallationID: 5}
	params, err := workflows.ParseParams(workflows.FailureAnalysis, map[string]any{"workflow_run_id": "77"})
	require.NoError(t, err)
	args, opts, err := Build(repo, params)
	require.NoError(t, err)
	require.Nil(t, opts)
	require.Equal(t, Args{Owner: "acme", Repo: "widgets", InstallationID: 5, RunID: 77}, args)

	params, err = workflows.ParseParams(workflows.FailureAnalysis, map[string]any{"workflow_run_id": "77", "create_pr_for_fixes": "false"})
	require.NoError(t, err)
	args, _, err = Build(repo, params)
	require.NoError(t, err)
	got := args.(Args)
	require.Nil(t, got.AutoFixEnabled)
	require.NotNil(t, got.CreatePRForFixes)
	require.False(t, *got.CreatePRForFixes)

	_, _, err = Build(repo, workflows.Params{})
	require.ErrorContains(t, err, "needs the workflow_run_id parameter")
}
