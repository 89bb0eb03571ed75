package loganalysis

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/contexten/autonomous/workflows/failureanalysis/redact"
)

const (
	softExcerptLines = 20 // extra windows are only added up to this many lines
	maxExtras        = 4  // extra windows besides the decisive one
	maxEvidence      = 8
	specificWeight   = 40 // candidates at least this heavy are specific causes
	failStepBonus    = 15
	postPenalty      = 60 // post-job steps and cancelled sibling jobs
	succeededPenalty = 20 // steps that reported no error
	maxSummaryDetail = 160
)

// scored is a candidate with its final score.
type scored struct {
	c     *candidate
	score float64
}

// result chooses the decisive candidate and builds the Result.
func (a *analyzer) result() Result {
	res := emptyResult()
	if a.binary {
		res.Summary = "Input looks binary; no log lines to analyze."
		res.Evidence = append(res.Evidence, "binary-input: NUL bytes in the first lines")
		return res
	}
	failStep := a.decisiveStep()
	res.FailedTests = a.tests.final()
	if a.baselineDropped > 0 {
		res.Evidence = append(res.Evidence, fmt.Sprintf("baseline: %d candidate lines also in the last passing run were ignored", a.baselineDropped))
	}
	ranked := a.rank(failStep)
	if len(ranked) == 0 {
		res.FailedStep = a.failedStepName(-1, failStep)
		res.Excerpt = a.fallbackExcerpt(failStep)
		switch {
		case len(res.Excerpt) > 0:
			res.Summary = "No recognizable failure in the log: no known error pattern matched; the excerpt shows the last lines of the failing step."
			res.Evidence = append(res.Evidence, "fallback: last lines of the failing step")
			if c := stepClass(res.FailedStep); c != ClassUnknown {
				res.Classification = c
				res.Summary += fmt.Sprintf(" Class %s from the step's command.", c)
			}
		case a.sawContent:
			res.Summary = "No recognizable failure in the log."
		default:
			res.Summary = "The log is empty."
		}
		return res
	}
	primary := ranked[0].c
	res.Classification = primary.class
	res.FailedStep = a.failedStepName(primary.step, failStep)
	res.Retryable = retryableClass(primary.class)
	if primary.class == ClassTimeout && primary.testy {
		res.Retryable = false
	}
	chosen := a.chooseWindows(ranked)
	res.Excerpt = a.excerpt(chosen)
	for i, s := range chosen {
		if i >= maxEvidence {
			break
		}
		res.Evidence = append(res.Evidence, s.c.r.name+": "+redact.String(strings.TrimSpace(s.c.body)))
	}
	res.Confidence = confidence(ranked)
	if len(res.Excerpt) == 0 {
		res.Excerpt = a.fallbackExcerpt(failStep)
	}
	res.Summary = redact.String(summary(primary, res.FailedTests, chosen))
	if primary.class == ClassUnknown {
		if c := stepClass(res.FailedStep); c != ClassUnknown {
			res.Classification = c
			res.Summary += fmt.Sprintf(" (no known error pattern matched; %s from the step's command)", c)
			res.Evidence = append(res.Evidence, "step-command: "+string(c))
		} else {
			res.Summary += " (no known error pattern matched the cause, nor does the step's command name a known tool; class unknown)"
		}
	}
	res.Locations = locations(chosen)
	return res
}

// decisiveStep returns the step that failed the job. A step that failed
// with continue-on-error also reports errors, and so may an always() step
// after the failure. Walking back from the latest error-annotated step, the
// first one with a specific cause wins (a failing JavaScript action after a
// continue-on-error shell step prints no "Process completed" line); action
// steps without one, such as test reporters and artifact uploads run after
// the failure, are passed over, while a shell step that exited non-zero
// stops the walk. Without error steps it is the last step with an error
// annotation.
func (a *analyzer) decisiveStep() int {
	allPost := true
	for _, e := range a.errSteps {
		allPost = allPost && a.isPost(e.step)
	}
	for i := len(a.errSteps) - 1; i >= 0; i-- {
		e := a.errSteps[i]
		if a.isPost(e.step) && !allPost {
			continue
		}
		if e.exited {
			return e.step
		}
		for _, c := range a.cands {
			if c.step == e.step && !c.r.generic && c.weight >= specificWeight && c.class != ClassUnknown {
				return e.step
			}
		}
	}
	if a.failStep >= 0 {
		return a.failStep
	}
	if a.errStep >= 0 {
		return a.errStep
	}
	// No error annotation (a container action, a cut log): the last step before cleanup.
	for i := len(a.steps) - 1; i >= 0; i-- {
		if !a.isPost(i) {
			return i
		}
	}
	return -1
}

// rank scores all candidates and sorts them best first. Candidates in the
// failing step get a bonus; ties go to the earliest line for specific rules
// and to the latest line for generic ones.
func (a *analyzer) rank(failStep int) []scored {
	out := make([]scored, 0, len(a.cands))
	outside, otherJobCause := false, map[int]bool{}
	for _, c := range a.cands {
		outside = outside || !c.post
		if c.weight >= specificWeight && c.class != ClassUnknown && c.class != ClassCancelled {
			otherJobCause[c.job] = true
		}
	}
	for _, c := range a.cands {
		s := c.weight
		switch {
		case failStep >= 0 && c.step == failStep:
			s += failStepBonus
		case c.post && outside:
			s -= postPenalty
		case failStep >= 0 && c.step >= 0 && c.job == a.jobOf(failStep) && !a.reportedError(c.step):
			s -= succeededPenalty
		}
		if c.class == ClassCancelled && len(otherJobCause) > 0 && !otherJobCause[c.job] {
			s -= postPenalty // fail-fast cancellation of a sibling matrix job
		}
		if c.r.generic && c.class == ClassUnknown {
			s = math.Min(s, specificWeight-1)
		}
		out = append(out, scored{c: c, score: s})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		if out[i].c.r.generic && out[j].c.r.generic {
			return out[i].c.line > out[j].c.line
		}
		return out[i].c.line < out[j].c.line
	})
	return out
}

// chooseWindows returns the decisive candidate followed by supporting ones:
// further specific causes of the same class (other failed tests, assertion
// details), or for an unexplained failure the last generic error lines.
func (a *analyzer) chooseWindows(ranked []scored) []scored {
	primary := ranked[0]
	chosen := []scored{primary}
	specific := primary.c.weight >= specificWeight && primary.c.class != ClassUnknown
	for _, s := range ranked[1:] {
		if len(chosen) > maxExtras {
			break
		}
		if specific {
			if s.c.class != primary.c.class || s.c.weight < specificWeight || s.c.r.generic {
				continue
			}
		} else if len(chosen) > 1 {
			break
		}
		chosen = append(chosen, s)
	}
	return chosen
}

// excerpt merges the windows of the chosen candidates within the line
// budget: the decisive window first (trimmed around its line), then the
// supporting windows while they fit the soft budget.
func (a *analyzer) excerpt(chosen []scored) []Line {
	hard := a.opts.MaxExcerptLines
	soft := min(softExcerptLines, hard)
	lines := map[int]string{}
	for i, s := range chosen {
		w := window(s.c)
		budget := hard - len(lines)
		if i > 0 {
			budget = soft - len(lines)
		}
		w = trimWindow(w, s.c.line, budget, lines)
		if w == nil {
			continue
		}
		for _, l := range w {
			lines[l.Line] = l.Text
		}
	}
	out := make([]Line, 0, len(lines))
	for n, t := range lines {
		out = append(out, Line{Line: n, Text: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	texts := make([]string, len(out))
	for i, l := range out {
		texts[i] = strings.ToValidUTF8(l.Text, "\uFFFD")
	}
	texts = redact.Lines(texts)
	for i := range out {
		out[i].Text = texts[i]
	}
	return out
}

// window is the candidate's before-context, line and after-context.
func window(c *candidate) []Line {
	w := make([]Line, 0, len(c.before)+1+len(c.after))
	w = append(w, c.before...)
	w = append(w, Line{Line: c.line, Text: c.text})
	return append(w, c.after...)
}

// trimWindow cuts w so that the lines not already in have fit the budget,
// dropping the farthest before-context first, then the farthest
// after-context. It returns nil when not even the matched line fits.
func trimWindow(w []Line, center, budget int, have map[int]string) []Line {
	count := func(ls []Line) int {
		n := 0
		for _, l := range ls {
			if _, ok := have[l.Line]; !ok {
				n++
			}
		}
		return n
	}
	for count(w) > budget && len(w) > 0 {
		switch {
		case w[0].Line < center:
			w = w[1:]
		case w[len(w)-1].Line > center:
			w = w[:len(w)-1]
		default:
			if count(w) > budget {
				return nil
			}
		}
	}
	return w
}

// failedStepName prefers the failed step reported by the jobs API, then the
// step of the decisive line, then the step that reported the error.
func (a *analyzer) failedStepName(primaryStep, failStep int) string {
	for _, s := range a.opts.Steps {
		if s.Conclusion == "failure" {
			return s.Name
		}
	}
	if n := a.stepName(primaryStep); n != "" {
		return n
	}
	return a.stepName(failStep)
}

// confidence grows with the weight of the decisive rule, with agreement of
// other candidates and with the margin to the best different class.
func confidence(ranked []scored) float64 {
	p := ranked[0]
	if p.c.class == ClassUnknown {
		return 0.2
	}
	conf := 0.3 + 0.6*math.Min(p.score, 100)/100
	agree, rival := false, 0.0
	for _, s := range ranked[1:] {
		if s.c.class == p.c.class && s.c.weight >= specificWeight {
			agree = true
		} else if s.c.class != p.c.class && s.c.class != ClassUnknown && s.score > rival {
			rival = s.score
		}
	}
	if agree {
		conf += 0.05
	}
	if rival > 0 && p.score-rival < 10 {
		conf -= 0.15
	}
	return math.Round(math.Max(0.05, math.Min(conf, 0.99))*100) / 100
}

// summary writes the one sentence a person reads first.
func summary(p *candidate, tests []string, chosen []scored) string {
	detail := strings.TrimSpace(p.body)
	if p.class == ClassTestFailure && p.r.tool != "" && len(tests) > 0 {
		names := tests
		more := ""
		if len(names) > 3 {
			more = fmt.Sprintf(" (+%d more)", len(names)-3)
			names = names[:3]
		}
		noun := "test"
		if len(tests) > 1 {
			noun = "tests"
		}
		d := testDetail(p, chosen)
		s := fmt.Sprintf("%s %s %s%s failed", p.r.tool, noun, strings.Join(names, ", "), more)
		if d != "" {
			s += ": " + clip(d, maxSummaryDetail)
		}
		return s
	}
	if hasLabel(detail, p.label) {
		// The line already names itself ("Error: deploy failed"): say it once.
		return clip(detail, maxSummaryDetail)
	}
	return p.label + ": " + clip(detail, maxSummaryDetail)
}

// hasLabel reports whether detail starts with label and a colon, in any case.
func hasLabel(detail, label string) bool {
	n := len(label)
	return label != "" && len(detail) > n && detail[n] == ':' && strings.EqualFold(detail[:n], label)
}

// detailHint matches lines that usually carry the message of a failed test.
var detailHint = rx(`(?i)\w\.go:\d+: |assert|expected|error|panicked|^E\s|received|but was|got `)

// testDetail finds the most telling message line of a test failure: the
// message after " - " of a pytest summary line, else the first line of the
// chosen windows that looks like an assertion message, else the first
// non-structural line.
func testDetail(p *candidate, chosen []scored) string {
	if i := strings.Index(p.body, " - "); i >= 0 {
		return strings.TrimSpace(p.body[i+3:])
	}
	var fallback string
	for _, s := range chosen {
		var lines []Line
		if s.c != p {
			lines = append(lines, Line{Line: s.c.line, Text: s.c.body})
		}
		lines = append(lines, s.c.after...)
		for i := len(s.c.before) - 1; i >= 0; i-- {
			lines = append(lines, s.c.before[i])
		}
		for _, l := range lines {
			t := strings.TrimSpace(l.Text)
			if t == "" || strings.HasPrefix(t, "---") || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "at ") || strings.HasPrefix(t, "●") {
				continue
			}
			if detailHint.MatchString(t) {
				return t
			}
			if fallback == "" {
				fallback = t
			}
		}
	}
	return fallback
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
