// Package redact replaces secret-shaped substrings (tokens, keys, passwords)
// in untrusted text such as CI logs before that text is stored, logged or
// posted anywhere.
//
// The rules are gitleaks' default rule set (github.com/zricethezav/gitleaks/v8),
// loosened for log text, and this package's own rules for what gitleaks does
// not cover (see ownRules). Base64 runs are decoded and masked when they hold
// a secret or a user:password pair. Lines also masks private key blocks that
// span lines, including the body of a block whose BEGIN line is not there.
//
// Every rule has literal keywords; a rule's regular expression only runs when
// one of its keywords occurs in the text (one pass over the text finds them
// all), so text without anything secret-like is returned unchanged without
// any allocation.
package redact

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/zricethezav/gitleaks/v8/config"
)

// Mask is the replacement written in place of a secret value.
const Mask = "[REDACTED]"

// URLPasswordMask replaces the password part of credentials embedded in a
// URL, so that "https://user:pass@host" becomes "https://user:***@host".
const URLPasswordMask = "***"

// rule is one kind of secret: lower-case keywords (one of which must occur in
// the text, ignoring ASCII case) and the regexp whose group (or whole match)
// is the secret.
type rule struct {
	name     string
	triggers []string
	// re is the regexp; or compile returns it, compiling it on its first call (gitleaks' rules).
	re      *regexp.Regexp
	compile func() *regexp.Regexp
	// group is the submatch that is the secret; 0 is the whole match.
	group int
	// firstGroup takes the first non-empty submatch when group is 0, as gitleaks does.
	firstGroup bool
	// entropy, when set, skips secrets with at most this Shannon entropy (gitleaks' rule).
	entropy float64
	// allow are gitleaks' allowlists of the rule; gitleaks marks a gitleaks rule.
	allow    []*config.Allowlist
	gitleaks bool
	// repl replaces the secret; empty means Mask.
	repl string
	// keep, when set, spares a secret that it reports as no secret.
	keep func(secret string) bool
	// anchored rules have a regexp starting with ^ that is tried only where a trigger occurs:
	// an unanchored case-insensitive alternation would be tried at every byte.
	anchored bool
}

// ruleSet is every rule and the keyword index over them.
type ruleSet struct {
	rules  []rule
	global []*config.Allowlist
	index  keywordIndex
}

var loadRules = sync.OnceValue(func() *ruleSet {
	gl, global, err := loadGitleaksRules()
	if err != nil {
		// The rules are embedded in the binary: this is a build defect, caught by the tests.
		panic(fmt.Sprintf("redact: %v", err))
	}
	for i := range gl {
		gl[i].gitleaks = true
	}
	rs := &ruleSet{rules: append(append([]rule{}, ownRules...), gl...), global: global}
	rs.index = newKeywordIndex(rs.rules)
	return rs
})

// span is a part of the text to replace.
type span struct {
	start, end int
	repl       string
}

// String returns s with every secret-shaped substring replaced by Mask (or,
// for a password inside a URL, by URLPasswordMask). Text with several lines is
// redacted as Lines does, and so is one line that is key material or the END
// line of a private key block. Text with nothing that looks like a secret is
// returned unchanged.
func String(s string) string {
	if strings.IndexByte(s, '\n') >= 0 || strings.Contains(s, "-----END") || isBody64(s) {
		// A whole private key block in the text first, then line by line (a lone END line or
		// line of key material is masked as in Lines).
		s = ownRules[0].re.ReplaceAllLiteralString(s, pemRepl)
		return strings.Join(Lines(strings.Split(s, "\n")), "\n")
	}
	return line(s)
}

// Strings redacts each element of ss in place, like String.
func Strings(ss []string) {
	for i, s := range ss {
		ss[i] = String(s)
	}
}

// line redacts one line.
func line(s string) string {
	spans := loadRules().find(s, nil, true)
	if len(spans) == 0 {
		return s
	}
	return apply(s, spans)
}

// find appends the secrets in s to spans. With decode set, base64 runs are decoded and
// searched too.
func (rs *ruleSet) find(s string, spans []span, decode bool) []span {
	hit := rs.index.scan(s)
	for i := range rs.rules {
		if !hit.has(i) {
			continue
		}
		spans = rs.rules[i].find(s, spans, rs.global)
	}
	if decode {
		spans = rs.findEncoded(s, spans)
	}
	return spans
}

// pattern returns r's regexp.
func (r *rule) pattern() *regexp.Regexp {
	if r.re != nil {
		return r.re
	}
	return r.compile()
}

// matches returns the submatch indices of r's matches in s.
func (r *rule) matches(s string) [][]int {
	if !r.anchored {
		return r.pattern().FindAllStringSubmatchIndex(s, -1)
	}
	var out [][]int
	end := 0
	for i := 0; i < len(s); i++ {
		if i < end || !r.triggerAt(s, i) {
			continue
		}
		m := r.pattern().FindStringSubmatchIndex(s[i:])
		if m == nil {
			continue
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += i
			}
		}
		out = append(out, m)
		end = m[1]
	}
	return out
}

// triggerAt reports whether one of r's triggers starts at s[i].
func (r *rule) triggerAt(s string, i int) bool {
	for _, t := range r.triggers {
		if i+len(t) <= len(s) && lowerASCII(s[i]) == t[0] && equalFoldASCII(s[i:i+len(t)], t) {
			return true
		}
	}
	return false
}

// find appends the secrets of rule r in s to spans.
func (r *rule) find(s string, spans []span, global []*config.Allowlist) []span {
	for _, m := range r.matches(s) {
		a, b := m[0], m[1]
		switch {
		case r.group > 0 && 2*r.group+1 < len(m):
			a, b = m[2*r.group], m[2*r.group+1]
		case r.group == 0 && r.firstGroup:
			for g := 1; 2*g+1 < len(m); g++ {
				if m[2*g] >= 0 && m[2*g+1] > m[2*g] {
					a, b = m[2*g], m[2*g+1]
					break
				}
			}
		}
		if a < 0 || b <= a {
			continue
		}
		secret := s[a:b]
		if r.entropy > 0 && shannon(secret) <= r.entropy {
			continue
		}
		if r.keep != nil && r.keep(secret) {
			continue
		}
		if r.gitleaks && (allowedByGitleaks(global, secret, s[m[0]:m[1]], s) || allowedByGitleaks(r.allow, secret, s[m[0]:m[1]], s)) {
			continue
		}
		repl := r.repl
		if repl == "" {
			repl = Mask
		}
		spans = append(spans, span{start: a, end: b, repl: repl})
	}
	return spans
}

// apply replaces the spans of s; overlapping spans are merged, the earliest one's
// replacement standing for the union.
func apply(s string, spans []span) string {
	sort.SliceStable(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].end > spans[j].end
	})
	var b strings.Builder
	b.Grow(len(s))
	pos := 0
	for i := 0; i < len(spans); {
		cur := spans[i]
		i++
		for i < len(spans) && spans[i].start < cur.end {
			if spans[i].end > cur.end {
				cur.end = spans[i].end
				cur.repl = Mask
			}
			i++
		}
		b.WriteString(s[pos:cur.start])
		b.WriteString(cur.repl)
		pos = cur.end
	}
	b.WriteString(s[pos:])
	return b.String()
}
