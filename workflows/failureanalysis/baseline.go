package failureanalysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/workflows/failureanalysis/loganalysis"
)

// maxBaselinesCached bounds the passing logs kept in memory across executions.
const maxBaselinesCached = 32

// baselineTimeout bounds the download of one passing log: the baseline only sharpens a
// report, it may not hold it up.
const baselineTimeout = time.Minute

// baselineCache keeps the parsed logs of passing jobs, per repository, workflow, job name and
// head commit of the passing run: every failure on the same base reuses them without a call.
// The zero value is ready to use.
type baselineCache struct {
	mu    sync.Mutex
	items map[string]*loganalysis.Baseline
	order []string // insertion order, oldest first, for eviction
}

func (c *baselineCache) get(key string) (*loganalysis.Baseline, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.items[key]
	return b, ok
}

// put remembers b (nil remembers that the passing run has no usable log for the job).
func (c *baselineCache) put(key string, b *loganalysis.Baseline) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[string]*loganalysis.Baseline{}
	}
	if _, ok := c.items[key]; !ok {
		c.order = append(c.order, key)
	}
	c.items[key] = b
	for len(c.order) > maxBaselinesCached {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
}

// baselines finds, for the failed jobs of one run, the same jobs in the most recent successful
// run of the same workflow on the base branch. The green run is looked up once per execution
// and its jobs listed once, so one failed job costs at most the two look-ups plus its log's
// address, and every further failed job one call at most (none when cached).
type baselines struct {
	s          *session
	workflowID int64
	branch     string
	looked     bool
	green      *github.WorkflowRun
	jobs       map[string]int64 // job name -> job id in the green run
	timeout    time.Duration    // per passing-log download
}

// newBaselines prepares the look-up for the failed run; a run without a workflow id gets none.
func (s *session) newBaselines(run *github.WorkflowRun) *baselines {
	if run.GetWorkflowID() == 0 {
		return nil
	}
	branch := run.GetRepository().GetDefaultBranch()
	if prs := run.PullRequests; len(prs) > 0 && prs[0].GetBase().GetRef() != "" {
		branch = prs[0].GetBase().GetRef()
	}
	if branch == "" {
		branch = run.GetHeadBranch()
	}
	return &baselines{s: s, workflowID: run.GetWorkflowID(), branch: branch, timeout: baselineTimeout}
}

// forJob returns the passing log of the job with the same name, or nil. It never fails the
// analysis: a missing or unreadable baseline only means no lines are dropped.
func (b *baselines) forJob(ctx context.Context, job *github.WorkflowJob) *loganalysis.Baseline {
	if b == nil || job.GetName() == "" {
		return nil
	}
	if err := b.findGreenRun(ctx); err != nil {
		b.s.logger(ctx).Info().Err(err).Msg("No baseline log: the last passing run could not be found")
		return nil
	}
	if b.green == nil {
		return nil
	}
	a := b.s.args
	key := a.Owner + "/" + a.Repo + "\x00" + strconv.FormatInt(b.workflowID, 10) + "\x00" + job.GetName() + "\x00" + b.green.GetHeadSHA()
	if cached, ok := b.s.w.baselines.get(key); ok {
		return cached
	}
	if b.jobs == nil {
		if err := b.listGreenJobs(ctx); err != nil {
			b.s.logger(ctx).Info().Err(err).Msg("No baseline log: the jobs of the last passing run could not be listed")
			return nil
		}
	}
	id, ok := b.jobs[job.GetName()]
	if !ok {
		b.s.w.baselines.put(key, nil)
		return nil
	}
	base, err := b.download(ctx, id)
	if err != nil {
		b.s.logger(ctx).Info().Err(err).Int64("baseline_job_id", id).Msg("No baseline log: the passing job's log could not be read")
		return nil
	}
	b.s.w.baselines.put(key, base)
	return base
}

// findGreenRun looks up the most recent successful run of the workflow on the branch, once.
func (b *baselines) findGreenRun(ctx context.Context) error {
	if b.looked {
		return nil
	}
	b.looked = true
	a := b.s.args
	// GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs?branch=…&status=success&per_page=1
	// https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
	runs, _, err := b.s.client.Actions.ListWorkflowRunsByID(ctx, a.Owner, a.Repo, b.workflowID, &github.ListWorkflowRunsOptions{
		Branch: b.branch, Status: "success", ListOptions: github.ListOptions{PerPage: 1},
	})
	if err != nil {
		return fmt.Errorf("failed to list successful runs of workflow %d: %w", b.workflowID, err)
	}
	if len(runs.WorkflowRuns) > 0 && runs.WorkflowRuns[0].GetID() != a.RunID {
		b.green = runs.WorkflowRuns[0]
	}
	return nil
}

// listGreenJobs lists the jobs of the green run's latest attempt (one page).
func (b *baselines) listGreenJobs(ctx context.Context) error {
	a := b.s.args
	// GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs
	// https://docs.github.com/en/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run
	jobs, _, err := b.s.client.Actions.ListWorkflowJobs(ctx, a.Owner, a.Repo, b.green.GetID(), &github.ListWorkflowJobsOptions{
		Filter: "latest", ListOptions: github.ListOptions{PerPage: 100},
	})
	if err != nil {
		return fmt.Errorf("failed to list the jobs of run %d: %w", b.green.GetID(), err)
	}
	b.jobs = map[string]int64{}
	for _, j := range jobs.Jobs {
		if j.GetConclusion() == "success" {
			b.jobs[j.GetName()] = j.GetID()
		}
	}
	return nil
}

// download reads the last LogBytesLimit bytes of the passing job's log.
func (b *baselines) download(ctx context.Context, jobID int64) (*loganalysis.Baseline, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	a := b.s.args
	// GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs (302 to a pre-signed address)
	// https://docs.github.com/en/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run
	u, _, err := b.s.client.Actions.GetWorkflowJobLogs(ctx, a.Owner, a.Repo, jobID, 1)
	if err != nil {
		return nil, fmt.Errorf("failed to get the log address of job %d: %w", jobID, err)
	}
	limit := b.s.w.deps.LogBytesLimit
	if l := b.s.cfg.LogBytesLimit; l > 0 && l < limit {
		limit = l
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build the log request: %w", err)
	}
	req.Header.Set("Range", "bytes=-"+strconv.FormatInt(limit, 10))
	resp, err := b.s.w.deps.LogClient.Do(req)
	if err != nil {
		// The pre-signed query is a credential: keep only the address's path in the error.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
		}
		return nil, fmt.Errorf("failed to download the log of job %d: %w", jobID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return nil, fmt.Errorf("failed to download the log of job %d: HTTP %d", jobID, resp.StatusCode)
	}
	base, err := loganalysis.NewBaseline(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("failed to read the log of job %d: %w", jobID, err)
	}
	return base, nil
}
