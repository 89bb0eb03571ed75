package failureanalysis

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/store"
)

// maxExcerptLineBytes bounds one excerpt line (a minified bundle's error is one huge line).
const maxExcerptLineBytes = 400

// sectionKey names a workflow's section: one per workflow and triggering event, so a workflow
// that runs on both push and pull_request reports both runs instead of the last one winning.
func sectionKey(run *github.WorkflowRun) string {
	if id := run.GetWorkflowID(); id != 0 {
		return fmt.Sprintf("workflow:%d:%s", id, run.GetEvent())
	}
	return "workflow:" + run.GetName() + ":" + run.GetEvent()
}

func newFailedSection(run *github.WorkflowRun, attempt int, failures []failure, notAnalyzed int, decision rerunDecision, requested bool) prreport.Section {
	var b strings.Builder
	headline := fmt.Sprintf("%s failed", markdown.Plain(run.GetName()))
	title := run.GetName() + " failed"
	if len(failures) > 0 {
		headline = fmt.Sprintf("%s failed: %s", markdown.Plain(run.GetName()), markdown.Plain(failures[0].result.Summary))
		title += ": " + failures[0].result.Summary
	}
	top := fmt.Sprintf("### ❌ %s — [attempt %d](%s)\n\n", markdown.Plain(run.GetName()), attempt, attemptURL(run, attempt))
	b.WriteString(top)
	if len(failures) == 0 {
		b.WriteString("No failed jobs were found in this attempt (it may have been cancelled or failed to start).\n\n")
	}
	did := fmt.Sprintf("**What the bot did:** %s.\n", markdown.Plain(decision.describe(requested)))
	omitted := 0
	for i, f := range failures {
		// Each failure gets its excerpt while the prreport.Section has room, then only its facts; what
		// does not fit at all is counted, so the prreport.Section (and the check run summary made from
		// it) stays within GitHub's limits however many jobs failed.
		var fb strings.Builder
		if len(failures) > 1 {
			fmt.Fprintf(&fb, "#### Failure %d of %d\n\n", i+1, len(failures))
		}
		head := fb.Len()
		writeFailure(&fb, f, true)
		if b.Len()+fb.Len()+len(did)+200 > prreport.MaxSectionBytes {
			text := fb.String()[:head]
			fb.Reset()
			fb.WriteString(text)
			writeFailure(&fb, f, false)
		}
		if b.Len()+fb.Len()+len(did)+200 > prreport.MaxSectionBytes {
			omitted = len(failures) - i
			break
		}
		b.WriteString(fb.String())
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "_%d more distinct failures did not fit here; see the [run](%s)._\n\n", omitted, attemptURL(run, attempt))
	}
	if notAnalyzed > 0 {
		fmt.Fprintf(&b, "_%d more failed jobs were not analyzed; see the [run](%s)._\n\n", notAnalyzed, attemptURL(run, attempt))
	}
	b.WriteString(did)
	short := top
	if len(failures) > 0 {
		short += fmt.Sprintf("**%s** (%d distinct failure%s; details in the check run.)\n\n", markdown.Plain(failures[0].result.Summary), len(failures), plural(len(failures)))
	}
	return prreport.Section{
		Key: sectionKey(run), Workflow: run.GetName(), RunID: run.GetID(), Attempt: attempt,
		Headline: headline, Title: markdown.OneLine(title), Body: b.String(), Short: short, UpdatedAt: time.Now().UTC(),
	}
}

func writeFailure(b *strings.Builder, f failure, withExcerpt bool) {
	r := f.result
	if r.Summary != "" {
		fmt.Fprintf(b, "**%s**\n\n", markdown.Plain(r.Summary))
	}
	links := make([]string, 0, len(f.jobs))
	for i, j := range f.jobs {
		if i == 10 {
			links = append(links, fmt.Sprintf("and %d more", len(f.jobs)-10))
			break
		}
		links = append(links, fmt.Sprintf("[%s](%s)", markdown.Plain(j.Name), stepURL(j)))
	}
	fmt.Fprintf(b, "- **Job%s:** %s\n", plural(len(f.jobs)), strings.Join(links, ", "))
	if r.FailedStep != "" {
		fmt.Fprintf(b, "- **Failed step:** %s\n", code(r.FailedStep))
	}
	fmt.Fprintf(b, "- **Class:** %s (confidence %.0f%%)%s\n", code(string(r.Classification)), r.Confidence*100, retryNote(r.Retryable))
	if len(r.FailedTests) > 0 {
		tests := make([]string, 0, len(r.FailedTests))
		for i, t := range r.FailedTests {
			if i == 10 {
				tests = append(tests, fmt.Sprintf("and %d more", len(r.FailedTests)-10))
				break
			}
			tests = append(tests, code(t))
		}
		fmt.Fprintf(b, "- **Failed tests:** %s\n", strings.Join(tests, ", "))
	}
	if len(f.knownFlaky) > 0 {
		names := make([]string, 0, len(f.knownFlaky))
		for t := range f.knownFlaky {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			fmt.Fprintf(b, "- **Known flaky:** %s %s\n", code(t), markdown.Plain(f.knownFlaky[t]))
		}
	}
	if len(r.Excerpt) > 0 && withExcerpt {
		first, last := r.Excerpt[0].Line, r.Excerpt[len(r.Excerpt)-1].Line
		note := ""
		if f.truncated {
			note = " of the log's last part; line numbers count from where reading started"
		}
		fmt.Fprintf(b, "\n<details><summary>Log excerpt (lines %d–%d%s)</summary>\n\n", first, last, note)
		var text strings.Builder
		width := len(fmt.Sprint(last))
		for _, l := range r.Excerpt {
			fmt.Fprintf(&text, "%*d | %s\n", width, l.Line, markdown.Truncate(l.Text, maxExcerptLineBytes))
		}
		fence := markdown.Fence(text.String())
		fmt.Fprintf(b, "%stext\n%s%s\n\n[Open the job log](%s)\n</details>\n", fence, text.String(), fence, stepURL(f.jobs[0]))
	} else if len(r.Excerpt) > 0 {
		fmt.Fprintf(b, "- **Log:** [open the job log](%s)\n", stepURL(f.jobs[0]))
	}
	b.WriteString("\n")
}

func newPassedSection(run *github.WorkflowRun, attempt int, failedBefore []store.RunResult) prreport.Section {
	var b strings.Builder
	fmt.Fprintf(&b, "### ✅ %s — passed on [attempt %d](%s)\n\n", markdown.Plain(run.GetName()), attempt, attemptURL(run, attempt))
	if len(failedBefore) > 0 {
		links := make([]string, len(failedBefore))
		for i, p := range failedBefore {
			links[i] = fmt.Sprintf("[attempt %d](%s)", p.Attempt, p.HTMLURL)
		}
		fmt.Fprintf(&b, "**Flaky:** the same commit %s failed in %s and passed in [attempt %d](%s).\n",
			code(markdown.ShortSHA(run.GetHeadSHA())), strings.Join(links, ", "), attempt, attemptURL(run, attempt))
	} else {
		b.WriteString("The earlier failure of this workflow is resolved.\n")
	}
	return prreport.Section{
		Key: sectionKey(run), Workflow: run.GetName(), RunID: run.GetID(), Attempt: attempt, Passed: true,
		Headline: markdown.Plain(run.GetName()) + " passed", Title: markdown.OneLine(run.GetName() + " passed"), Body: b.String(), UpdatedAt: time.Now().UTC(),
	}
}

func stepURL(j jobRef) string {
	if j.StepNumber > 0 {
		return fmt.Sprintf("%s#step:%d:1", j.URL, j.StepNumber)
	}
	return j.URL
}

func retryNote(retryable bool) string {
	if retryable {
		return ", transient"
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// code renders untrusted text as an inline code span of at most 200 bytes.
func code(s string) string {
	return markdown.Code(markdown.Truncate(s, 200))
}
