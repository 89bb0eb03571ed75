package slack

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack"
)

// Severity ranks an alert; it picks the header's emoji.
type Severity string

// The severities, from most to least urgent.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Field is one labelled value shown in an alert's fields.
type Field struct {
	Name  string
	Value string
}

// Link is a labelled http(s) link shown under an alert.
type Link struct {
	Label string
	URL   string
}

// Alert is one condition to tell people about. Every string in it is treated
// as untrusted: it is escaped for mrkdwn and cut to Slack's limits.
type Alert struct {
	// Fingerprint identifies the condition across alerts and its resolution;
	// it is shown in the context line.
	Fingerprint string
	Severity    Severity
	Title       string
	Text        string
	Fields      []Field
	Links       []Link
	// Resolved renders the resolution variant ("Resolved: <title>").
	Resolved bool
}

// maxFieldSections bounds the field sections so that text always has room.
const maxFieldSections = 10

// Message renders the alert as a webhook message: a header, the text in one
// or more sections, the fields, the links, and a context line with the
// severity and fingerprint, within [MaxBlocks] and every per-block limit.
func (a Alert) Message() *slack.WebhookMessage {
	title := strings.TrimSpace(a.Title)
	if title == "" {
		title = "Alert"
	}
	text := strings.TrimSpace(a.Text)
	if a.Resolved && text == "" {
		text = "The condition has cleared."
	}

	header := a.headerText(title)
	fields := a.fieldBlocks()
	links := a.linkBlocks()
	// header + context + fields + links + text == MaxBlocks at most.
	textBudget := MaxBlocks - 2 - len(fields) - len(links)
	blocks := []slack.Block{slack.NewHeaderBlock(plain(Truncate(header, MaxHeaderText)))}
	for _, part := range chunk(Escape(text), MaxSectionText, textBudget) {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(part), nil, nil))
	}
	blocks = append(blocks, fields...)
	blocks = append(blocks, links...)
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(a.contextText())))

	return &slack.WebhookMessage{
		Text:   a.fallbackText(title, text),
		Blocks: &slack.Blocks{BlockSet: blocks},
	}
}

func (a Alert) headerText(title string) string {
	if a.Resolved {
		return ":white_check_mark: Resolved: " + title
	}
	return severityEmoji(a.Severity) + " " + title
}

func (a Alert) fallbackText(title, text string) string {
	fallback := title
	switch {
	case a.Resolved:
		fallback = "Resolved: " + title
	case a.Severity != "":
		fallback = fmt.Sprintf("[%s] %s", strings.ToUpper(string(a.Severity)), title)
	}
	if first, _, _ := strings.Cut(text, "\n"); first != "" {
		fallback += ": " + first
	}
	return Truncate(Escape(fallback), MaxFallbackText)
}

func (a Alert) contextText() string {
	parts := []string{}
	if a.Resolved {
		parts = append(parts, "*Resolved*")
	} else if a.Severity != "" {
		parts = append(parts, "*Severity:* "+Escape(Truncate(string(a.Severity), 40)))
	}
	if fp := strings.TrimSpace(a.Fingerprint); fp != "" {
		parts = append(parts, "*Fingerprint:* `"+Truncate(Escape(strings.ReplaceAll(fp, "`", "'")), 200)+"`")
	}
	parts = append(parts, "Autonomous CI")
	return strings.Join(parts, " · ")
}

// fieldBlocks renders the fields MaxSectionFields to a section, at most
// maxFieldSections sections; the last field of the last section says how
// many were left out.
func (a Alert) fieldBlocks() []slack.Block {
	objs := make([]*slack.TextBlockObject, 0, len(a.Fields))
	capacity := maxFieldSections * MaxSectionFields
	for i, f := range a.Fields {
		if i == capacity-1 && len(a.Fields) > capacity {
			objs = append(objs, mrkdwn(fmt.Sprintf("_%d more fields omitted_", len(a.Fields)-i)))
			break
		}
		name := Truncate(Escape(strings.TrimSpace(f.Name)), 200)
		value := strings.TrimSpace(f.Value)
		if value == "" {
			value = "-"
		}
		objs = append(objs, mrkdwn(Truncate("*"+name+"*\n"+Escape(value), MaxFieldText)))
	}
	var blocks []slack.Block
	for len(objs) > 0 {
		n := min(len(objs), MaxSectionFields)
		blocks = append(blocks, slack.NewSectionBlock(nil, objs[:n], nil))
		objs = objs[n:]
	}
	return blocks
}

// linkBlocks renders the http(s) links, one a line, in one section; links
// that do not fit in its text are left out whole, never cut.
func (a Alert) linkBlocks() []slack.Block {
	var b strings.Builder
	omitted := 0
	for _, l := range a.Links {
		line := linkLine(l)
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			line = "\n" + line
		}
		// Reserve room for the omission note.
		if runeLen(b.String())+runeLen(line) > MaxSectionText-40 {
			omitted++
			continue
		}
		b.WriteString(line)
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "\n_%d more links omitted_", omitted)
	}
	if b.Len() == 0 {
		return nil
	}
	return []slack.Block{slack.NewSectionBlock(mrkdwn(b.String()), nil, nil)}
}

// linkLine renders one link as <url|label>, or "" for a URL that is not
// absolute http(s) or is too long for Slack.
func linkLine(l Link) string {
	u, err := url.Parse(strings.TrimSpace(l.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	// In <url|label>, the URL must not hold | or > or <; re-encoding does that.
	href := strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E").Replace(u.String())
	if runeLen(href) > 1000 {
		return ""
	}
	label := strings.TrimSpace(l.Label)
	if label == "" {
		label = u.Host
	}
	label = strings.ReplaceAll(Truncate(Escape(label), 200), "|", "¦")
	return "• <" + href + "|" + label + ">"
}

func severityEmoji(s Severity) string {
	switch s {
	case SeverityCritical:
		return ":red_circle:"
	case SeverityHigh:
		return ":large_orange_circle:"
	case SeverityMedium:
		return ":large_yellow_circle:"
	case SeverityLow:
		return ":large_blue_circle:"
	default:
		return ":information_source:"
	}
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
