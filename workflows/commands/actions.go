package commands

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/workflows"
)

// statusLimit bounds the executions `status` lists.
const statusLimit = 20

// analyze enqueues failure analysis of the latest failed run on the head commit (among the
// latest runs of each workflow and event), or of the run given as argument once it is known to
// belong to this pull request.
func (s *session) analyze(ctx context.Context, c Command) (outcome, error) {
	pr, err := s.pull(ctx)
	if err != nil {
		return outcome{}, err
	}
	head := pr.GetHead().GetSHA()
	var run *github.WorkflowRun
	if len(c.Args) > 0 {
		id, perr := strconv.ParseInt(c.Args[0], 10, 64)
		if perr != nil || id <= 0 {
			return outcome{Status: statusRefused, Text: fmt.Sprintf("%s is not a workflow run id; write %s or %s.",
				markdown.Code(c.Args[0]), markdown.Code(s.prefix+" analyze"), markdown.Code(s.prefix+" analyze <run-id>"))}, nil
		}
		// GET /repos/{owner}/{repo}/actions/runs/{run_id}
		// https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run
		run, _, err = s.client.Actions.GetWorkflowRunByID(ctx, s.args.Owner, s.args.Repo, id)
		if ghapp.HasStatus(err, 404) {
			return outcome{Status: statusRefused, Text: fmt.Sprintf("Workflow run %d was not found in this repository. Nothing was queued.", id)}, nil
		}
		if err != nil {
			return outcome{}, fmt.Errorf("failed to get workflow run: %w", err)
		}
		if !s.belongs(run, head) {
			return outcome{Status: statusRefused, Text: fmt.Sprintf("Workflow run %d does not belong to this pull request (it ran on commit %s, the head is %s). Nothing was queued.",
				id, markdown.Code(markdown.ShortSHA(run.GetHeadSHA())), markdown.Code(markdown.ShortSHA(head)))}, nil
		}
		if !failed(run) {
			return outcome{Status: statusRefused, Text: fmt.Sprintf("Workflow run %s has not failed (conclusion %s); only failed runs are analyzed.",
				runLink(run), markdown.Code(run.GetStatus()+"/"+run.GetConclusion()))}, nil
		}
	} else {
		runs, err := s.latestFailedRuns(ctx, head)
		if err != nil {
			return outcome{}, err
		}
		if len(runs) == 0 {
			return outcome{Status: statusInfo, Text: fmt.Sprintf("No failed workflow run on the head commit %s: nothing to analyze.", markdown.Code(markdown.ShortSHA(head)))}, nil
		}
		run = runs[0]
	}
	params := map[string]any{"workflow_run_id": run.GetID(), "run_attempt": int64(max(run.GetRunAttempt(), 1))}
	// No agent runs on a fork's pull request unless a maintainer asks (DESIGN §6).
	fork, err := s.fromFork(ctx)
	if err != nil {
		return outcome{}, err
	}
	if fork {
		have, err := s.authorLevel(ctx)
		if err != nil {
			return outcome{}, err
		}
		if have < levelMaintain {
			params["auto_fix_enabled"] = false
		}
	}
	// The engine running this job enqueues (group commit); no worker needs it before it exists.
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return outcome{}, err
	}
	repo := workflows.Repo{Owner: s.args.Owner, Name: s.args.Repo, InstallationID: s.installationID}
	ins, err := engine.Trigger(ctx, workflows.FailureAnalysis, repo, params,
		workflows.By(fmt.Sprintf("comment:%d", s.args.CommentID)), workflows.Tagged(PRTag(s.args.RepoID, s.args.Number)))
	if err != nil {
		return outcome{}, fmt.Errorf("failed to enqueue failure analysis: %w", err)
	}
	verb := "queued"
	if ins.Duplicate {
		verb = "was already queued"
	}
	return outcome{Status: statusDone, Text: fmt.Sprintf("Failure analysis of %s %s as execution %d; its report will appear on this pull request.",
		runLink(run), verb, ins.ID)}, nil
}

// belongs reports whether run is of this repository and of this pull request: it ran on the head
// commit or lists the pull request.
func (s *session) belongs(run *github.WorkflowRun, head string) bool {
	if id := run.GetRepository().GetID(); id != 0 && id != s.args.RepoID {
		return false
	}
	if head != "" && run.GetHeadSHA() == head {
		return true
	}
	for _, p := range run.PullRequests {
		if p.GetNumber() == s.args.Number {
			if id := p.GetBase().GetRepo().GetID(); id == 0 || id == s.args.RepoID {
				return true
			}
		}
	}
	return false
}

func failed(run *github.WorkflowRun) bool {
	switch run.GetConclusion() {
	case "failure", "timed_out", "startup_failure":
		return true
	}
	return false
}

// maxRunPages bounds the pages of runs listed for one commit.
const maxRunPages = 5

// latestFailedRuns returns, of the runs on sha, the latest of each workflow and event when it
// failed, newest first. A workflow triggered by both push and pull_request has a run (and a
// check) per event; an older failed run superseded by a newer one (a reopened pull request) is
// not worth re-running.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository
func (s *session) latestFailedRuns(ctx context.Context, sha string) ([]*github.WorkflowRun, error) {
	runs, err := s.runsOn(ctx, sha)
	if err != nil {
		return nil, err
	}
	sortNewestFirst(runs)
	type key struct {
		workflow int64
		event    string
	}
	seen := map[key]bool{}
	var out []*github.WorkflowRun
	for _, run := range runs {
		k := key{run.GetWorkflowID(), run.GetEvent()}
		if seen[k] {
			continue
		}
		seen[k] = true
		if run.GetStatus() == "completed" && failed(run) {
			out = append(out, run)
		}
	}
	return out, nil
}

// runsOn lists the workflow runs on commit sha, as GitHub has them now: what is re-run or
// analyzed must not be decided on the HTTP cache's copy, which may not show a re-run queued a
// moment ago.
func (s *session) runsOn(ctx context.Context, sha string) ([]*github.WorkflowRun, error) {
	path := fmt.Sprintf("repos/%s/%s/actions/runs", url.PathEscape(s.args.Owner), url.PathEscape(s.args.Repo))
	var runs []*github.WorkflowRun
	// GET /repos/{owner}/{repo}/actions/runs
	// https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository
	err := ghapp.EachFresh(ctx, s.client, path, url.Values{"head_sha": {sha}}, maxRunPages, func(list github.WorkflowRuns) bool {
		runs = append(runs, list.WorkflowRuns...)
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("failed to list workflow runs: %w", err)
	}
	return runs, nil
}

func sortNewestFirst(runs []*github.WorkflowRun) {
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].GetCreatedAt().Equal(runs[j].GetCreatedAt()) {
			return runs[i].GetCreatedAt().After(runs[j].GetCreatedAt().Time)
		}
		return runs[i].GetID() > runs[j].GetID()
	})
}

// retry re-runs the failed jobs of the latest run of each workflow (and event) on the head
// commit when it failed. A run whose re-run was requested is no longer completed, so a retried
// job does not re-request it.
func (s *session) retry(ctx context.Context, _ Command) (outcome, error) {
	pr, err := s.pull(ctx)
	if err != nil {
		return outcome{}, err
	}
	runs, err := s.latestFailedRuns(ctx, pr.GetHead().GetSHA())
	if err != nil {
		return outcome{}, err
	}
	// A run that failed to start (an invalid workflow file) has no jobs to re-run.
	runs = slices.DeleteFunc(runs, func(r *github.WorkflowRun) bool { return r.GetConclusion() == "startup_failure" })
	var lines []string
	requested, refused := 0, 0
	for _, run := range runs {
		// POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs
		// https://docs.github.com/rest/actions/workflow-runs#re-run-failed-jobs-from-a-workflow-run
		_, err := s.client.Actions.RerunFailedJobsByID(ctx, s.args.Owner, s.args.Repo, run.GetID())
		if err != nil {
			o, rerr := s.githubFailure(fmt.Errorf("failed to re-run workflow run %d: %w", run.GetID(), err))
			if rerr != nil {
				return outcome{}, rerr
			}
			refused++
			lines = append(lines, fmt.Sprintf("- %s: could not re-run it. %s", runLink(run), o.Text))
			continue
		}
		requested++
		lines = append(lines, fmt.Sprintf("- %s: re-run of the failed jobs requested.", runLink(run)))
	}
	if len(runs) == 0 {
		return outcome{Status: statusInfo, Text: fmt.Sprintf("No failed workflow run on the head commit %s: nothing to re-run.", markdown.Code(markdown.ShortSHA(pr.GetHead().GetSHA())))}, nil
	}
	st := statusDone
	if refused > 0 {
		st = statusFailed
	}
	return outcome{Status: st, Text: fmt.Sprintf("Re-ran %d of %d failed workflows:\n\n%s", requested, len(runs), strings.Join(lines, "\n"))}, nil
}

// cancelStates are the states of an execution that has not finished.
var cancelStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStatePending,
}

// cancel cancels this pull request's unfinished workflow executions. Slash-command executions
// (this one and other comments' commands) are left alone: cancelling one mid-way would leave its
// comment with 👀 and no answer, and they finish within minutes anyway.
func (s *session) cancel(ctx context.Context, _ Command) (outcome, error) {
	jobs, err := river.ClientFromContextSafely[*sql.Tx](ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("failed to list executions: %w", err)
	}
	res, err := jobs.JobList(ctx, river.NewJobListParams().TagsAny(PRTag(s.args.RepoID, s.args.Number)).
		States(cancelStates...).OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(100))
	if err != nil {
		return outcome{}, fmt.Errorf("failed to list executions: %w", err)
	}
	var done []string
	for _, row := range res.Jobs {
		if row.ID == s.job.ID || row.Kind == Kind {
			continue
		}
		if _, err := jobs.JobCancel(ctx, row.ID); err != nil {
			if errors.Is(err, river.ErrNotFound) {
				continue
			}
			return outcome{}, fmt.Errorf("failed to cancel execution %d: %w", row.ID, err)
		}
		done = append(done, fmt.Sprintf("#%d (%s)", row.ID, markdown.Code(row.Kind)))
	}
	if len(done) == 0 {
		return outcome{Status: statusInfo, Text: "Nothing to cancel: no execution is queued or running for this pull request."}, nil
	}
	return outcome{Status: statusDone, Text: fmt.Sprintf("Cancelled %d executions: %s.", len(done), strings.Join(done, ", "))}, nil
}
