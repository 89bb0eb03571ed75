// Package dependencymanagement is the dependency_management workflow: it takes the inventory of
// a repository's dependencies from its default branch, finds newer versions in each
// ecosystem's registry and known advisories in OSV, plans update pull requests (a security fix
// first and in its own PR, then the strategy's updates, grouped and limited), computes the
// exact file changes (lock files included, or "needs lock regeneration"), opens or updates one
// bot PR per group, merges a green one when test_before_merge asks, and keeps the Dependency
// dashboard issue up to date.
package dependencymanagement

import (
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
)

// BranchPrefix starts the name of every update branch the bot owns.
const BranchPrefix = "autonomous-ci/deps/"

// Args identifies one execution. A scheduled run is unique per repository and day
// ("schedule:2026-12-02"), so a redelivered or repeated schedule does nothing twice; a
// follow-up for an update PR (Branch and HeadSHA set) is unique per check suite.
type Args struct {
	// Owner and Repo are empty for the scheduled fan-out, which enqueues one run per
	// installed repository.
	Owner          string `json:"owner,omitempty" river:"unique"`
	Repo           string `json:"repo,omitempty" river:"unique"`
	InstallationID int64  `json:"installation_id,omitempty"`
	// Trigger says who asked: "schedule:<date>", "comment:<id>", "cli:<nanos>", "check_suite:<id>".
	Trigger string `json:"trigger" river:"unique"`
	// Branch and HeadSHA name an update PR whose checks completed: merge it when green.
	Branch  string `json:"branch,omitempty" river:"unique"`
	HeadSHA string `json:"head_sha,omitempty" river:"unique"`
	// PullRequest asks for the report of one pull request's dependency changes (/ci deps).
	PullRequest int `json:"pull_request,omitempty" river:"unique"`
	// The workflow's parameters, set only when given (the repository's configuration decides
	// the rest).
	UpdateStrategy   string `json:"update_strategy,omitempty"`
	TestBeforeMerge  *bool  `json:"test_before_merge,omitempty"`
	SecurityPriority string `json:"security_priority,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.DependencyManagement) }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Build is the engine's builder for dependency_management (execute, the API, /ci deps).
func Build(repo workflows.Repo, params workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	if repo.Owner == "" || repo.Name == "" {
		return nil, nil, fmt.Errorf("dependency_management needs a repository")
	}
	a := Args{Owner: repo.Owner, Repo: repo.Name, InstallationID: repo.InstallationID, Trigger: params.Origin()}
	a.PullRequest = int(params.Int("pull_request", 0))
	if params.Has("update_strategy") {
		a.UpdateStrategy = params.String("update_strategy", string(registry.Smart))
	}
	if params.Has("test_before_merge") {
		v := params.Bool("test_before_merge", true)
		a.TestBeforeMerge = &v
	}
	if params.Has("security_priority") {
		a.SecurityPriority = params.String("security_priority", "high")
	}
	return a, nil, nil
}

// Periodic is the daily schedule: an hourly tick whose job is unique per day, so each
// repository is looked at once a day whatever the restarts; River's leader runs it once across
// replicas.
func Periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
		return Args{Trigger: ScheduleTrigger(time.Now())}, nil
	}, &river.PeriodicJobOpts{ID: "dependency_management", RunOnStart: true})
}

// ScheduleTrigger is the trigger of the scheduled run of day t (UTC).
func ScheduleTrigger(t time.Time) string { return "schedule:" + t.UTC().Format(time.DateOnly) }
