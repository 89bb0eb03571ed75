package failureanalysis

import (
	"net/http"
	"sort"
	"strconv"
)

// listWorkflowRuns answers GET /actions/workflows/{id}/runs for the look-up of the last green
// run: the runs of the workflow whose latest attempt succeeded, newest (highest id) first. It
// only knows the query the analyzer must send and answers 422 to any other.
func (f *fakeGitHub) listWorkflowRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("branch") != "main" || q.Get("status") != "success" || q.Get("per_page") != "1" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "unexpected query " + r.URL.RawQuery})
		return
	}
	f.mu.Lock()
	var green []*fakeRun
	for _, run := range f.runs {
		if run.WorkflowID == pathID(r, "id") && run.Attempts[len(run.Attempts)-1].Conclusion == "success" {
			green = append(green, run)
		}
	}
	f.mu.Unlock()
	sort.Slice(green, func(i, j int) bool { return green[i].ID > green[j].ID })
	out := []map[string]any{}
	for _, run := range green[:min(len(green), 1)] {
		out = append(out, run.json(len(run.Attempts)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(green), "workflow_runs": out})
}

// listRunJobs answers GET /actions/runs/{id}/jobs?filter=latest with the jobs of the latest attempt.
func (f *fakeGitHub) listRunJobs(w http.ResponseWriter, r *http.Request) {
	run, ok := f.run(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("filter") != "latest" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "expected filter=latest"})
		return
	}
	r.SetPathValue("n", strconv.Itoa(len(run.Attempts)))
	f.listJobs(w, r)
}
