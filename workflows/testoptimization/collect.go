package testoptimization

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

// Source names of store.TestRun.
const (
	sourceArtifacts = "artifacts"
	sourceLog       = "log"
	sourceNone      = "none"
)

// keepRuns bounds the stored history per repository: the largest lookback_runs allowed.
const keepRuns = 1000

// CollectOut is what collecting one run attempt found.
type CollectOut struct {
	RunID   int64    `json:"run_id"`
	Attempt int      `json:"attempt"`
	Source  string   `json:"source,omitempty"`
	Tests   int      `json:"tests"`
	Failed  int      `json:"failed"`
	Notes   []string `json:"notes,omitempty"`
	Skipped string   `json:"skipped,omitempty"`
}

// errAwaitAnalysis says a failed attempt without test reports waits for failure analysis to
// record the failed tests it found in the logs.
var errAwaitAnalysis = errors.New("waiting for failure analysis to record the failed tests")

// collect records the test results of one completed run attempt, once.
func (s *session) collect(ctx context.Context, runID int64, attempt int, run *github.WorkflowRun, awaitAnalysis bool) (CollectOut, error) {
	out := CollectOut{RunID: runID, Attempt: attempt}
	a := s.args
	done, err := s.w.deps.Store.TestRunCollected(ctx, a.Owner, a.Repo, runID, attempt)
	if err != nil {
		return out, err
	}
	if done {
		out.Skipped = "already collected"
		return out, nil
	}
	if run == nil || run.GetRunAttempt() != attempt {
		// GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}
		// https://docs.github.com/en/rest/actions/workflow-runs#get-a-workflow-run-attempt
		run, _, err = s.client.Actions.GetWorkflowRunAttempt(ctx, a.Owner, a.Repo, runID, attempt, nil)
		if err != nil {
			return out, fmt.Errorf("failed to get attempt %d of run %d: %w", attempt, runID, err)
		}
	}
	if run.GetStatus() != "completed" {
		out.Skipped = "the attempt has not completed"
		return out, nil
	}
	switch run.GetConclusion() {
	case "cancelled", "skipped", "startup_failure", "action_required", "stale":
		out.Skipped = "conclusion " + run.GetConclusion() + ": no test verdicts"
		return out, nil
	}
	started := run.GetRunStartedAt().Time
	if started.IsZero() {
		started = run.GetCreatedAt().Time
	}
	rec := store.TestRun{
		Owner: a.Owner, Repo: a.Repo, RunID: runID, Attempt: attempt, Workflow: run.GetName(),
		HeadSHA: run.GetHeadSHA(), Branch: run.GetHeadBranch(), Event: run.GetEvent(),
		Conclusion: run.GetConclusion(), HTMLURL: attemptURL(run, attempt), StartedAt: started,
	}
	results, notes, err := s.artifactResults(ctx, runID, attempt, started, run.GetUpdatedAt().Time)
	if err != nil {
		return out, err
	}
	out.Notes = notes
	rec.Source = sourceArtifacts
	if len(results) == 0 {
		results, err = s.logResults(ctx, runID, attempt, run, awaitAnalysis)
		if err != nil {
			return out, err
		}
		rec.Source = sourceLog
		if len(results) == 0 {
			rec.Source = sourceNone
		}
	}
	rec.Note = joinNotes(notes)
	if _, err := s.w.deps.Store.SaveTestRun(ctx, rec, results, keepRuns); err != nil {
		return out, err
	}
	out.Source, out.Tests = rec.Source, len(results)
	for _, r := range results {
		if testresults.Outcome(r.Outcome).IsFailure() {
			out.Failed++
		}
	}
	return out, nil
}

// attemptName finds an attempt number in an artifact's name.
var attemptName = regexp.MustCompile(`(?i)attempt[-_ ]?(\d+)`)

// jobOf is the job an artifact stands for: its name without the attempt marker, so that
// "junit-attempt-1" and "junit-attempt-2" are the same job's reports.
func jobOf(artifact string) string {
	job := strings.Trim(attemptName.ReplaceAllString(artifact, ""), "-_ .")
	if job == "" {
		return artifact
	}
	return job
}

// belongsTo reports whether an artifact belongs to the attempt (see the package comment).
func belongsTo(art *github.Artifact, attempt int, started, updated time.Time) bool {
	if m := attemptName.FindStringSubmatch(art.GetName()); m != nil {
		n, err := strconv.Atoi(m[1])
		return err == nil && n == attempt
	}
	created := art.GetCreatedAt().Time
	if created.IsZero() || started.IsZero() {
		return attempt == 1
	}
	end := updated
	if end.IsZero() {
		end = started.Add(6 * time.Hour)
	}
	return !created.Before(started.Add(-time.Minute)) && !created.After(end.Add(2*time.Minute))
}

// artifactResults downloads the attempt's artifacts within the size limit and parses the test
// reports in them; what it skipped is in the notes.
func (s *session) artifactResults(ctx context.Context, runID int64, attempt int, started, updated time.Time) ([]store.TestResult, []string, error) {
	a := s.args
	var arts []*github.Artifact
	opts := &github.ListOptions{PerPage: 100}
	for page := 0; page < 10; page++ {
		// GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts
		// https://docs.github.com/en/rest/actions/artifacts#list-workflow-run-artifacts
		list, resp, err := s.client.Actions.ListWorkflowRunArtifacts(ctx, a.Owner, a.Repo, runID, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to list the artifacts of run %d: %w", runID, err)
		}
		arts = append(arts, list.Artifacts...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	var results []store.TestResult
	var notes []string
	limit := s.cfg.ArtifactMaxBytes
	for _, art := range arts {
		if art.GetExpired() || !belongsTo(art, attempt, started, updated) {
			continue
		}
		if art.GetSizeInBytes() > limit {
			notes = append(notes, fmt.Sprintf("artifact %q (%d bytes) is over the %d-byte limit: skipped", art.GetName(), art.GetSizeInBytes(), limit))
			continue
		}
		data, err := s.download(ctx, art, limit)
		var tooBig *tooBigError
		if errors.As(err, &tooBig) {
			notes = append(notes, fmt.Sprintf("artifact %q is over the %d-byte limit: skipped", art.GetName(), limit))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		files, zipNotes, err := testresults.FromZip(bytes.NewReader(data), int64(len(data)), testresults.Limits{MaxArchiveBytes: limit})
		if err != nil {
			notes = append(notes, fmt.Sprintf("artifact %q is not a readable zip: %v", art.GetName(), err))
			continue
		}
		for _, n := range zipNotes {
			notes = append(notes, fmt.Sprintf("artifact %q: %s skipped (%s)", art.GetName(), n.Entry, n.Reason))
		}
		for _, f := range files {
			for _, r := range f.Results {
				if r.Outcome == testresults.Skipped {
					continue
				}
				results = append(results, store.TestResult{Job: jobOf(art.GetName()), Suite: r.Suite, TestID: r.ID, Outcome: string(r.Outcome), Duration: r.Duration})
			}
		}
	}
	return results, notes, nil
}

// tooBigError is an artifact whose download is larger than the limit.
type tooBigError struct{ limit int64 }

func (e *tooBigError) Error() string { return fmt.Sprintf("artifact is larger than %d bytes", e.limit) }

// download fetches an artifact's zip from the address GitHub redirects to (pre-signed, on
// another host: sent without GitHub credentials), reading at most limit bytes.
func (s *session) download(ctx context.Context, art *github.Artifact, limit int64) ([]byte, error) {
	a := s.args
	// GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/zip
	// https://docs.github.com/en/rest/actions/artifacts#download-an-artifact
	u, _, err := s.client.Actions.DownloadArtifact(ctx, a.Owner, a.Repo, art.GetID(), 0)
	if err != nil {
		return nil, fmt.Errorf("failed to get the download address of artifact %d: %w", art.GetID(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("failed to download artifact %d: %w", art.GetID(), err)
	}
	resp, err := s.w.deps.Downloads.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to download artifact %d: %w", art.GetID(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("failed to download artifact %d: %w", art.GetID(), &downloadError{status: resp.StatusCode})
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("failed to download artifact %d: %w", art.GetID(), err)
	}
	if int64(len(data)) > limit {
		return nil, &tooBigError{limit: limit}
	}
	return data, nil
}

// downloadError is a non-200 answer of the artifact store.
type downloadError struct{ status int }

func (e *downloadError) Error() string { return fmt.Sprintf("artifact store answered %d", e.status) }

// logResults is the evidence of an attempt without test reports: the failed tests failure
// analysis found in its failed jobs' logs, and, for each job that passed, a pass of every test
// that job has been seen failing before (a job that succeeded passed the tests it ran).
func (s *session) logResults(ctx context.Context, runID int64, attempt int, run *github.WorkflowRun, awaitAnalysis bool) ([]store.TestResult, error) {
	a := s.args
	failedByJob, err := s.w.deps.Store.LogFailedTests(ctx, a.Owner, a.Repo, runID, attempt)
	if err != nil {
		return nil, err
	}
	if len(failedByJob) == 0 && awaitAnalysis && (run.GetConclusion() == "failure" || run.GetConclusion() == "timed_out") {
		analyzed, err := s.w.deps.Store.RunResults(ctx, a.Owner, a.Repo, runID)
		if err != nil {
			return nil, err
		}
		seen := false
		for _, r := range analyzed {
			seen = seen || r.Attempt == attempt
		}
		if !seen {
			return nil, errAwaitAnalysis
		}
	}
	var passedJobs []string
	opts := &github.ListWorkflowJobsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < 10; page++ {
		// GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs
		// https://docs.github.com/en/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run-attempt
		jobs, resp, err := s.client.Actions.ListWorkflowJobsAttempt(ctx, a.Owner, a.Repo, runID, int64(attempt), &opts.ListOptions)
		if err != nil {
			return nil, fmt.Errorf("failed to list the jobs of run %d attempt %d: %w", runID, attempt, err)
		}
		for _, j := range jobs.Jobs {
			if j.GetConclusion() == "success" {
				passedJobs = append(passedJobs, j.GetName())
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	var results []store.TestResult
	for job, tests := range failedByJob {
		for _, t := range tests {
			results = append(results, store.TestResult{Job: job, TestID: t, Outcome: string(testresults.Failed)})
		}
	}
	known, err := s.w.deps.Store.LogFailedTestsOfJobs(ctx, a.Owner, a.Repo, passedJobs)
	if err != nil {
		return nil, err
	}
	for job, tests := range known {
		for _, t := range tests {
			results = append(results, store.TestResult{Job: job, TestID: t, Outcome: string(testresults.Passed)})
		}
	}
	return results, nil
}

func attemptURL(run *github.WorkflowRun, attempt int) string {
	if run.GetHTMLURL() == "" {
		return ""
	}
	return fmt.Sprintf("%s/attempts/%d", run.GetHTMLURL(), attempt)
}

func joinNotes(notes []string) string {
	var b bytes.Buffer
	for i, n := range notes {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(n)
	}
	return b.String()
}
