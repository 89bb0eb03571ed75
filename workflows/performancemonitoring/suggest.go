package performancemonitoring

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/performancemonitoring/durationstats"
)

// Suggestion is one concrete optimization drawn from the timings (auto_optimize).
type Suggestion struct {
	// Kind is "slowest_steps", "queue_bound" or "unused_cache".
	Kind     string `json:"kind"`
	Workflow string `json:"workflow"`
	Job      string `json:"job"`
	// Text is plain text (untrusted names inside): render it with markdown.Plain.
	Text string `json:"text"`
}

// Cache heuristics: a job has a cache when a step's name mentions one; a run of it hit the cache
// when its saving step (a "Post …cache…" or "Save …cache…" step) was skipped or took under
// cacheSaveHit, since actions/cache and the setup actions save only after a miss. A cache
// "does not pay" when the job's median with hits is within cacheNoGain of its median with
// misses, with at least minCacheSamples of each.
const (
	cacheSaveHit    = 2 * time.Second
	cacheNoGain     = 0.10
	minCacheSamples = 2
	slowestSteps    = 3
)

// suggest looks at the runs (the baseline's and the judged ones together) for the slowest
// job's slowest steps, jobs whose queue time dominates, and jobs whose cache does not pay.
func suggest(runs []store.PerfRun) []Suggestion {
	type jobKey struct{ workflow, job string }
	type jobData struct {
		durations, queues  []time.Duration
		steps              map[string][]time.Duration
		hits, misses       []time.Duration
		hasCache, anySaved bool
	}
	data := map[jobKey]*jobData{}
	var keys []jobKey
	for _, r := range runs {
		if r.Attempt > 1 || !strings.EqualFold(r.Conclusion, "success") {
			continue
		}
		for _, j := range r.Jobs {
			if j.Duration <= 0 {
				continue
			}
			k := jobKey{r.Workflow, j.Name}
			d := data[k]
			if d == nil {
				d = &jobData{steps: map[string][]time.Duration{}}
				data[k] = d
				keys = append(keys, k)
			}
			d.durations = append(d.durations, j.Duration)
			d.queues = append(d.queues, j.Queue)
			saved, hit := false, false
			for _, s := range j.Steps {
				d.steps[s.Name] = append(d.steps[s.Name], s.Duration)
				name := strings.ToLower(s.Name)
				if strings.Contains(name, "cache") {
					d.hasCache = true
					if strings.HasPrefix(name, "post ") || strings.HasPrefix(name, "save ") {
						saved = true
						hit = strings.EqualFold(s.Conclusion, "skipped") || s.Duration < cacheSaveHit
					}
				}
			}
			if saved {
				d.anySaved = true
				if hit {
					d.hits = append(d.hits, j.Duration)
				} else {
					d.misses = append(d.misses, j.Duration)
				}
			}
		}
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].workflow != keys[b].workflow {
			return keys[a].workflow < keys[b].workflow
		}
		return keys[a].job < keys[b].job
	})
	var out []Suggestion
	// The slowest job by median duration, and its slowest steps.
	var slowest *jobKey
	var slowestP50 time.Duration
	for i, k := range keys {
		if p50 := durationstats.Median(data[k].durations); p50 > slowestP50 {
			slowest, slowestP50 = &keys[i], p50
		}
	}
	if slowest != nil {
		d := data[*slowest]
		type step struct {
			name string
			p50  time.Duration
		}
		var steps []step
		for name, ds := range d.steps {
			if p50 := durationstats.Median(ds); p50 > 0 {
				steps = append(steps, step{name, p50})
			}
		}
		sort.Slice(steps, func(a, b int) bool {
			if steps[a].p50 != steps[b].p50 {
				return steps[a].p50 > steps[b].p50
			}
			return steps[a].name < steps[b].name
		})
		if len(steps) > 0 {
			parts := make([]string, 0, slowestSteps)
			for _, s := range steps[:min(len(steps), slowestSteps)] {
				parts = append(parts, fmt.Sprintf("%q (p50 %s, %.0f%%)", s.name, roundDuration(s.p50), float64(s.p50)/float64(slowestP50)*100))
			}
			out = append(out, Suggestion{Kind: "slowest_steps", Workflow: slowest.workflow, Job: slowest.job,
				Text: fmt.Sprintf("%s / %s is the slowest job (p50 %s); its slowest steps are %s: cache, parallelize or split them first.",
					slowest.workflow, slowest.job, roundDuration(slowestP50), strings.Join(parts, ", "))})
		}
	}
	for _, k := range keys {
		d := data[k]
		q, run := durationstats.Median(d.queues), durationstats.Median(d.durations)
		if q >= durationstats.MinQueueDominating && q > run {
			out = append(out, Suggestion{Kind: "queue_bound", Workflow: k.workflow, Job: k.job,
				Text: fmt.Sprintf("%s / %s waits longer for a runner (p50 %s) than it runs (p50 %s): more runners or a less busy runner label would speed it up more than faster code.",
					k.workflow, k.job, roundDuration(q), roundDuration(run))})
		}
	}
	for _, k := range keys {
		d := data[k]
		if !d.hasCache || !d.anySaved || len(d.hits) < minCacheSamples || len(d.misses) < minCacheSamples {
			continue
		}
		hit, miss := durationstats.Median(d.hits), durationstats.Median(d.misses)
		if miss > 0 && float64(hit) >= float64(miss)*(1-cacheNoGain) {
			out = append(out, Suggestion{Kind: "unused_cache", Workflow: k.workflow, Job: k.job,
				Text: fmt.Sprintf("%s / %s takes as long with a cache hit (p50 %s, %d runs) as without (p50 %s, %d runs): its cache does not pay; check its key and paths, or drop it.",
					k.workflow, k.job, roundDuration(hit), len(d.hits), roundDuration(miss), len(d.misses))})
		}
	}
	return out
}

// roundDuration rounds for people: whole seconds, or tenths under ten seconds.
func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
