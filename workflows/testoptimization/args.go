// Package testoptimization is the test_optimization workflow: it collects the test results of
// every completed run attempt (JUnit XML or `go test -json` files in the run's artifacts, else
// the failed tests the log analyzer found), decides from same-commit evidence which tests are
// flaky and which are slow, and runs the quarantine lifecycle: an issue (Linear, through
// alerting) for a quarantined test, a line in the repository's "CI health" issue, a "known
// flaky" note and a re-run on pull requests, and the issue closed once the test recovered.
//
// An artifact belongs to a run attempt when its name carries the attempt ("attempt-2",
// "attempt_2", "attempt 2", case-insensitive), and otherwise when GitHub created it inside the
// attempt's window: from the attempt's start (less a minute of clock skew) to its last update
// plus two minutes (uploads that finish as the run completes). The artifact's name stands for
// the job: a flip is the same test failing and passing under the same artifact name on one commit.
package testoptimization

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/workflows"
)

// Args is one execution. With RunID it collects that run attempt's test results and then
// updates the repository's verdicts; without, it backfills the last LookbackRuns runs and
// reports. PR names the pull request of a /ci flaky command.
type Args struct {
	Owner          string `json:"owner" river:"unique"`
	Repo           string `json:"repo" river:"unique"`
	InstallationID int64  `json:"installation_id,omitempty"`
	RunID          int64  `json:"run_id,omitempty" river:"unique"`
	RunAttempt     int    `json:"run_attempt,omitempty" river:"unique"`
	PR             int    `json:"pr,omitempty" river:"unique"`
	// Trigger says who asked: "webhook", "schedule:<day>", "comment:<id>", "cli:<nanos>".
	Trigger string `json:"trigger" river:"unique"`
	// LookbackRuns and FlakyThreshold override the repository's configuration when set.
	LookbackRuns   int     `json:"lookback_runs,omitempty"`
	FlakyThreshold float64 `json:"flaky_threshold,omitempty"`
	HasThreshold   bool    `json:"has_threshold,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.TestOptimization) }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Build is the engine's builder (execute, the operator API and /ci flaky, which tags the job
// with its pull request).
func Build(repo workflows.Repo, params workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	if repo.Owner == "" || repo.Name == "" {
		return nil, nil, fmt.Errorf("test_optimization needs a repository")
	}
	args := Args{Owner: repo.Owner, Repo: repo.Name, InstallationID: repo.InstallationID, Trigger: params.Origin()}
	if params.Has("lookback_runs") {
		args.LookbackRuns = int(params.Int("lookback_runs", 50))
	}
	if params.Has("flaky_threshold") {
		args.FlakyThreshold, args.HasThreshold = params.Float("flaky_threshold", 0.05), true
	}
	args.PR = int(params.Int("pr", 0))
	return args, nil, nil
}

// CollectArgs are the arguments that collect one completed run attempt (the workflow_run
// webhook's job).
func CollectArgs(owner, repo string, installationID, runID int64, attempt int) Args {
	return Args{Owner: owner, Repo: repo, InstallationID: installationID, RunID: runID, RunAttempt: max(attempt, 1), Trigger: "webhook"}
}

// scheduleSpread is the window over which the daily runs of all repositories are spread.
const scheduleSpread = 6 * time.Hour

func jsonUnmarshal(data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, v)
}
