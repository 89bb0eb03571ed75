package workflowaudit

import (
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"
)

// untrustedRefRe matches a checkout ref (or repository) naming the code of a pull request
// or of the run that triggered workflow_run rather than the base repository's.
var untrustedRefRe = regexp.MustCompile(`(?i)github\.event\.pull_request\.head\.(sha|ref)|github\.head_ref|github\.event\.pull_request\.merge_commit_sha|github\.event\.workflow_run\.head_(sha|branch)|github\.event\.workflow_run\.head_repository|github\.event\.pull_request\.head\.repo\.full_name|refs/pull/`)

// fetchPRRe matches a script that fetches a pull request's code by hand.
var fetchPRRe = regexp.MustCompile(`\bgh\s+pr\s+checkout\b|\bgit\s+fetch\b.*\bpull/`)

func isCheckout(ex *actionlint.ExecAction) bool {
	return ex != nil && ex.Uses != nil && strings.HasPrefix(strings.ToLower(ex.Uses.Value), "actions/checkout@")
}

// runsCode reports whether a step executes code from the workspace: a script or a local action.
func runsCode(st *actionlint.Step) bool {
	switch ex := st.Exec.(type) {
	case *actionlint.ExecRun:
		return ex.Run != nil
	case *actionlint.ExecAction:
		return ex.Uses != nil && strings.HasPrefix(ex.Uses.Value, "./")
	}
	return false
}

// untrustedCheckout returns the position of what makes the step check out untrusted code,
// or nil when it checks out the base repository.
func untrustedCheckout(st *actionlint.Step) *actionlint.Pos {
	switch ex := st.Exec.(type) {
	case *actionlint.ExecAction:
		if !isCheckout(ex) {
			return nil
		}
		for _, key := range []string{"ref", "repository"} {
			if in := ex.Inputs[key]; in != nil && in.Value != nil && untrustedRefRe.MatchString(in.Value.Value) {
				return in.Value.Pos
			}
		}
	case *actionlint.ExecRun:
		if ex.Run != nil && fetchPRRe.MatchString(ex.Run.Value) {
			return ex.Run.Pos
		}
	}
	return nil
}

func (a *auditor) privileged() bool { return a.hasTrigger("pull_request_target", "workflow_run") }

// checkCheckout reports untrusted-checkout and persist-credentials in privileged workflows.
func (a *auditor) checkCheckout() {
	if !a.privileged() {
		return
	}
	for _, job := range a.jobs() {
		for i, st := range job.Steps {
			later := laterCodeStep(job.Steps[i+1:])
			if pos := untrustedCheckout(st); pos != nil && later != nil {
				a.addAt(RuleUntrustedCheckout, "", pos,
					"this privileged workflow checks out the pull request's code here and runs it at line %d", later.Pos.Line)
			}
			ex, ok := st.Exec.(*actionlint.ExecAction)
			if !ok || !isCheckout(ex) || later == nil {
				continue
			}
			if pc := ex.Inputs["persist-credentials"]; pc != nil && pc.Value != nil && strings.EqualFold(strings.TrimSpace(pc.Value.Value), "false") {
				continue
			}
			sev := SeverityMedium
			if untrustedCheckout(st) != nil {
				sev = SeverityHigh
			}
			a.addAt(RulePersistCredentials, sev, ex.Uses.Pos,
				"actions/checkout leaves the write token in .git/config and the step at line %d runs code; set persist-credentials: false", later.Pos.Line)
		}
	}
}

func laterCodeStep(steps []*actionlint.Step) *actionlint.Step {
	for _, st := range steps {
		if runsCode(st) && st.Pos != nil {
			return st
		}
	}
	return nil
}
