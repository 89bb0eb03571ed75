package alerting

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/integrations/slack"
)

// maxLinearTitle bounds an issue's title; Linear's limit is far above what a title should be.
const maxLinearTitle = 250

// maxLinearText bounds the alert text copied into an issue or comment.
const maxLinearText = 20000

// slackAlert renders a delivery as Slack's alert; the slack package escapes and bounds it.
func slackAlert(a DeliveryArgs, ev event) slack.Alert {
	al := a.Alert
	out := slack.Alert{
		Fingerprint: al.Fingerprint,
		Severity:    slack.Severity(al.Severity),
		Title:       al.Title,
		Text:        al.Text,
	}
	for _, f := range al.Fields {
		out.Fields = append(out.Fields, slack.Field{Name: f.Name, Value: f.Value})
	}
	for _, l := range al.Links {
		out.Links = append(out.Links, slack.Link{Label: l.Label, URL: l.URL})
	}
	if al.Repo != "" {
		out.Fields = append(out.Fields, slack.Field{Name: "Repository", Value: al.Repo})
	}
	if al.Source != "" {
		out.Fields = append(out.Fields, slack.Field{Name: "Source", Value: al.Source})
	}
	if a.Occurrences > 1 {
		out.Fields = append(out.Fields, slack.Field{Name: "Occurrences", Value: occurrences(a)})
	}
	switch ev {
	case eventEscalate:
		out.Title = "Escalated: " + al.Title
		out.Text = "This needs a human: " + occurrences(a) + ".\n\n" + al.Text
	case eventOpen:
		if al.Escalate {
			out.Title = "Escalated: " + al.Title
		}
	case eventRemind:
		out.Title = "Still happening: " + al.Title
		out.Text = "Still happening: " + occurrences(a) + ".\n\n" + al.Text
	case eventResolve:
		out = slack.Alert{Fingerprint: al.Fingerprint, Severity: slack.Severity(al.Severity), Title: al.Title, Text: a.Text, Resolved: true}
	}
	return out
}

// occurrences says how often and since when.
func occurrences(a DeliveryArgs) string {
	n := max(a.Occurrences, 1)
	times := "1 occurrence"
	if n > 1 {
		times = strconv.FormatInt(n, 10) + " occurrences"
	}
	if a.FirstSeen.IsZero() {
		return times
	}
	return times + " since " + a.FirstSeen.UTC().Format(time.RFC3339)
}

// issueInput is the Linear issue of an escalation: the title, a description with the text,
// fields and links (EnsureIssue appends the fingerprint), and a priority from the severity.
func issueInput(a DeliveryArgs) linear.IssueInput {
	al := a.Alert
	var b strings.Builder
	if text := strings.TrimSpace(al.Text); text != "" {
		b.WriteString(escapeMarkdown(truncate(text, maxLinearText)))
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "**Severity:** %s  \n", escapeMarkdown(string(al.Severity)))
	if al.Repo != "" {
		fmt.Fprintf(&b, "**Repository:** %s  \n", escapeMarkdown(al.Repo))
	}
	if al.Source != "" {
		fmt.Fprintf(&b, "**Source:** %s  \n", escapeMarkdown(al.Source))
	}
	fmt.Fprintf(&b, "**Seen:** %s  \n", occurrences(a))
	for _, f := range al.Fields {
		fmt.Fprintf(&b, "**%s:** %s  \n", escapeMarkdown(oneLine(f.Name, 200)), escapeMarkdown(oneLine(f.Value, 1000)))
	}
	if links := markdownLinks(al.Links); links != "" {
		b.WriteString("\n" + links)
	}
	b.WriteString("\nFiled by Autonomous CI; it comments here when the condition repeats and closes the issue when it clears.")
	return linear.IssueInput{
		Title:       oneLine(al.Title, maxLinearTitle),
		Description: b.String(),
		Priority:    linear.PriorityFromSeverity(string(al.Severity)),
	}
}

// repeatComment is the comment on an open escalation's issue when it happens again.
func repeatComment(a DeliveryArgs) string {
	body := "Happened again: " + occurrences(a) + "."
	if text := strings.TrimSpace(a.Alert.Text); text != "" {
		body += "\n\n" + escapeMarkdown(truncate(text, maxLinearText))
	}
	return body
}

// resolveComment is the comment before the issue is closed.
func resolveComment(a DeliveryArgs) string {
	body := "Resolved: the condition has cleared."
	if text := strings.TrimSpace(a.Text); text != "" {
		body += "\n\n" + escapeMarkdown(truncate(text, maxLinearText))
	}
	return body
}

// markdownLinks lists the http(s) links as Markdown; other schemes are left out.
func markdownLinks(links []Link) string {
	var b strings.Builder
	for _, l := range links {
		u, err := url.Parse(strings.TrimSpace(l.URL))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		href := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u.String())
		label := oneLine(l.Label, 200)
		if label == "" {
			label = u.Host
		}
		fmt.Fprintf(&b, "- [%s](%s)\n", escapeMarkdown(label), href)
	}
	return b.String()
}

// markdownEscaper escapes the characters that make Markdown markup, so untrusted text stays text.
var markdownEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "#", `\#`, "|", `\|`, "~", `\~`, "!", `\!`)

func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// oneLine joins s's lines and bounds it.
func oneLine(s string, n int) string {
	return truncate(strings.Join(strings.Fields(s), " "), n)
}
