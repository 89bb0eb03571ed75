package loganalysis

import (
	"regexp"
	"strings"
)

// contMode says which lines following a candidate belong to its window.
type contMode uint8

const (
	// contAny keeps the following lines (blank lines are skipped but count).
	contAny contMode = iota
	// contIndented keeps following lines while they are indented.
	contIndented
	// contUntilBlank keeps following lines up to the first blank line.
	contUntilBlank
)

// beforeMode says which preceding lines belong to a candidate's window.
type beforeMode uint8

const (
	// beforeAny (the zero value) keeps the preceding non-blank lines of the same step.
	_ beforeMode = iota
	// beforeIndented keeps preceding lines while they are indented or
	// Go "=== RUN" headers (the streamed output of a Go test).
	beforeIndented
)

// rule recognises one kind of log line. A rule is only evaluated on lines
// containing one of its keywords (found by the keyword automaton); lit and
// re then confirm the match on the line body.
type rule struct {
	name   string
	class  Class
	weight float64
	kw     []string       // lower-case prefilter keywords; a leading '\n' anchors at line start
	lit    string         // optional case-sensitive substring the body must contain
	re     *regexp.Regexp // optional regexp the body must match
	not    *regexp.Regexp // optional regexp the body must not match
	skip   []string       // body prefixes that never match (cheap check before re)
	flush  bool           // the body must not be indented (cheap check before re)

	before     int
	after      int
	beforeMode beforeMode
	contMode   contMode

	generic   bool                            // a terminal/generic line, never preferred over a specific cause
	testGroup int                             // submatch holding a failed test name
	testFmt   func(sub []string) string       // builds the test name from all submatches instead
	afterTest *regexp.Regexp                  // after-context lines naming failed tests (submatch 1)
	upgrade   *upgrade                        // an after-context line that makes the candidate more specific
	classify  func(c *candidate, body []byte) // adjusts class/weight of a new candidate

	hang       bool // a timeout caused by a hanging test
	testMarker bool // only marks that the current step runs tests; never a candidate
	frame      bool // a Python traceback frame or header, noted for context; never a candidate
	pyExc      bool // a Python exception line, classified by its type and the step's context
	// testInTestStep makes a match in a step that runs tests a test failure (a test's own
	// timeout is a failed test, not a timed-out job).
	testInTestStep bool
	tool           string // test tool name for summaries ("Go", "pytest", ...)
	label          string // summary label
}

// upgrade turns a candidate into a more specific one when an after-context
// line matches re (e.g. a Rust "error:" followed by " --> src/x.rs:1:2").
type upgrade struct {
	re     *regexp.Regexp
	class  Class
	weight float64
	label  string
}

var rx = regexp.MustCompile

// rules is the full rule table, in evaluation order.
var rules = concatRules(infraRules, ciRules, dependencyRules, testRules, ecoRules, buildRules, lintRules, genericRules)

// ruleGHAError is the fallback rule for "##[error]" annotations that no
// other rule explains.
var ruleGHAError = &rule{
	name: "gha-error-annotation", class: ClassUnknown, weight: 20, before: 3,
	generic: true, label: "Step reported an error",
}

var (
	keywordList []string
	kwRules     [][]int // keyword index -> rule indexes
	matcher     *kwMatcher
)

// minBefore is the before-context every rule gets at least: the header or
// command a few lines above a cause belongs to its excerpt.
const minBefore = 2

func init() {
	index := map[string]int{}
	for ri := range rules {
		if rules[ri].before < minBefore && !rules[ri].testMarker && !rules[ri].frame {
			rules[ri].before = minBefore
		}
		for _, k := range rules[ri].kw {
			k = strings.ToLower(k)
			ki, ok := index[k]
			if !ok {
				ki = len(keywordList)
				index[k] = ki
				keywordList = append(keywordList, k)
				kwRules = append(kwRules, nil)
			}
			kwRules[ki] = append(kwRules[ki], ri)
		}
	}
	if len(keywordList) > maxKeywords {
		panic("loganalysis: too many rule keywords")
	}
	matcher = newKWMatcher(keywordList)
}

func concatRules(groups ...[]rule) []rule {
	var out []rule
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// kw is shorthand for a keyword list.
func kw(k ...string) []string { return k }

// lintStep reports whether a step name looks like a lint/vet step.
func lintStep(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "lint") || strings.Contains(n, "vet") || strings.Contains(n, "staticcheck")
}

// testStepName reports whether a step name looks like it runs tests.
func testStepName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"test", "pytest", "jest", "vitest", "spec", "check"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
