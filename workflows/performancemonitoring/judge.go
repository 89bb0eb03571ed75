package performancemonitoring

import (
	"sort"
	"time"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/performancemonitoring/durationstats"
)

// Row is the verdict on one workflow, or on one job of it, against the baseline.
type Row struct {
	Workflow   string `json:"workflow"`
	WorkflowID int64  `json:"workflow_id"`
	// Job is empty for the workflow's whole run.
	Job     string               `json:"job,omitempty"`
	Verdict durationstats.Result `json:"verdict"`
	// BaselineDropped and Dropped count the samples left out as unfair (re-runs, cancelled,
	// queued for long, unfinished) of the baseline and of the judged runs.
	BaselineDropped durationstats.Dropped `json:"baseline_dropped"`
	Dropped         durationstats.Dropped `json:"dropped"`
	// Queue is the judged runs' median wait for a runner, reported apart from their duration.
	Queue         time.Duration `json:"queue"`
	BaselineQueue time.Duration `json:"baseline_queue"`
}

// Notable reports whether the row is worth telling: a regression or an improvement.
func (r Row) Notable() bool {
	return r.Verdict.Kind == durationstats.KindRegression || r.Verdict.Kind == durationstats.KindImprovement
}

// judge weighs the runs judged against the baseline's, per workflow and per job of it, in the
// order of the workflows' names.
func judge(baseline, current []store.PerfRun, opts durationstats.Options) []Row {
	byWorkflow := func(runs []store.PerfRun) map[int64][]store.PerfRun {
		m := map[int64][]store.PerfRun{}
		for _, r := range runs {
			m[r.WorkflowID] = append(m[r.WorkflowID], r)
		}
		return m
	}
	base, cur := byWorkflow(baseline), byWorkflow(current)
	ids := make([]int64, 0, len(cur))
	for id := range cur {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		na, nb := cur[ids[a]][0].Workflow, cur[ids[b]][0].Workflow
		if na != nb {
			return na < nb
		}
		return ids[a] < ids[b]
	})
	var rows []Row
	for _, id := range ids {
		name := cur[id][0].Workflow
		rows = append(rows, judgeSamples(name, id, "", runSamples(base[id]), runSamples(cur[id]), opts))
		jobNames := map[string]bool{}
		for _, r := range cur[id] {
			for _, j := range r.Jobs {
				jobNames[j.Name] = true
			}
		}
		names := make([]string, 0, len(jobNames))
		for n := range jobNames {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			rows = append(rows, judgeSamples(name, id, n, jobSamples(base[id], n), jobSamples(cur[id], n), opts))
		}
	}
	return rows
}

func judgeSamples(workflow string, id int64, job string, base, cur []durationstats.Sample, opts durationstats.Options) Row {
	b, bd := durationstats.Fair(base)
	c, cd := durationstats.Fair(cur)
	return Row{
		Workflow: workflow, WorkflowID: id, Job: job,
		Verdict:         durationstats.Verdict(b, c, opts),
		BaselineDropped: bd, Dropped: cd,
		Queue: medianQueue(cur), BaselineQueue: medianQueue(base),
	}
}

// runSamples are the runs' durations; a run's conclusion and attempt say whether it compares.
func runSamples(runs []store.PerfRun) []durationstats.Sample {
	out := make([]durationstats.Sample, 0, len(runs))
	for _, r := range runs {
		out = append(out, durationstats.Sample{Duration: r.Duration, Queue: r.Queue, Attempt: r.Attempt, Conclusion: r.Conclusion})
	}
	return out
}

// jobSamples are the durations of the runs' jobs named name (a matrix job's every entry is its
// own name); the job of a re-run counts as re-run.
func jobSamples(runs []store.PerfRun, name string) []durationstats.Sample {
	var out []durationstats.Sample
	for _, r := range runs {
		for _, j := range r.Jobs {
			if j.Name == name {
				out = append(out, durationstats.Sample{Duration: j.Duration, Queue: j.Queue, Attempt: r.Attempt, Conclusion: j.Conclusion})
			}
		}
	}
	return out
}

func medianQueue(samples []durationstats.Sample) time.Duration {
	qs := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		if s.Queue >= 0 {
			qs = append(qs, s.Queue)
		}
	}
	return durationstats.Median(qs)
}

// Summary counts the rows' verdicts.
type Summary struct {
	Regressions   int `json:"regressions"`
	Improvements  int `json:"improvements"`
	NoChange      int `json:"no_change"`
	NotEnoughData int `json:"not_enough_data"`
}

func summarize(rows []Row) Summary {
	var s Summary
	for _, r := range rows {
		switch r.Verdict.Kind {
		case durationstats.KindRegression:
			s.Regressions++
		case durationstats.KindImprovement:
			s.Improvements++
		case durationstats.KindNotEnoughData:
			s.NotEnoughData++
		default:
			s.NoChange++
		}
	}
	return s
}
