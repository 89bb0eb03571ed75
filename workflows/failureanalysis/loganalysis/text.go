package loganalysis

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the result for a terminal: a verdict line, the summary,
// the failed step and tests, the excerpt with line numbers (gaps shown as
// "..."), and the evidence.
func WriteText(w io.Writer, r Result) error {
	bw := bufio.NewWriter(w)
	retry := "not retryable"
	if r.Retryable {
		retry = "retryable"
	}
	fmt.Fprintf(bw, "FAILURE %s (confidence %.2f, %s)\n", r.Classification, r.Confidence, retry)
	if r.Summary != "" {
		fmt.Fprintf(bw, "%s\n", r.Summary)
	}
	if r.FailedStep != "" {
		fmt.Fprintf(bw, "Step:  %s\n", r.FailedStep)
	}
	if len(r.FailedTests) > 0 {
		fmt.Fprintf(bw, "Tests: %s\n", strings.Join(r.FailedTests, ", "))
	}
	if len(r.Excerpt) > 0 {
		width := len(fmt.Sprint(r.Excerpt[len(r.Excerpt)-1].Line))
		fmt.Fprintln(bw, "Excerpt:")
		prev := 0
		for _, l := range r.Excerpt {
			if prev != 0 && l.Line > prev+1 {
				fmt.Fprintf(bw, "  %*s | ...\n", width, "")
			}
			fmt.Fprintf(bw, "  %*d | %s\n", width, l.Line, l.Text)
			prev = l.Line
		}
	}
	if len(r.Evidence) > 0 {
		fmt.Fprintln(bw, "Evidence:")
		for _, e := range r.Evidence {
			fmt.Fprintf(bw, "  - %s\n", e)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("failed to write analysis result: %w", err)
	}
	return nil
}
