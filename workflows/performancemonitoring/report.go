package performancemonitoring

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/workflows/performancemonitoring/durationstats"
)

// SectionKey is the performance section's key in the sticky comment.
const SectionKey = "performance_monitoring"

// maxRows bounds the table (regressions first); the output holds every row.
const maxRows = 30

// subject names what was judged, for the headline: "this pull request" or "main's latest runs".
func subject(out Output) string {
	if out.PullRequest > 0 {
		return "this pull request"
	}
	return out.BaselineBranch + "'s latest runs"
}

// headline sums up the verdicts in plain text (no markdown).
func headline(out Output) string {
	s := out.Summary
	switch {
	case s.Regressions > 0:
		worst := 0.0
		for _, r := range out.Rows {
			if r.Verdict.Kind == durationstats.KindRegression {
				worst = math.Max(worst, r.Verdict.ChangePercent)
			}
		}
		return fmt.Sprintf("CI is slower on %s: %d regressions against %s (up to +%.0f%%)", subject(out), s.Regressions, out.BaselineBranch, worst)
	case s.Improvements > 0:
		return fmt.Sprintf("CI is faster on %s: %d improvements against %s", subject(out), s.Improvements, out.BaselineBranch)
	case out.NotEnoughData:
		return fmt.Sprintf("Not enough data to compare CI durations with %s", out.BaselineBranch)
	}
	return fmt.Sprintf("No significant change in CI durations against %s", out.BaselineBranch)
}

// renderReport is the Markdown report: the headline, a table of the notable rows (or the
// reason there is none), the samples left out, and the suggestions. Untrusted names (workflows,
// jobs, steps, branches) go through markdown.
func renderReport(out Output) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### ⏱️ Performance: %s\n\n", markdown.Plain(headline(out)))
	var notable []Row
	for _, r := range out.Rows {
		if r.Verdict.Kind == durationstats.KindRegression {
			notable = append(notable, r)
		}
	}
	for _, r := range out.Rows {
		if r.Verdict.Kind == durationstats.KindImprovement {
			notable = append(notable, r)
		}
	}
	current := "this PR"
	if out.PullRequest == 0 {
		current = "latest"
	}
	if len(notable) > 0 {
		fmt.Fprintf(&b, "| workflow / job | baseline p50 | %s | change | why |\n|---|---|---|---|---|\n", current)
		for i, r := range notable {
			if i == maxRows {
				fmt.Fprintf(&b, "\n_%d more rows are in the execution's output._\n", len(notable)-maxRows)
				break
			}
			name := markdown.Plain(r.Workflow)
			if r.Job != "" {
				name += " / " + markdown.Plain(r.Job)
			}
			icon := "🐢"
			if r.Verdict.Kind == durationstats.KindImprovement {
				icon = "🚀"
			}
			fmt.Fprintf(&b, "| %s %s | %s | %s | %+.0f%% | %s |\n", icon, name, roundDuration(r.Verdict.BaselineP50),
				roundDuration(r.Verdict.PRValue), r.Verdict.ChangePercent, markdown.Plain(r.Verdict.Reason))
		}
		b.WriteString("\n")
		// Queue time is apart from the durations above: say so where it was long.
		for _, r := range notable {
			if r.Job == "" && r.Queue >= durationstats.MinQueueDominating {
				fmt.Fprintf(&b, "<sub>%s also waited %s for a runner (baseline %s), which is not counted in its duration.</sub>\n\n",
					markdown.Plain(r.Workflow), roundDuration(r.Queue), roundDuration(r.BaselineQueue))
			}
		}
	} else if out.NotEnoughData {
		for _, r := range out.Rows {
			if r.Job == "" && r.Verdict.Kind == durationstats.KindNotEnoughData {
				fmt.Fprintf(&b, "- %s: not enough data, no verdict (%s).\n", markdown.Plain(r.Workflow), markdown.Plain(r.Verdict.Reason))
			}
		}
		b.WriteString("\n")
	}
	var dropped durationstats.Dropped
	for _, r := range out.Rows {
		if r.Job == "" {
			dropped = addDropped(addDropped(dropped, r.Dropped), r.BaselineDropped)
		}
	}
	if n := dropped.Total(); n > 0 {
		fmt.Fprintf(&b, "<sub>%d runs left out as not comparable: %d re-run, %d cancelled or skipped, %d queued longer than they ran, %d unfinished, %d without timings.</sub>\n\n",
			n, dropped.Rerun, dropped.Cancelled, dropped.Queued, dropped.Unfinished, dropped.Invalid)
	}
	if len(out.Suggestions) > 0 {
		b.WriteString("**Suggestions**\n\n")
		for _, s := range out.Suggestions {
			fmt.Fprintf(&b, "- %s\n", markdown.Plain(s.Text))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "<sub>Baseline: the last %d successful runs of each workflow on %s; a change is reported when it exceeds %.0f%% and lies outside the baseline's spread, with at least %d baseline runs.</sub>\n",
		out.BaselineRuns, markdown.Code(out.BaselineBranch), out.ThresholdPercent, out.MinSamples)
	return b.String()
}

func addDropped(a, b durationstats.Dropped) durationstats.Dropped {
	return durationstats.Dropped{Rerun: a.Rerun + b.Rerun, Cancelled: a.Cancelled + b.Cancelled, Queued: a.Queued + b.Queued,
		Unfinished: a.Unfinished + b.Unfinished, Invalid: a.Invalid + b.Invalid}
}

// section is the pull request's part of the sticky comment; a regression makes it a finding.
func section(out Output, runID int64) prreport.Section {
	title := headline(out)
	body := renderReport(out)
	if len(body) > prreport.MaxSectionBytes {
		body = markdown.Truncate(body, prreport.MaxSectionBytes-200) + "\n\n_Shortened; the execution's output has every row._\n"
	}
	return prreport.Section{
		Key: SectionKey, Workflow: "performance", RunID: runID, Attempt: 1, Passed: out.Summary.Regressions == 0,
		Headline: markdown.Plain(title), Title: markdown.OneLine(title), Body: body, UpdatedAt: time.Now().UTC(),
	}
}
