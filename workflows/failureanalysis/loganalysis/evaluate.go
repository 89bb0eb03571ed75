package loganalysis

import (
	"bytes"
	mbits "math/bits"
)

// evaluate runs the rules whose keywords occur in the line and records the
// best match as a candidate.
func (a *analyzer) evaluate(text, body []byte, found *kwSet, annotated bool) {
	for i := range a.ruleSeen {
		a.ruleSeen[i] = 0
	}
	best, bestIdx := (*rule)(nil), -1
	for w := range found {
		for bits := found[w]; bits != 0; bits &= bits - 1 {
			a.evalKeyword(w*64+mbits.TrailingZeros64(bits), body, &best, &bestIdx)
		}
	}
	if best == nil && annotated {
		best, bestIdx = ruleGHAError, -1
	}
	if best == nil {
		return
	}
	a.addCandidate(best, bestIdx, text, body)
}

// evalKeyword runs the rules of keyword ki that have not run on this line
// yet, keeping the heaviest match in best.
func (a *analyzer) evalKeyword(ki int, body []byte, best **rule, bestIdx *int) {
	for _, ri := range kwRules[ki] {
		if a.ruleSeen[ri>>6]&(1<<(uint(ri)&63)) != 0 {
			continue
		}
		a.ruleSeen[ri>>6] |= 1 << (uint(ri) & 63)
		r := &rules[ri]
		if r.testMarker && (a.cur < 0 || a.stepTest[a.cur]) {
			continue
		}
		sub, ok := r.match(body)
		if !ok {
			continue
		}
		switch {
		case r.testMarker:
			if a.cur >= 0 {
				a.stepTest[a.cur] = true
			}
			continue
		case r.frame:
			a.noteFrame(body)
			continue
		}
		a.extractTest(r, sub)
		if *best == nil || r.weight > (*best).weight {
			*best, *bestIdx = r, ri
		}
	}
}

// match reports whether the rule matches the body, with submatches when the
// rule has a regexp.
func (r *rule) match(body []byte) ([][]byte, bool) {
	if r.lit != "" && !bytes.Contains(body, []byte(r.lit)) {
		return nil, false
	}
	if r.flush && isIndented(body) {
		return nil, false
	}
	for _, p := range r.skip {
		if bytes.HasPrefix(body, []byte(p)) {
			return nil, false
		}
	}
	var sub [][]byte
	if r.re != nil {
		if r.testGroup > 0 || r.testFmt != nil {
			sub = r.re.FindSubmatch(body)
			if sub == nil {
				return nil, false
			}
		} else if !r.re.Match(body) {
			return nil, false
		}
	}
	if r.not != nil && r.not.Match(body) {
		return nil, false
	}
	return sub, true
}

// extractTest records the failed test named by a matching line.
func (a *analyzer) extractTest(r *rule, sub [][]byte) {
	switch {
	case sub == nil:
	case r.testFmt != nil:
		s := make([]string, len(sub))
		for i := range sub {
			s[i] = string(sub[i])
		}
		a.tests.add(r.testFmt(s))
	case r.testGroup > 0 && r.testGroup < len(sub):
		a.tests.add(string(sub[r.testGroup]))
	}
}
