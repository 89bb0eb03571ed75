// Package loganalysis finds the root cause of a failed CI job in its log.
//
// Analyze reads a raw GitHub Actions job log (or any plain CI log) in one
// streaming pass and returns a classification, the failed step and tests, a
// short excerpt of the decisive lines with their line numbers, and the
// evidence behind the verdict. Memory use is bounded by a fixed ring buffer of
// recent lines and a bounded set of candidate windows, not by the log size.
//
// Lines are matched by rules. Every rule has lower-case keywords that are
// located for all rules at once by an Aho-Corasick automaton; regular
// expressions only run on the few lines that contain a keyword. Specific
// causes (a failed test, a compiler error) outweigh generic trailers such as
// "##[error]Process completed with exit code 1.".
//
// Retryability: network errors, rate limits, infrastructure failures and
// timeouts that are not a hanging test are retryable. A full disk is
// classified as resource exhaustion and is not retryable: the same job on the
// same runner image fills the disk again.
package loganalysis

import (
	"io"
	"strings"
)

// Class is the kind of failure found in a log.
type Class string

// Failure classes.
const (
	ClassTestFailure        Class = "test_failure"
	ClassBuildError         Class = "build_error"
	ClassLintError          Class = "lint_error"
	ClassDependencyError    Class = "dependency_error"
	ClassTimeout            Class = "timeout"
	ClassResourceExhaustion Class = "resource_exhaustion"
	ClassNetworkError       Class = "network_error"
	ClassRateLimit          Class = "rate_limit"
	ClassAuthError          Class = "auth_error"
	ClassInfrastructure     Class = "infrastructure"
	ClassConfigError        Class = "config_error"
	ClassCancelled          Class = "cancelled"
	ClassUnknown            Class = "unknown"
)

// DefaultMaxExcerptLines is the excerpt cap used when Options.MaxExcerptLines is 0.
const DefaultMaxExcerptLines = 50

// Options tunes Analyze.
type Options struct {
	Steps           []Step // the job's steps when known (from the GitHub jobs API), may be nil
	MaxExcerptLines int    // default DefaultMaxExcerptLines if 0
	// Baseline holds the lines of the last passing run of the same job;
	// candidate lines that also occur there are dropped. May be nil.
	Baseline *Baseline
}

// Step is one step of a job as reported by the GitHub jobs API.
type Step struct {
	Number     int
	Name       string
	Conclusion string // "failure", "success", "skipped", ...
}

// Line is one excerpt line; Line is its 1-based line number in the input.
type Line struct {
	Line int    `json:"line"`
	Text string `json:"text"`
}

// Location is a source location named by the log, for check-run annotations.
type Location struct {
	Path    string
	Line    int
	Column  int
	Message string
	LogLine int
}

// Result is the verdict on one log.
type Result struct {
	Classification Class      `json:"classification"`
	Confidence     float64    `json:"confidence"`
	Summary        string     `json:"summary"`
	FailedStep     string     `json:"failed_step"`
	FailedTests    []string   `json:"failed_tests"`
	Excerpt        []Line     `json:"excerpt"`
	Retryable      bool       `json:"retryable"`
	Evidence       []string   `json:"evidence"`
	Locations      []Location `json:"-"`
}

// Analyze reads a CI log from r and explains why the job failed. It returns
// an error only when reading fails; empty, binary or unrecognised input gives
// a ClassUnknown result.
func Analyze(r io.Reader, opts Options) (Result, error) {
	a := newAnalyzer(opts)
	if err := a.run(r); err != nil {
		return emptyResult(), err
	}
	return a.result(), nil
}

// AnalyzeText analyzes a log held in memory, such as check-run output text.
func AnalyzeText(s string, opts Options) Result {
	res, err := Analyze(strings.NewReader(s), opts)
	if err != nil {
		// strings.Reader never fails; keep the contract of always answering.
		return emptyResult()
	}
	return res
}

// emptyResult is an unknown verdict with non-nil slices.
func emptyResult() Result {
	return Result{
		Classification: ClassUnknown,
		FailedTests:    []string{},
		Excerpt:        []Line{},
		Evidence:       []string{},
	}
}

// retryableClass reports whether failures of class c are worth retrying
// (timeouts additionally depend on whether a test was hanging).
func retryableClass(c Class) bool {
	switch c {
	case ClassNetworkError, ClassRateLimit, ClassInfrastructure, ClassTimeout:
		return true
	default:
		return false
	}
}
