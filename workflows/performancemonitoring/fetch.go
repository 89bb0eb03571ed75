package performancemonitoring

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/store"
)

// Paging bounds: a check reads at most this many pages of 100 runs, and of 100 jobs a run.
const (
	maxRunPages = 10
	maxJobPages = 5
)

// fetcher reads run timings of one repository: runs from GitHub through the client (whose HTTP
// cache makes a repeated list a conditional request), jobs from the history when it has them.
type fetcher struct {
	client      *github.Client
	records     Records
	owner, repo string
	historySize int
	stats       *FetchStats
}

// FetchStats counts what a check read, in the output.
type FetchStats struct {
	RunPages    int `json:"run_pages"`
	JobRequests int `json:"job_requests"`
	// FromHistory is how many runs' jobs came from the database instead of GitHub.
	FromHistory int `json:"from_history"`
	Recorded    int `json:"recorded"`
}

// listFilter selects the runs listed.
type listFilter struct {
	branch  string // the baseline branch's successful runs
	headSHA string // every completed run of a commit
	// perWorkflow stops paging once every workflow seen (or every workflow of want) has this
	// many runs; zero reads every page (up to maxRunPages).
	perWorkflow int
	want        map[int64]bool
}

// listRuns lists completed runs, newest first, paged.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository
func (f *fetcher) listRuns(ctx context.Context, lf listFilter) ([]*github.WorkflowRun, error) {
	q := url.Values{"per_page": {"100"}}
	if lf.branch != "" {
		q.Set("branch", lf.branch)
		q.Set("status", "success")
	}
	if lf.headSHA != "" {
		q.Set("head_sha", lf.headSHA)
	}
	path := fmt.Sprintf("repos/%s/%s/actions/runs", url.PathEscape(f.owner), url.PathEscape(f.repo))
	var out []*github.WorkflowRun
	counts := map[int64]int{}
	seen := map[int64]bool{}
	for page := 1; page <= maxRunPages; page++ {
		q.Set("page", strconv.Itoa(page))
		// GET /repos/{owner}/{repo}/actions/runs
		runs, resp, err := f.revalidated(ctx, path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("failed to list workflow runs of %s/%s: %w", f.owner, f.repo, err)
		}
		f.stats.RunPages++
		for _, r := range runs.WorkflowRuns {
			if r.GetStatus() != "completed" || seen[r.GetID()] {
				continue // still running; or moved to an earlier page while paging
			}
			seen[r.GetID()] = true
			out = append(out, r)
			counts[r.GetWorkflowID()]++
		}
		if resp == nil || resp.NextPage == 0 || enough(counts, lf) {
			break
		}
	}
	return out, nil
}

// revalidated GETs a list of runs with "Cache-Control: max-age=0": the client's HTTP cache then
// sends its ETag (If-None-Match) and GitHub answers 304 Not Modified when nothing changed, which
// costs no rate limit, while a new run is seen at once (a cached list is otherwise served for
// GitHub's max-age, a minute, without asking).
func (f *fetcher) revalidated(ctx context.Context, path string) (*github.WorkflowRuns, *github.Response, error) {
	req, err := f.client.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Cache-Control", "max-age=0")
	var runs github.WorkflowRuns
	resp, err := f.client.Do(ctx, req, &runs)
	if err != nil {
		return nil, resp, err
	}
	return &runs, resp, nil
}

// enough reports whether every workflow wanted (or seen) has perWorkflow runs.
func enough(counts map[int64]int, lf listFilter) bool {
	if lf.perWorkflow <= 0 {
		return false
	}
	if len(lf.want) > 0 {
		for id := range lf.want {
			if counts[id] < lf.perWorkflow {
				return false
			}
		}
		return true
	}
	for _, n := range counts {
		if n < lf.perWorkflow {
			return false
		}
	}
	return len(counts) > 0
}

// timings returns the runs' timings with their jobs: from the history for the run attempts it
// has, from GitHub for the others, which are then recorded.
func (f *fetcher) timings(ctx context.Context, runs []*github.WorkflowRun) ([]store.PerfRun, error) {
	ids := make([]int64, 0, len(runs))
	for _, r := range runs {
		ids = append(ids, r.GetID())
	}
	known, err := f.records.PerfRunsByID(ctx, f.owner, f.repo, ids)
	if err != nil {
		return nil, err
	}
	out := make([]store.PerfRun, 0, len(runs))
	var fresh []store.PerfRun
	for _, r := range runs {
		attempt := int64(max(r.GetRunAttempt(), 1))
		if pr, ok := known[[2]int64{r.GetID(), attempt}]; ok {
			f.stats.FromHistory++
			out = append(out, pr)
			continue
		}
		jobs, err := f.jobs(ctx, r.GetID(), attempt)
		if err != nil {
			return nil, err
		}
		pr := toPerfRun(f.owner, f.repo, r, jobs)
		fresh = append(fresh, pr)
		out = append(out, pr)
	}
	if len(fresh) > 0 {
		if err := f.records.SavePerfRuns(ctx, fresh, f.historySize); err != nil {
			return nil, err
		}
		f.stats.Recorded += len(fresh)
	}
	return out, nil
}

// jobs lists the jobs of one run attempt, paged.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run-attempt
func (f *fetcher) jobs(ctx context.Context, runID, attempt int64) ([]*github.WorkflowJob, error) {
	var out []*github.WorkflowJob
	opts := &github.ListOptions{PerPage: 100}
	for page := 1; page <= maxJobPages; page++ {
		opts.Page = page
		// GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs
		jobs, resp, err := f.client.Actions.ListWorkflowJobsAttempt(ctx, f.owner, f.repo, runID, attempt, opts)
		if err != nil {
			return nil, fmt.Errorf("failed to list jobs of run %d attempt %d: %w", runID, attempt, err)
		}
		f.stats.JobRequests++
		out = append(out, jobs.Jobs...)
		if resp == nil || resp.NextPage == 0 {
			break
		}
	}
	return out, nil
}

// toPerfRun measures a completed run attempt: its queue is the wait from the attempt's start to
// its first job's start, its duration the rest until its last job completed (GitHub's
// updated_at when it lists no jobs). A job's queue is created_at to started_at, its duration
// started_at to completed_at. Times missing or out of order give zero, which durationstats.Fair
// drops as invalid.
func toPerfRun(owner, repo string, r *github.WorkflowRun, jobs []*github.WorkflowJob) store.PerfRun {
	start := r.GetRunStartedAt().Time
	if start.IsZero() {
		start = r.GetCreatedAt().Time
	}
	end := r.GetUpdatedAt().Time
	var firstStart, lastEnd time.Time
	pj := make([]store.PerfJob, 0, len(jobs))
	for _, j := range jobs {
		js, je := j.GetStartedAt().Time, j.GetCompletedAt().Time
		job := store.PerfJob{ID: j.GetID(), Name: j.GetName(), Conclusion: j.GetConclusion(),
			Queue: span(j.GetCreatedAt().Time, js), Duration: span(js, je)}
		for _, s := range j.Steps {
			job.Steps = append(job.Steps, store.PerfStep{Name: s.GetName(), Conclusion: s.GetConclusion(),
				Duration: span(s.GetStartedAt().Time, s.GetCompletedAt().Time)})
		}
		pj = append(pj, job)
		if !js.IsZero() && (firstStart.IsZero() || js.Before(firstStart)) {
			firstStart = js
		}
		if je.After(lastEnd) {
			lastEnd = je
		}
	}
	sort.SliceStable(pj, func(a, b int) bool { return pj[a].Name < pj[b].Name })
	if !lastEnd.IsZero() {
		end = lastEnd
	}
	pr := store.PerfRun{
		Owner: owner, Repo: repo, RunID: r.GetID(), Attempt: max(r.GetRunAttempt(), 1),
		WorkflowID: r.GetWorkflowID(), Workflow: r.GetName(), Branch: r.GetHeadBranch(), HeadSHA: r.GetHeadSHA(),
		Event: r.GetEvent(), Conclusion: r.GetConclusion(), StartedAt: start.UTC(), Jobs: pj, HTMLURL: r.GetHTMLURL(),
	}
	if firstStart.IsZero() {
		pr.Duration = span(start, end)
	} else {
		pr.Queue, pr.Duration = span(start, firstStart), span(firstStart, end)
	}
	return pr
}

// span is b − a, or zero when either is unknown or b is before a.
func span(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return 0
	}
	return b.Sub(a)
}
