// Package securityaudit is the security_audit workflow: it audits a commit's workflow files
// (workflowaudit) and its manifests' dependencies (inventory and OSV), reports the findings as
// the check run "Autonomous CI / security audit" with an annotation per finding and, on a pull
// request, a section of the sticky comment with only the findings the pull request introduces;
// a critical finding on the default branch raises an alert, and the mechanical fixes of the
// default branch's findings go into one bot pull request (botpr), updated in place.
package securityaudit

import (
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/workflows"
)

// Args identifies one audit: a repository's commit (empty: the default branch's head when the
// job runs), or a pull request's head. Uniqueness is by repository, commit, pull request and
// trigger, so a redelivered webhook never audits twice.
type Args struct {
	Owner          string `json:"owner" river:"unique"`
	Repo           string `json:"repo" river:"unique"`
	InstallationID int64  `json:"installation_id,omitempty"`
	// SHA is the audited commit; empty means the default branch's head.
	SHA string `json:"sha,omitempty" river:"unique"`
	// PullRequest, when set, audits the pull request's head against its base.
	PullRequest int `json:"pull_request,omitempty" river:"unique"`
	// Trigger says who asked: "push", "pull_request", "schedule:<week>", "comment:<id>", "cli:<nanos>".
	Trigger string `json:"trigger" river:"unique"`
	// FailOn overrides the repository's fail_on when set.
	FailOn string `json:"fail_on,omitempty"`
	// CheckChanges makes a pull request's audit stop at once when the pull request changes no
	// workflow file or manifest (the pull_request webhook cannot tell).
	CheckChanges bool `json:"check_changes,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.SecurityAudit) }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Build is the engine's builder for security_audit (execute, /ci audit, the weekly sweep).
func Build(repo workflows.Repo, params workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	if repo.Owner == "" || repo.Name == "" {
		return nil, nil, fmt.Errorf("security_audit needs a repository")
	}
	args := Args{Owner: repo.Owner, Repo: repo.Name, InstallationID: repo.InstallationID,
		PullRequest: int(params.Int("pull_request", 0)), Trigger: params.Origin()}
	if params.Has("fail_on") {
		args.FailOn = params.String("fail_on", "high")
	}
	return args, nil, nil
}

// SweepArgs is the weekly schedule's job: it triggers an audit of every installed repository.
type SweepArgs struct {
	// Week is the ISO week ("2026-W49"), so the sweep runs once a week whatever restarts.
	Week string `json:"week" river:"unique"`
}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return "security_audit_sweep" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Week names t's ISO week.
func Week(t time.Time) string {
	y, w := t.UTC().ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// Weekly is the sweep's schedule: Mondays at 03:00 UTC.
type Weekly struct{}

// Next implements river.PeriodicSchedule.
func (Weekly) Next(now time.Time) time.Time {
	now = now.UTC()
	days := (int(time.Monday) - int(now.Weekday()) + 7) % 7
	next := time.Date(now.Year(), now.Month(), now.Day()+days, 3, 0, 0, 0, time.UTC)
	if !next.After(now) {
		next = next.AddDate(0, 0, 7)
	}
	return next
}

// Periodic is the weekly schedule of the sweep; the sweep is unique by its week, so a second
// insert in the same week (two servers) is a duplicate.
func Periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(Weekly{}, func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{Week: Week(time.Now())}, nil
	}, &river.PeriodicJobOpts{ID: "security_audit_sweep"})
}
