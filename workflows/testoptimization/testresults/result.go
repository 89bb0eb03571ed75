// Package testresults turns CI test reports (JUnit XML in its common
// dialects, `go test -json` event streams, and zip archives of either) into
// one flat record per test execution.
package testresults

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
)

// Outcome is the result of one test execution.
type Outcome string

// The outcomes a Result can have.
const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
	Error   Outcome = "error"
)

// IsFailure reports whether the outcome counts as a failed execution
// (a failure or an error).
func (o Outcome) IsFailure() bool { return o == Failed || o == Error }

// maxMessage bounds Result.Message in bytes.
const maxMessage = 500

// Result is one test execution read from a report.
type Result struct {
	// Suite is the enclosing suite: the JUnit <testsuite> name (the
	// innermost one for nested suites) or the Go package.
	Suite string `json:"suite"`
	// Class is the JUnit classname (Surefire/Gradle class, pytest module
	// path, jest describe block) or the Go package.
	Class string `json:"class"`
	// Name is the test name; Go subtests keep their full path (TestA/sub).
	Name string `json:"name"`
	// ID is the stable test id; see TestID.
	ID string `json:"id"`
	// Outcome is passed, failed, skipped or error.
	Outcome Outcome `json:"outcome"`
	// Duration is the reported time of the test, zero when not given.
	Duration time.Duration `json:"duration"`
	// Message is the first non-blank line of the failure, error or skip
	// message (or of the test's output for Go), at most 500 bytes.
	Message string `json:"message,omitempty"`
	// File is the test's source file when the report gives one.
	File string `json:"file,omitempty"`
}

// TestID returns the stable identity of a test, the same across runs,
// attempts and report formats:
//
//   - each of suite, class and name is normalised: leading and trailing
//     white space removed, every inner run of white space (tabs, newlines)
//     made one space; case is kept (test names are case sensitive);
//   - class is left out when it equals suite (Go packages, Gradle/Surefire
//     suites named after their class) and so is an empty part;
//   - the parts left are joined with " :: ".
//
// So a Go test reads "example.com/pkg :: TestA/sub" whether it came from
// `go test -json` or from gotestsum's JUnit file, and a Surefire test
// "com.example.FooTest :: testBar".
func TestID(suite, class, name string) string {
	s, c, n := normalise(suite), normalise(class), normalise(name)
	parts := make([]string, 0, 3)
	if s != "" {
		parts = append(parts, s)
	}
	if c != "" && c != s {
		parts = append(parts, c)
	}
	if n != "" {
		parts = append(parts, n)
	}
	return strings.Join(parts, " :: ")
}

// Fingerprint returns a short fixed-length digest of a test id (the first
// 16 hex digits of its SHA-256), fit for deduplication keys and labels.
func Fingerprint(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:8])
}

func normalise(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// firstLine returns the first non-blank line of s, trimmed and bounded.
func firstLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line != "" {
			return truncate(line, maxMessage)
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func newResult(suite, class, name string, outcome Outcome, d time.Duration, msg, file string) Result {
	return Result{
		Suite: strings.TrimSpace(suite), Class: strings.TrimSpace(class), Name: strings.TrimSpace(name),
		ID: TestID(suite, class, name), Outcome: outcome, Duration: d,
		Message: firstLine(msg), File: strings.TrimSpace(file),
	}
}
