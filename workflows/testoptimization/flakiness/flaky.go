package flakiness

import (
	"cmp"
	"slices"
	"time"

	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

// Config tunes Analyze. Zero fields take the defaults.
type Config struct {
	// LookbackRuns is how many of a test's most recent runs are looked
	// at (default 50).
	LookbackRuns int
	// FlakyThreshold is the flake rate at or above which a flaky test is
	// quarantined (default 0.05).
	FlakyThreshold float64
	// RecoveredAfter is how many consecutive clean runs after its last
	// failure mark a flaky test recovered (default 20).
	RecoveredAfter int
	// MaxEvidence bounds the evidence pairs kept per test (default 5).
	MaxEvidence int
}

// Defaults for Config.
const (
	DefaultLookbackRuns   = 50
	DefaultFlakyThreshold = 0.05
	DefaultRecoveredAfter = 20
	DefaultMaxEvidence    = 5
)

func (c Config) withDefaults() Config {
	if c.LookbackRuns <= 0 {
		c.LookbackRuns = DefaultLookbackRuns
	}
	if c.FlakyThreshold <= 0 {
		c.FlakyThreshold = DefaultFlakyThreshold
	}
	if c.RecoveredAfter <= 0 {
		c.RecoveredAfter = DefaultRecoveredAfter
	}
	if c.MaxEvidence <= 0 {
		c.MaxEvidence = DefaultMaxEvidence
	}
	return c
}

// Status is where a test stands in the quarantine lifecycle.
type Status string

// The statuses, from healthy to quarantined.
const (
	Stable      Status = "stable"      // no same-commit flip in the window
	Flaky       Status = "flaky"       // flipped, rate below the threshold
	Quarantined Status = "quarantined" // flipped, rate at or above the threshold
	Recovered   Status = "recovered"   // flipped, then RecoveredAfter clean runs
)

// Evidence is one same-commit flip: a failed and a passed execution of
// the test on the same commit in the same job.
type Evidence struct {
	SHA           string    `json:"sha"`
	Job           string    `json:"job"`
	FailedURL     string    `json:"failed_url"`
	FailedAttempt int       `json:"failed_attempt"`
	FailedAt      time.Time `json:"failed_at"`
	PassedURL     string    `json:"passed_url"`
	PassedAttempt int       `json:"passed_attempt"`
	PassedAt      time.Time `json:"passed_at"`
}

// TestFlakiness is the verdict on one test.
type TestFlakiness struct {
	Repo   string `json:"repo"`
	TestID string `json:"test_id"`
	Status Status `json:"status"`
	// Runs is how many runs are in the window; FlakyRuns how many of them
	// hold a flaky failure; Rate is FlakyRuns / Runs.
	Runs      int     `json:"runs"`
	FlakyRuns int     `json:"flaky_runs"`
	Rate      float64 `json:"rate"`
	// Flips is how many (commit, job) pairs both failed and passed.
	Flips int `json:"flips"`
	// FirstSeen and LastSeen are the earliest and latest flaky failure.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// CleanRuns is how many runs since the last failed one passed.
	CleanRuns int        `json:"clean_runs"`
	Evidence  []Evidence `json:"evidence,omitempty"`
}

type flipKey struct{ sha, job string }

// Analyze judges every test in obs. Per test (repository and test id;
// skipped executions are ignored):
//
//   - The window is the test's newest LookbackRuns workflow runs, a run
//     being all attempts of one run id, ordered by its first observation.
//   - A flip is a (commit SHA, job name) pair on which the test both failed
//     (failed or error) and passed within the window: a re-run attempt, a
//     new run of the same commit, or another workflow with a job of the
//     same name. Job names keep matrix legs apart ("test (windows)" failing
//     where "test (linux)" passes is not a flip). Failures alone, however
//     many, never make a test flaky.
//   - A flaky failure is a failure on a flip's (SHA, job); FlakyRuns counts
//     the window's runs with at least one, and Rate = FlakyRuns / Runs.
//   - CleanRuns counts the runs after the newest run with any failure.
//   - Status: Stable without flips; Recovered when CleanRuns reaches
//     RecoveredAfter; else Quarantined when Rate ≥ FlakyThreshold; else
//     Flaky. One flip is enough to be Flaky.
//
// Evidence holds one pair per flip (the newest failure and the first pass
// after it, else the newest pass), newest first, at most MaxEvidence. The
// result is sorted by rate, then flaky runs (both descending), then
// repository and test id.
func Analyze(obs []Observation, cfg Config) []TestFlakiness {
	cfg = cfg.withDefaults()
	var out []TestFlakiness
	for k, runs := range groupByTest(judged(obs)) {
		out = append(out, judge(k, lastRuns(runs, cfg.LookbackRuns), cfg))
	}
	slices.SortFunc(out, func(a, b TestFlakiness) int {
		return cmp.Or(cmp.Compare(b.Rate, a.Rate), cmp.Compare(b.FlakyRuns, a.FlakyRuns),
			cmp.Compare(a.Repo, b.Repo), cmp.Compare(a.TestID, b.TestID))
	})
	return out
}

func judged(obs []Observation) []Observation {
	out := make([]Observation, 0, len(obs))
	for _, o := range obs {
		if o.Outcome.IsFailure() || o.Outcome == testresults.Passed {
			out = append(out, o)
		}
	}
	return out
}

func judge(k testKey, runs []run, cfg Config) TestFlakiness {
	tf := TestFlakiness{Repo: k.repo, TestID: k.test, Status: Stable, Runs: len(runs)}
	fails, passes := map[flipKey][]Observation{}, map[flipKey][]Observation{}
	lastFail := -1
	for i, r := range runs {
		for _, o := range r.obs {
			fk := flipKey{o.SHA, o.Job}
			if o.Outcome.IsFailure() {
				fails[fk] = append(fails[fk], o)
				lastFail = i
			} else {
				passes[fk] = append(passes[fk], o)
			}
		}
	}
	tf.CleanRuns = len(runs) - 1 - lastFail
	for _, r := range runs {
		if slices.ContainsFunc(r.obs, func(o Observation) bool {
			return o.Outcome.IsFailure() && len(passes[flipKey{o.SHA, o.Job}]) > 0
		}) {
			tf.FlakyRuns++
		}
	}
	for fk, fs := range fails {
		ps := passes[fk]
		if len(ps) == 0 {
			continue
		}
		tf.Flips++
		if tf.FirstSeen.IsZero() || fs[0].At.Before(tf.FirstSeen) {
			tf.FirstSeen = fs[0].At
		}
		if last := fs[len(fs)-1].At; last.After(tf.LastSeen) {
			tf.LastSeen = last
		}
		tf.Evidence = append(tf.Evidence, evidence(fk, fs[len(fs)-1], ps))
	}
	if tf.Flips == 0 {
		return tf
	}
	tf.Rate = float64(tf.FlakyRuns) / float64(tf.Runs)
	slices.SortFunc(tf.Evidence, func(a, b Evidence) int {
		return cmp.Or(b.FailedAt.Compare(a.FailedAt), cmp.Compare(a.SHA, b.SHA), cmp.Compare(a.Job, b.Job))
	})
	if len(tf.Evidence) > cfg.MaxEvidence {
		tf.Evidence = tf.Evidence[:cfg.MaxEvidence]
	}
	switch {
	case tf.CleanRuns >= cfg.RecoveredAfter:
		tf.Status = Recovered
	case tf.Rate >= cfg.FlakyThreshold-1e-12:
		tf.Status = Quarantined
	default:
		tf.Status = Flaky
	}
	return tf
}

// evidence pairs the failure with the first pass after it, else the newest
// pass (a pass that came first, then a failing re-run).
func evidence(fk flipKey, failed Observation, passes []Observation) Evidence {
	passed := passes[len(passes)-1]
	for _, p := range passes {
		if byTime(p, failed) > 0 {
			passed = p
			break
		}
	}
	return Evidence{SHA: fk.sha, Job: fk.job,
		FailedURL: failed.RunURL, FailedAttempt: failed.Attempt, FailedAt: failed.At,
		PassedURL: passed.RunURL, PassedAttempt: passed.Attempt, PassedAt: passed.At}
}
