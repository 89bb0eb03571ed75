// Package workflowaudit audits one GitHub Actions workflow file for security problems
// (template injection, privileged checkouts of untrusted code, unpinned actions, broad
// token permissions, secret handling, unsafe runner and shell practices) and reports each
// finding at its file, line and column. It is pure: no network, no clock, no state.
//
// It builds on github.com/rhysd/actionlint: its parser gives the workflow AST with
// positions and its UntrustedInputChecker walks ${{ }} expressions for attacker-controlled
// context properties.
package workflowaudit

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"
)

// MaxFileSize is the largest workflow file the auditor accepts; GitHub's own limit is far below.
const MaxFileSize = 1 << 20

// ErrInvalidWorkflow marks input that is not a parseable workflow file.
var ErrInvalidWorkflow = errors.New("invalid workflow file")

// Options is the per-repository configuration of the auditor.
type Options struct {
	// Disabled lists rule ids that are not reported.
	Disabled []string
	// PinFirstParty also requires actions/* and github/* actions to be pinned to a SHA.
	PinFirstParty bool
	// PublicRepo raises self-hosted-runner findings to high: anyone can run code on them.
	PublicRepo bool
}

// Finding is one problem at one place of one file.
type Finding struct {
	RuleID      string   `json:"rule_id"`
	Severity    Severity `json:"severity"`
	File        string   `json:"file"`
	Line        int      `json:"line"`
	Column      int      `json:"column"`
	Message     string   `json:"message"`
	Explanation string   `json:"explanation"`
	Link        string   `json:"link"`
}

// Audit parses src (the bytes of the workflow file at path) and returns its findings,
// sorted by line, column and rule, with suppressed and disabled rules removed.
// It returns an error wrapping ErrInvalidWorkflow when src is not a workflow file.
func Audit(path string, src []byte, opts Options) ([]Finding, error) {
	a, err := newAuditor(path, src, opts)
	if err != nil {
		return nil, err
	}
	a.checkInjection()
	a.checkCheckout()
	a.checkActions()
	a.checkPermissions()
	a.checkSecrets()
	a.checkMisc()
	return a.result(), nil
}

type auditor struct {
	path     string
	src      *source
	wf       *actionlint.Workflow
	opts     Options
	findings []Finding
}

func newAuditor(path string, src []byte, opts Options) (*auditor, error) {
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("failed to parse workflow %s: %d bytes exceeds %d: %w", path, len(src), MaxFileSize, ErrInvalidWorkflow)
	}
	wf, errs := parseWorkflow(src)
	if wf == nil {
		msg := "empty document"
		if len(errs) > 0 {
			msg = fmt.Sprintf("line %d: %s", errs[0].Line, errs[0].Message)
		}
		return nil, fmt.Errorf("failed to parse workflow %s: %s: %w", path, msg, ErrInvalidWorkflow)
	}
	return &auditor{path: path, src: newSource(src), wf: wf, opts: opts}, nil
}

// parseWorkflow runs actionlint's parser, turning a panic on hostile input into an error.
func parseWorkflow(src []byte) (wf *actionlint.Workflow, errs []*actionlint.Error) {
	defer func() {
		if r := recover(); r != nil {
			wf, errs = nil, []*actionlint.Error{{Message: fmt.Sprint("parser panic: ", r)}}
		}
	}()
	wf, errs = actionlint.Parse(src)
	if wf != nil && wf.Jobs == nil && len(wf.On) == 0 {
		return nil, errs
	}
	return wf, errs
}

func (a *auditor) add(rule string, sev Severity, line, col int, format string, args ...any) {
	info := Rules[rule]
	if sev == "" {
		sev = info.Severity
	}
	if line < 1 {
		line = 1
	}
	if col < 1 {
		col = 1
	}
	a.findings = append(a.findings, Finding{
		RuleID: rule, Severity: sev, File: a.path, Line: line, Column: col,
		Message: fmt.Sprintf(format, args...), Explanation: info.Explanation, Link: info.Link,
	})
}

func (a *auditor) addAt(rule string, sev Severity, pos *actionlint.Pos, format string, args ...any) {
	line, col := 1, 1
	if pos != nil {
		line, col = pos.Line, pos.Col
	}
	a.add(rule, sev, line, col, format, args...)
}

var ignoreRe = regexp.MustCompile(`#\s*autonomous-ci:\s*ignore\[([^\]]*)\]`)

// suppressed reports whether line or the line above carries an ignore comment naming rule.
func (a *auditor) suppressed(rule string, line int) bool {
	for _, l := range []int{line, line - 1} {
		for _, m := range ignoreRe.FindAllStringSubmatch(a.src.line(l), -1) {
			for _, id := range strings.Split(m[1], ",") {
				if strings.TrimSpace(id) == rule {
					return true
				}
			}
		}
	}
	return false
}

func (a *auditor) result() []Finding {
	disabled := map[string]bool{}
	for _, id := range a.opts.Disabled {
		disabled[strings.TrimSpace(id)] = true
	}
	seen := map[string]bool{}
	out := make([]Finding, 0, len(a.findings))
	for _, f := range a.findings {
		key := fmt.Sprintf("%s:%d:%d", f.RuleID, f.Line, f.Column)
		if disabled[f.RuleID] || seen[key] || a.suppressed(f.RuleID, f.Line) {
			continue
		}
		seen[key] = true
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		if out[i].Column != out[j].Column {
			return out[i].Column < out[j].Column
		}
		return out[i].RuleID < out[j].RuleID
	})
	return out
}

// jobs returns the workflow's jobs in source order.
func (a *auditor) jobs() []*actionlint.Job {
	js := make([]*actionlint.Job, 0, len(a.wf.Jobs))
	for _, j := range a.wf.Jobs {
		if j != nil {
			js = append(js, j)
		}
	}
	sort.Slice(js, func(i, k int) bool { return js[i].Pos.IsBefore(js[k].Pos) })
	return js
}

// hasTrigger reports whether the workflow runs on one of the named events.
func (a *auditor) hasTrigger(names ...string) bool {
	for _, e := range a.wf.On {
		for _, n := range names {
			if e != nil && strings.EqualFold(e.EventName(), n) {
				return true
			}
		}
	}
	return false
}
