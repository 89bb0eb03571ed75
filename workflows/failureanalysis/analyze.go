package failureanalysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/workflows/failureanalysis/loganalysis"
	"github.com/contexten/autonomous/workflows/failureanalysis/redact"
)

// failure is one distinct failure: identical failures across matrix jobs share a fingerprint
// and are reported once, listing every job.
type failure struct {
	result      loganalysis.Result
	fingerprint string
	jobs        []jobRef
	// truncated is set when the log was longer than the byte limit and only its end was read.
	truncated bool
	// knownFlaky holds, when every failed test is known flaky, test optimization's note per test.
	knownFlaky map[string]string
}

type jobRef struct {
	Name       string
	URL        string
	StepNumber int
}

func (f failure) output() FailureOut {
	names := make([]string, len(f.jobs))
	for i, j := range f.jobs {
		names[i] = j.Name
	}
	return FailureOut{
		Jobs: names, FailedStep: f.result.FailedStep, Classification: string(f.result.Classification),
		Retryable: f.result.Retryable, FailedTests: f.result.FailedTests, Fingerprint: f.fingerprint,
	}
}

// analyzeJobs downloads and analyzes each failed job's log, grouping identical failures.
func (s *session) analyzeJobs(ctx context.Context, jobs []*github.WorkflowJob) ([]failure, error) {
	var failures []failure
	index := map[string]int{}
	for _, job := range jobs {
		steps := make([]loganalysis.Step, 0, len(job.Steps))
		stepNumber := 0
		for _, st := range job.Steps {
			steps = append(steps, loganalysis.Step{Number: int(st.GetNumber()), Name: st.GetName(), Conclusion: st.GetConclusion()})
			if stepNumber == 0 && st.GetConclusion() == "failure" {
				stepNumber = int(st.GetNumber())
			}
		}
		res, truncated, err := s.analyzeJobLog(ctx, job, steps)
		if err != nil {
			return nil, err
		}
		res = redactResult(res)
		fp := res.Fingerprint()
		ref := jobRef{Name: redact.String(job.GetName()), URL: job.GetHTMLURL(), StepNumber: stepNumber}
		if i, ok := index[fp]; ok {
			failures[i].jobs = append(failures[i].jobs, ref)
			continue
		}
		index[fp] = len(failures)
		failures = append(failures, failure{result: res, fingerprint: fp, jobs: []jobRef{ref}, truncated: truncated})
	}
	return failures, nil
}

// analyzeJobLog streams one job's log through the analyzer. Only the last LogBytesLimit bytes
// are read: the cause of a failure is near the end, and a Range request keeps a 1 GB log from
// costing 1 GB of transfer.
func (s *session) analyzeJobLog(ctx context.Context, job *github.WorkflowJob, steps []loganalysis.Step) (loganalysis.Result, bool, error) {
	opts := loganalysis.Options{Steps: steps}
	if job.GetConclusion() == "startup_failure" {
		return loganalysis.AnalyzeText("", opts), false, nil
	}
	opts.Baseline = s.base.forJob(ctx, job)
	// GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs (302 to a pre-signed address)
	// https://docs.github.com/en/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run
	u, resp, err := s.client.Actions.GetWorkflowJobLogs(ctx, s.args.Owner, s.args.Repo, job.GetID(), 1)
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone) {
			if done := job.GetCompletedAt(); !done.IsZero() && time.Since(done.Time) < logGracePeriod {
				// Right after a job completes its log may not be stored yet: retry (a new
				// error, not GitHub's 404, which would cancel the execution).
				return loganalysis.Result{}, false, fmt.Errorf("failed to get the log of job %d: %w", job.GetID(), errLogNotReady)
			}
			// Logs expire or are deleted; the job list still tells which step failed.
			res := loganalysis.AnalyzeText("", opts)
			res.Summary = "The job log is no longer available."
			return res, false, nil
		}
		if resp != nil {
			// go-github reports an unexpected status of this endpoint as a plain error; turn it
			// into the typed error so a rate limit snoozes and a 5xx retries.
			if typed := github.CheckResponse(resp.Response); typed != nil {
				err = typed
			}
		}
		return loganalysis.Result{}, false, fmt.Errorf("failed to get the log address of job %d: %w", job.GetID(), err)
	}
	limit := s.w.deps.LogBytesLimit
	if l := s.cfg.LogBytesLimit; l > 0 && l < limit {
		limit = l
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return loganalysis.Result{}, false, fmt.Errorf("failed to build the log request: %w", err)
	}
	req.Header.Set("Range", "bytes=-"+strconv.FormatInt(limit, 10))
	logResp, err := s.w.deps.LogClient.Do(req)
	if err != nil {
		// The address is pre-signed: its query is a credential, and this error is logged and
		// kept in the execution's history.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
		}
		return loganalysis.Result{}, false, fmt.Errorf("failed to download the log of job %d: %w", job.GetID(), err)
	}
	defer logResp.Body.Close()
	truncated := false
	switch logResp.StatusCode {
	case http.StatusOK:
		// The server ignored the Range: skip to the last limit bytes, where the cause is.
		if logResp.ContentLength > limit {
			truncated = true
			if _, err := io.CopyN(io.Discard, logResp.Body, logResp.ContentLength-limit); err != nil {
				return loganalysis.Result{}, false, fmt.Errorf("failed to read the log of job %d: %w", job.GetID(), err)
			}
		}
	case http.StatusPartialContent:
		truncated = !strings.HasPrefix(logResp.Header.Get("Content-Range"), "bytes 0-")
	case http.StatusRequestedRangeNotSatisfiable:
		return loganalysis.AnalyzeText("", opts), false, nil
	default:
		return loganalysis.Result{}, false, fmt.Errorf("failed to download the log of job %d: HTTP %d", job.GetID(), logResp.StatusCode)
	}
	res, err := loganalysis.Analyze(io.LimitReader(logResp.Body, limit), opts)
	if err != nil {
		return loganalysis.Result{}, false, fmt.Errorf("failed to read the log of job %d: %w", job.GetID(), err)
	}
	return res, truncated, nil
}

// logGracePeriod is how long after a job completed a missing log is taken for one not stored
// yet rather than one deleted or expired; the engine's retries span more than that.
const logGracePeriod = 5 * time.Minute

// errLogNotReady reports a job log that GitHub does not serve yet.
var errLogNotReady = errors.New("the job log is not available yet")

// redactResult removes secret-shaped strings from everything that may be posted.
func redactResult(r loganalysis.Result) loganalysis.Result {
	r.Summary = redact.String(r.Summary)
	r.FailedStep = redact.String(r.FailedStep)
	for i := range r.Excerpt {
		r.Excerpt[i].Text = redact.String(r.Excerpt[i].Text)
	}
	for i := range r.FailedTests {
		r.FailedTests[i] = redact.String(r.FailedTests[i])
	}
	for i := range r.Locations {
		r.Locations[i].Path = redact.String(r.Locations[i].Path)
		r.Locations[i].Message = redact.String(r.Locations[i].Message)
	}
	return r
}
