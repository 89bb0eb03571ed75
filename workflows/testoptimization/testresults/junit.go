package testresults

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	junit "github.com/joshdk/go-junit"
)

// maxXMLDepth bounds element nesting in a JUnit file. Real reports nest a
// few levels (testsuites > testsuite > testcase > failure); the library
// keeps each element's inner XML, so memory grows with depth times size.
const maxXMLDepth = 24

// ErrNotJUnit is returned for well-formed XML whose root element is neither
// <testsuites> nor <testsuite>.
var ErrNotJUnit = errors.New("not a JUnit report")

// ErrTooDeep is returned for XML nested deeper than the parser accepts.
var ErrTooDeep = errors.New("XML nested too deeply")

// ParseJUnit reads one JUnit XML report. It accepts a <testsuite> root
// (Maven Surefire, Gradle) and a <testsuites> root (pytest, jest-junit,
// gotestsum, Bazel), suites nested in suites (the innermost suite names the
// test), <failure>, <error> and <skipped> children, and time attributes in
// seconds with or without thousands separators ("1,234.5"). The message is
// the element's message attribute, else (or when it is gotestsum's bare
// "Failed") the first line of its body that is not a Go RUN/FAIL marker; the
// file is the testcase's file attribute, else the suite's.
func ParseJUnit(data []byte) ([]Result, error) {
	if err := checkJUnitShape(data); err != nil {
		return nil, err
	}
	suites, err := junit.Ingest(data)
	if err != nil {
		return nil, fmt.Errorf("failed to parse JUnit XML: %w", err)
	}
	var out []Result
	for _, s := range suites {
		out = appendSuite(out, s, "")
	}
	return out, nil
}

func appendSuite(out []Result, s junit.Suite, file string) []Result {
	if f := s.Properties["file"]; f != "" {
		file = f
	}
	for _, t := range s.Tests {
		msg := t.Message
		if (msg == "" || msg == "Failed") && t.Error != nil {
			// gotestsum writes message="Failed" and the test's output as
			// the body: the first line that is not a RUN/FAIL marker says more.
			if body := firstOutputLine(t.Error.Error()); body != "" {
				msg = body
			}
		}
		f := t.Properties["file"]
		if f == "" {
			f = file
		}
		out = append(out, newResult(s.Name, t.Classname, t.Name, outcomeOf(t.Status), clampDuration(t.Duration), msg, f))
	}
	for _, inner := range s.Suites {
		out = appendSuite(out, inner, file)
	}
	return out
}

func outcomeOf(s junit.Status) Outcome {
	switch s {
	case junit.StatusFailed:
		return Failed
	case junit.StatusError:
		return Error
	case junit.StatusSkipped:
		return Skipped
	default:
		return Passed
	}
}

func firstOutputLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if l := strings.TrimSpace(line); l != "" && !isMarker(l) {
			return l
		}
	}
	return ""
}

// clampDuration maps the library's result for NaN, infinite, negative or
// overflowing times to zero.
func clampDuration(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// checkJUnitShape streams the tokens once: the XML must be well formed, no
// deeper than maxXMLDepth, with a testsuites or testsuite root element.
func checkJUnitShape(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	depth, root := 0, ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("failed to read XML: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root != "" {
					return fmt.Errorf("failed to read XML: %w", errors.New("more than one root element"))
				}
				root = el.Name.Local
				if root != "testsuites" && root != "testsuite" {
					return fmt.Errorf("failed to read root <%s>: %w", root, ErrNotJUnit)
				}
			}
			depth++
			if depth > maxXMLDepth {
				return ErrTooDeep
			}
		case xml.EndElement:
			depth--
		}
	}
	if root == "" || depth != 0 {
		return fmt.Errorf("failed to read XML: %w", ErrNotJUnit)
	}
	return nil
}
