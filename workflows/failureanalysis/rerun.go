package failureanalysis

import (
	"fmt"
	"slices"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/store"
)

// rerunDecision is whether to re-run a run's failed jobs, and why.
type rerunDecision struct {
	rerun  bool
	reason string
}

func (d rerunDecision) describe(requested bool) string {
	if d.rerun && requested {
		return "re-run of failed jobs requested: " + d.reason
	}
	return "no re-run: " + d.reason
}

// decideRerun applies the re-run policy: only after the whole run completed, only when every
// failure is retryable and of a configured class, within auto_retry.max_attempts counted by the
// run's attempt number, and never when a failure repeats the fingerprint of an earlier attempt
// (a re-run already failed the same way; trying again is noise).
func decideRerun(cfg config.FailureAnalysisConfig, run *github.WorkflowRun, attempt int, failures []failure, previous []store.RunResult) rerunDecision {
	retry := cfg.AutoRetry
	switch {
	case !retry.Enabled || retry.MaxAttempts == 0:
		return rerunDecision{reason: "automatic re-runs are disabled"}
	case run.GetStatus() != "completed":
		return rerunDecision{reason: "the run has not completed"}
	case len(failures) == 0:
		return rerunDecision{reason: "no failed jobs were found"}
	case attempt > retry.MaxAttempts:
		return rerunDecision{reason: fmt.Sprintf("the re-run budget (%d) is used up", retry.MaxAttempts)}
	case attempt != run.GetRunAttempt():
		return rerunDecision{reason: "a newer attempt exists"}
	}
	for _, f := range failures {
		class := string(f.result.Classification)
		// A failure of known flaky tests is re-run whatever its class (test optimization).
		if !f.result.Retryable || !slices.Contains(retry.Classes, class) && f.knownFlaky == nil {
			return rerunDecision{reason: fmt.Sprintf("a %s failure is not something a re-run fixes", class)}
		}
		for _, p := range previous {
			if p.Attempt < attempt && slices.Contains(p.Fingerprints, f.fingerprint) {
				return rerunDecision{reason: fmt.Sprintf("the same failure happened in attempt %d", p.Attempt)}
			}
		}
	}
	return rerunDecision{rerun: true, reason: "every failure is transient (" + classesOf(failures) + ")"}
}

func classesOf(failures []failure) string {
	var classes []string
	for _, f := range failures {
		if c := string(f.result.Classification); !slices.Contains(classes, c) {
			classes = append(classes, c)
		}
	}
	out := ""
	for i, c := range classes {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}
