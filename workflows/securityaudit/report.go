package securityaudit

import (
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/workflows/securityaudit/workflowaudit"
)

// CheckRunName is the name of the audit's check run.
const CheckRunName = "Autonomous CI / security audit"

// SectionKey is the audit's section of the sticky comment.
const SectionKey = "security_audit"

// maxTableRows bounds the rows of the summary table; the annotations carry every finding.
const maxTableRows = 50

// maxSectionRows bounds the findings listed in the pull request's comment section.
const maxSectionRows = 5

// conclusion is the check run's conclusion: failure when a finding is at or above failOn,
// neutral when every finding is low, else success.
func conclusion(fs []Finding, failOn workflowaudit.Severity) string {
	onlyLow := len(fs) > 0
	for _, f := range fs {
		if f.Severity.Rank() >= failOn.Rank() {
			return "failure"
		}
		if f.Severity != workflowaudit.SeverityLow {
			onlyLow = false
		}
	}
	if onlyLow {
		return "neutral"
	}
	return "success"
}

// annotations are one per finding, at its line: failure level at or above failOn, warning for
// the others except low, which are notices.
func annotations(fs []Finding, failOn workflowaudit.Severity) []*github.CheckRunAnnotation {
	out := make([]*github.CheckRunAnnotation, 0, len(fs))
	for _, f := range fs {
		level := "warning"
		switch {
		case f.Severity.Rank() >= failOn.Rank():
			level = "failure"
		case f.Severity == workflowaudit.SeverityLow:
			level = "notice"
		}
		title := f.RuleID
		if info, ok := workflowaudit.Rules[f.RuleID]; ok {
			title = info.Title
		}
		msg := f.Message
		if f.Explanation != "" {
			msg += "\n\n" + f.Explanation
		}
		if f.Link != "" {
			msg += "\n\n" + f.Link
		}
		a := &github.CheckRunAnnotation{
			Path: github.String(f.File), StartLine: github.Int(f.Line), EndLine: github.Int(f.Line),
			AnnotationLevel: github.String(level), Title: github.String(fmt.Sprintf("%s (%s, %s)", title, f.Severity, f.RuleID)),
			Message: github.String(markdown.Truncate(msg, 4000)),
		}
		if f.Column > 0 {
			a.StartColumn, a.EndColumn = github.Int(f.Column), github.Int(f.Column)
		}
		out = append(out, a)
	}
	return out
}

// counts is "2 high, 1 medium".
func counts(fs []Finding) string {
	n := map[workflowaudit.Severity]int{}
	for _, f := range fs {
		n[f.Severity]++
	}
	var parts []string
	for _, s := range []workflowaudit.Severity{workflowaudit.SeverityCritical, workflowaudit.SeverityHigh, workflowaudit.SeverityMedium, workflowaudit.SeverityLow} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// title is the check run's title (plain text).
func title(fs []Finding, pr bool) string {
	what := "findings"
	if pr {
		what = "new findings"
	}
	switch len(fs) {
	case 0:
		if pr {
			return "No new security findings"
		}
		return "No security findings"
	case 1:
		what = strings.TrimSuffix(what, "s")
	}
	return fmt.Sprintf("%d %s (%s)", len(fs), what, counts(fs))
}

// summary is the check run's Markdown summary: what was audited and a table of the findings.
func summary(r *report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Audited %d workflow files and %d manifests at %s", r.workflows, r.manifests, markdown.Code(markdown.ShortSHA(r.sha)))
	if r.pr > 0 {
		fmt.Fprintf(&b, " (pull request #%d, compared with its base %s)", r.pr, markdown.Code(markdown.ShortSHA(r.baseSHA)))
	}
	fmt.Fprintf(&b, "; fail on %s and above.\n\n", markdown.Code(string(r.failOn)))
	if r.osvSkipped != "" {
		fmt.Fprintf(&b, "Dependencies were not checked: %s.\n\n", markdown.Plain(r.osvSkipped))
	} else if r.queried > 0 {
		fmt.Fprintf(&b, "%d dependency versions were checked against OSV.\n\n", r.queried)
	}
	if r.pr > 0 && r.existing > 0 {
		fmt.Fprintf(&b, "%d findings were already on the base and are not repeated here.\n\n", r.existing)
	}
	if len(r.shown) == 0 {
		b.WriteString("No findings.\n\n")
	} else {
		b.WriteString("| severity | rule | where | finding |\n|---|---|---|---|\n")
		for i, f := range r.shown {
			if i == maxTableRows {
				fmt.Fprintf(&b, "\n…and %d more (see the annotations).\n", len(r.shown)-maxTableRows)
				break
			}
			fmt.Fprintf(&b, "| %s | [%s](%s) | %s | %s |\n", f.Severity, f.RuleID, markdown.SafeURL(f.Link),
				markdown.Code(fmt.Sprintf("%s:%d", f.File, f.Line)), markdown.Plain(f.Message))
		}
		b.WriteString("\n")
	}
	if r.fix != "" {
		b.WriteString(r.fix + "\n\n")
	}
	for _, p := range r.problems {
		fmt.Fprintf(&b, "- ⚠️ %s\n", markdown.Plain(p))
	}
	b.WriteString("\nSuppress a finding with a comment `# autonomous-ci: ignore[rule-id]` on its line or the line above, or for the repository with `security_audit.ignore_rules`, `ignore_paths` or `ignore_advisories` in `.github/autonomous.yml`.\n")
	return markdown.Truncate(b.String(), prreport.MaxSectionBytes)
}

// section is the pull request's short part of the sticky comment.
func section(r *report, checkRunURL string, runID int64) prreport.Section {
	passed := len(r.shown) == 0
	headline := "🛡️ Security audit: no new findings"
	if !passed {
		headline = "🛡️ Security audit: " + title(r.shown, true)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", headline)
	for i, f := range r.shown {
		if i == maxSectionRows {
			fmt.Fprintf(&b, "- …and %d more\n", len(r.shown)-maxSectionRows)
			break
		}
		fmt.Fprintf(&b, "- **%s** %s %s\n", f.Severity, markdown.Code(fmt.Sprintf("%s:%d", f.File, f.Line)), markdown.Plain(f.Message))
	}
	if checkRunURL != "" {
		fmt.Fprintf(&b, "\nDetails in the [check run](%s).\n", markdown.SafeURL(checkRunURL))
	}
	b.WriteString("\n")
	return prreport.Section{Key: SectionKey, Workflow: "security audit", RunID: runID, Passed: passed,
		Headline: headline, Title: title(r.shown, true), Body: b.String()}
}
