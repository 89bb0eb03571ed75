package loganalysis

import (
	"bytes"
	"strings"
)

// maxTests caps the failed tests reported.
const maxTests = 50

// testList collects failed test names in order of appearance, without
// duplicates, up to maxTests.
type testList struct {
	names []string
	seen  map[string]struct{}
}

func (t *testList) add(name string) {
	name = strings.TrimSpace(name)
	if name == "" || len(t.names) >= maxTests {
		return
	}
	if t.seen == nil {
		t.seen = make(map[string]struct{}, 8)
	}
	if _, ok := t.seen[name]; ok {
		return
	}
	t.seen[name] = struct{}{}
	t.names = append(t.names, name)
}

// final returns the names without entries that are only a less precise
// form of another one: a Go parent test whose subtest failed ("TestA" when
// "TestA/sub" is listed) and a short JUnit name ("CalcTest.add") when the
// qualified one ("com.x.CalcTest.add") is listed.
func (t *testList) final() []string {
	out := make([]string, 0, len(t.names))
	for _, n := range t.names {
		redundant := false
		for _, o := range t.names {
			if o != n && (strings.HasPrefix(o, n+"/") || strings.HasSuffix(o, "."+n)) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, n)
		}
	}
	return out
}

// addCandidate records a matched line with its before-context, keeping at
// most perRuleFirst early windows plus the latest one per rule and at most
// maxCandidates windows overall.
func (a *analyzer) addCandidate(r *rule, ri int, text, body []byte) {
	// A line already inside the after-context of a window of the same rule
	// (consecutive compiler errors, "E" lines) extends that window.
	for _, p := range a.pending {
		if p.r == r && p.lastAfter == a.lineNo {
			return
		}
	}
	latest := false
	if ri >= 0 {
		a.ruleCount[ri]++
		if a.ruleCount[ri] > perRuleFirst {
			for i, c := range a.cands {
				if c.r == r && c.latest {
					a.removeCandidate(i)
					break
				}
			}
			latest = true
		}
	}
	c := &candidate{
		r:         r,
		ruleIdx:   ri,
		line:      a.lineNo,
		text:      string(text),
		body:      string(body),
		class:     r.class,
		weight:    r.weight,
		label:     r.label,
		step:      a.cur,
		stepName:  a.stepName(a.cur),
		latest:    latest,
		afterLeft: r.after,
	}
	if r.classify != nil {
		r.classify(c, body)
	}
	if a.baseline.Has(c.body) {
		a.baselineDropped++
		return
	}
	a.inContext(c)
	if r.class == ClassTimeout {
		c.testy = r.hang || (a.cur >= 0 && a.stepTest[a.cur]) || testStepName(c.stepName)
	}
	if len(a.cands) >= maxCandidates {
		worst := 0
		for i, o := range a.cands {
			if o.weight < a.cands[worst].weight || (o.weight == a.cands[worst].weight && o.line > a.cands[worst].line) {
				worst = i
			}
		}
		if a.cands[worst].weight >= c.weight {
			return
		}
		a.removeCandidate(worst)
	}
	c.before = a.beforeContext(r)
	a.cands = append(a.cands, c)
	if c.afterLeft > 0 {
		a.pending = append(a.pending, c)
	}
}

// removeCandidate drops candidate i (and stops collecting its context).
func (a *analyzer) removeCandidate(i int) {
	c := a.cands[i]
	a.cands = append(a.cands[:i], a.cands[i+1:]...)
	for j, p := range a.pending {
		if p == c {
			a.pending = append(a.pending[:j], a.pending[j+1:]...)
			break
		}
	}
}

// beforeContext copies up to r.before preceding lines of the current step
// from the ring buffer, oldest first.
func (a *analyzer) beforeContext(r *rule) []Line {
	if r.before == 0 || a.ringLen == 0 {
		return nil
	}
	var picked []int
	for k := 1; k <= a.ringLen && len(picked) < r.before; k++ {
		idx := (a.ringNext - k + ringSize) % ringSize
		l := &a.ring[idx]
		if l.step != a.cur || isMarker(l.text) {
			break
		}
		if isBlank(l.text) {
			if r.beforeMode == beforeIndented {
				break
			}
			continue
		}
		if r.beforeMode == beforeIndented && !isIndented(l.text) && !bytes.HasPrefix(l.text, []byte("=== ")) {
			break
		}
		picked = append(picked, idx)
	}
	out := make([]Line, len(picked))
	for i, idx := range picked {
		l := &a.ring[idx]
		out[len(picked)-1-i] = Line{Line: l.n, Text: string(l.text)}
	}
	return out
}

// containsAny reports whether b contains any of the substrings.
func containsAny(b []byte, subs ...string) bool {
	for _, s := range subs {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}
