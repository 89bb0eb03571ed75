// Package failureanalysis is the failure_analysis workflow: for a failed workflow run (or a
// failed third-party check run) it reads what failed, reports once on each pull request and on
// the head commit, and decides on re-runs.
package failureanalysis

import (
	"fmt"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/workflows"
)

// Args identifies one analysis. Uniqueness is by repository, run, attempt and trigger, so a
// redelivered webhook never analyzes twice while a new attempt or an explicit request does.
type Args struct {
	Owner          string `json:"owner" river:"unique"`
	Repo           string `json:"repo" river:"unique"`
	InstallationID int64  `json:"installation_id,omitempty"`
	// RunID is the GitHub Actions workflow run; zero when CheckRunID names a third-party check.
	RunID      int64 `json:"run_id,omitempty" river:"unique"`
	RunAttempt int   `json:"run_attempt,omitempty" river:"unique"`
	// CheckRunID is a failed check run of a CI that is not GitHub Actions.
	CheckRunID int64 `json:"check_run_id,omitempty" river:"unique"`
	// Trigger says who asked: "webhook", "comment:<id>" or "cli:<nanos>".
	Trigger string `json:"trigger" river:"unique"`
	// AutoFixEnabled and CreatePRForFixes override the repository's configuration when set.
	AutoFixEnabled   *bool `json:"auto_fix_enabled,omitempty"`
	CreatePRForFixes *bool `json:"create_pr_for_fixes,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.FailureAnalysis) }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Build is the engine's builder for failure_analysis (execute and slash commands). The fix
// switches are set only when given; unset, the worker reads them from the repository's
// configuration.
func Build(repo workflows.Repo, params workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	runID := params.Int("workflow_run_id", 0)
	if runID == 0 {
		return nil, nil, fmt.Errorf("failure_analysis needs the workflow_run_id parameter")
	}
	args := Args{
		Owner: repo.Owner, Repo: repo.Name, InstallationID: repo.InstallationID,
		RunID: runID, RunAttempt: int(params.Int("run_attempt", 0)),
		Trigger: params.Origin(),
	}
	if params.Has("auto_fix_enabled") {
		v := params.Bool("auto_fix_enabled", false)
		args.AutoFixEnabled = &v
	}
	if params.Has("create_pr_for_fixes") {
		v := params.Bool("create_pr_for_fixes", true)
		args.CreatePRForFixes = &v
	}
	return args, nil, nil
}
