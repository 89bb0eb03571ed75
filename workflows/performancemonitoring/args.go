// Package performancemonitoring is the performance_monitoring workflow: it compares the CI
// durations of a pull request (its workflow runs and their jobs) with the baseline branch's
// recent successful runs and reports a regression only when the statistics of durationstats
// say so; on the baseline branch itself it judges the latest runs against their own history and
// alerts on a regression. Run timings are kept in the database (store.PerfRun), so a check
// fetches only what it does not have.
package performancemonitoring

import (
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/workflows"
)

// Triggers of an execution (Args.Trigger) other than "comment:<id>" and "cli:<nanos>".
const (
	// TriggerWebhook is a completed workflow run of a pull request.
	TriggerWebhook = "webhook"
	// TriggerPush is a push (to the baseline branch, which the worker checks).
	TriggerPush = "push"
	// triggerSchedulePrefix starts the periodic triggers: "schedule:<start of the period>".
	triggerSchedulePrefix = "schedule:"
)

// Args identifies one check. Uniqueness is by repository, pull request, triggering run, pushed
// branch and head commit, and trigger: a redelivered webhook or push adds nothing, while a new
// run of the pull request, a new push, a new period or an explicit request checks again. Args
// without a repository is the periodic fan-out, which schedules one check per installed
// repository, spread over the period.
type Args struct {
	Owner          string `json:"owner,omitempty" river:"unique"`
	Repo           string `json:"repo,omitempty" river:"unique"`
	InstallationID int64  `json:"installation_id,omitempty"`
	// PullRequest is the pull request judged; zero judges the baseline branch's latest runs.
	PullRequest int `json:"pull_request,omitempty" river:"unique"`
	// RunID is the completed run of the pull request that started the check (webhook).
	RunID int64 `json:"run_id,omitempty" river:"unique"`
	// Branch is the branch pushed to (push).
	Branch string `json:"branch,omitempty" river:"unique"`
	// HeadSHA is the commit pushed, or the pull request's head commit the run ran on.
	HeadSHA string `json:"head_sha,omitempty" river:"unique"`
	// ForkHead is "<fork owner>:<branch>" of a fork's pull request run, which names no pull
	// request (GitHub leaves pull_requests empty): the worker looks the pull request up by it.
	ForkHead string `json:"fork_head,omitempty"`
	// DefaultBranch is the repository's default branch as the webhook said; empty: asked.
	DefaultBranch string `json:"default_branch,omitempty"`
	// Trigger says who asked: "webhook", "push", "schedule:<unix>", "comment:<id>", "cli:<nanos>".
	Trigger string `json:"trigger" river:"unique"`
	// BaselineBranch, AlertThresholdPercent and AutoOptimize override the repository's
	// configuration when set.
	BaselineBranch        string   `json:"baseline_branch,omitempty" river:"unique"`
	AlertThresholdPercent *float64 `json:"alert_threshold_percent,omitempty"`
	AutoOptimize          *bool    `json:"auto_optimize,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.PerformanceMonitoring) }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// fanOut reports whether a is the periodic job that schedules the repositories' checks.
func (a Args) fanOut() bool { return a.Owner == "" && a.Repo == "" }

// scheduled reports whether the periodic schedule started a.
func (a Args) scheduled() bool {
	return len(a.Trigger) > len(triggerSchedulePrefix) && a.Trigger[:len(triggerSchedulePrefix)] == triggerSchedulePrefix
}

// automatic reports whether no person asked for the check (a disabled workflow skips it).
func (a Args) automatic() bool {
	return a.Trigger == TriggerWebhook || a.Trigger == TriggerPush || a.scheduled()
}

// Build is the engine's builder for performance_monitoring (execute and slash commands). The
// parameters are set only when given; unset, the worker reads them from the repository's
// configuration (the baseline branch: then the repository's default branch).
func Build(repo workflows.Repo, params workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	if repo.Owner == "" || repo.Name == "" {
		return nil, nil, fmt.Errorf("performance_monitoring needs a repository (owner/name)")
	}
	args := Args{
		Owner: repo.Owner, Repo: repo.Name, InstallationID: repo.InstallationID,
		PullRequest: int(params.Int("pull_request", 0)), Trigger: params.Origin(),
	}
	if params.Has("baseline_branch") {
		b := params.String("baseline_branch", "")
		if !validBranch(b) {
			return nil, nil, fmt.Errorf("parameter \"baseline_branch\" must be a branch name, got %q", b)
		}
		args.BaselineBranch = b
	}
	if params.Has("alert_threshold_percent") {
		v := params.Float("alert_threshold_percent", 20)
		args.AlertThresholdPercent = &v
	}
	if params.Has("auto_optimize") {
		v := params.Bool("auto_optimize", false)
		args.AutoOptimize = &v
	}
	return args, nil, nil
}

// validBranch accepts what git accepts as a branch name, roughly: not empty, no spaces or
// control characters, none of ~^:?*[\ and no leading '-'.
func validBranch(b string) bool {
	if b == "" || len(b) > 255 || b[0] == '-' {
		return false
	}
	for _, c := range []byte(b) {
		if c <= ' ' || c == 0x7f || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' || c == '\\' {
			return false
		}
	}
	return true
}

// Periodic is the schedule that keeps baselines fresh: every interval River's leader enqueues
// one fan-out job (once across replicas), which schedules a check of every installed repository
// at its own offset within the interval.
func Periodic(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return Args{Trigger: scheduleTrigger(time.Now(), interval)}, nil
	}, &river.PeriodicJobOpts{ID: "performance_monitoring"})
}

// scheduleTrigger names the period now falls in, so each period's checks are unique.
func scheduleTrigger(now time.Time, interval time.Duration) string {
	if interval <= 0 {
		interval = time.Hour
	}
	return triggerSchedulePrefix + strconv.FormatInt(now.Truncate(interval).Unix(), 10)
}
