package failureanalysis

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/store"
)

// fixSectionKey is the AI fix's section of the sticky comment: one per pull request, showing
// its newest fix.
const fixSectionKey = "ai-fix"

// link renders an http(s) address from an untrusted answer as a Markdown link, or as text.
func link(label, u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		if !strings.ContainsAny(u, " ()<>\"'`\n") {
			return fmt.Sprintf("[%s](%s)", markdown.Plain(label), u)
		}
	}
	return markdown.Plain(label)
}

// fixSection is the sticky comment's account of a fix.
func fixSection(fix store.AIFix, d fixData) prreport.Section {
	var b strings.Builder
	var headline string
	agent := link("the agent's run", d.WebURL)
	switch fix.State {
	case fixQueued:
		if fix.Attempts > 1 {
			headline = fmt.Sprintf("🤖 AI fix: asking the agent again (attempt %d of %d)", fix.Attempts, max(d.MaxAttempts, fix.Attempts))
		} else {
			headline = "🤖 AI fix: handing the failure to the agent"
		}
	case fixRunning:
		headline = fmt.Sprintf("🤖 AI fix: the agent is working (attempt %d of %d)", fix.Attempts, max(d.MaxAttempts, fix.Attempts))
	case fixPROpen:
		headline = "🤖 AI fix: the agent opened a fix pull request"
	case fixGreen:
		headline = "✅ AI fix: the fix pull request made CI green"
	case fixProposed:
		headline = "🤖 AI fix: the agent proposed a fix"
	case fixEscalated:
		headline = "🚨 AI fix: the fix kept failing; people were asked to look"
	default:
		headline = "⚠️ AI fix: the agent could not fix it"
	}
	fmt.Fprintf(&b, "### %s\n\n", headline)
	fmt.Fprintf(&b, "- **Failure:** %s in %s of %s (%s)\n", code(d.Class), code(d.Job), link(d.Workflow, d.RunURL), code(markdown.ShortSHA(d.HeadSHA)))
	if d.WebURL != "" {
		fmt.Fprintf(&b, "- **Agent:** %s\n", agent)
	}
	if d.FixPRURL != "" {
		title := d.FixPRTitle
		if title == "" {
			title = d.FixPRURL
		}
		fmt.Fprintf(&b, "- **Fix pull request:** %s\n", link(markdown.Truncate(title, 200), d.FixPRURL))
	}
	if d.LastCI != "" {
		fmt.Fprintf(&b, "- **Fix CI:** %s\n", link("latest run", d.LastCI))
	}
	if s := strings.TrimSpace(d.Summary); s != "" && fix.State != fixQueued {
		fmt.Fprintf(&b, "\n**The agent's summary:**\n\n%s\n", quoteBlock(s))
	}
	if d.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", markdown.Plain(d.Note))
	}
	switch fix.State {
	case fixPROpen:
		b.WriteString("\nThe bot follows the fix pull request's CI and reports here whether it passes.\n")
	case fixEscalated:
		b.WriteString("\nNo further agent runs are started for this pull request.\n")
	}
	return prreport.Section{
		Key: fixSectionKey, Workflow: "AI fix", RunID: d.Version, Passed: true,
		Headline: markdown.Plain(headline), Title: markdown.OneLine(headline), Body: b.String(), UpdatedAt: time.Now().UTC(),
	}
}

// quoteBlock renders the agent's untrusted summary as escaped plain text in a quote, bounded.
func quoteBlock(s string) string {
	lines := strings.Split(markdown.Truncate(s, 3000), "\n")
	if len(lines) > 40 {
		lines = append(lines[:40], "…")
	}
	for i, l := range lines {
		lines[i] = "> " + markdown.Plain(l)
	}
	return strings.Join(lines, "\n")
}

// noticeSection says why no fix was started.
func noticeSection(run *github.WorkflowRun, text string) prreport.Section {
	headline := "🤖 AI fix: not started"
	return prreport.Section{
		Key: fixSectionKey, Workflow: "AI fix", RunID: time.Now().UnixMilli(), Passed: true,
		Headline: headline, Title: headline,
		Body:      fmt.Sprintf("### %s\n\n%s (%s)\n", headline, markdown.Plain(text), link(run.GetName(), run.GetHTMLURL())),
		UpdatedAt: time.Now().UTC(),
	}
}
