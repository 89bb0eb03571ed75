package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	goslack "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/integrations/slack"
)

// sendAndDecode posts msg to a fake webhook and returns the JSON it received.
func sendAndDecode(t *testing.T, msg *goslack.WebhookMessage) payload {
	t.Helper()
	fake := newFakeWebhook(t, answer(http.StatusOK, "ok"))
	client, err := slack.New(fake.url())
	require.NoError(t, err)
	require.NoError(t, client.Send(context.Background(), msg))
	return fake.sentPayload(t)
}

// requireWithinLimits checks every Slack limit on the JSON that was sent.
func requireWithinLimits(t *testing.T, p payload) {
	t.Helper()
	require.NotEmpty(t, p.Text, "fallback text")
	requireText(t, p.Text, slack.MaxFallbackText)
	require.LessOrEqual(t, len(p.Blocks), slack.MaxBlocks)
	for i, b := range p.Blocks {
		switch b.Type {
		case "header":
			require.Equal(t, "plain_text", b.Text.Type)
			require.True(t, utf8.ValidString(b.Text.Text))
			require.LessOrEqual(t, utf8.RuneCountInString(b.Text.Text), slack.MaxHeaderText)
		case "section":
			require.True(t, b.Text != nil || len(b.Fields) > 0, "section %d is empty", i)
			if b.Text != nil {
				requireText(t, b.Text.Text, slack.MaxSectionText)
			}
			require.LessOrEqual(t, len(b.Fields), slack.MaxSectionFields)
			for _, f := range b.Fields {
				requireText(t, f.Text, slack.MaxFieldText)
			}
		case "context":
			require.LessOrEqual(t, len(b.Elements), slack.MaxContextElements)
			for _, e := range b.Elements {
				requireText(t, e.Text, slack.MaxSectionText)
			}
		}
	}
}

func requireText(t *testing.T, s string, limit int) {
	t.Helper()
	require.NotEmpty(t, s)
	require.True(t, utf8.ValidString(s))
	require.LessOrEqual(t, utf8.RuneCountInString(s), limit)
	requireWholeEntities(t, s)
}

// requireWholeEntities fails if an & does not start &amp; &lt; or &gt;.
func requireWholeEntities(t *testing.T, s string) {
	t.Helper()
	for i := range len(s) {
		if s[i] != '&' {
			continue
		}
		rest := s[i:]
		require.True(t, strings.HasPrefix(rest, "&amp;") || strings.HasPrefix(rest, "&lt;") || strings.HasPrefix(rest, "&gt;"), "broken entity at %q", rest[:min(len(rest), 8)])
	}
}

func TestAlertMessageShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		alert      slack.Alert
		header     string
		types      []string
		contextHas string
		textHas    string
	}{
		{
			name: "firing with fields and links",
			alert: slack.Alert{
				Fingerprint: "health:database", Severity: slack.SeverityCritical, Title: "Database down",
				Text: "ping failed", Fields: []slack.Field{{Name: "Component", Value: "database"}},
				Links: []slack.Link{{Label: "Dashboard", URL: "https://ci.example.test/"}},
			},
			header: ":red_circle: Database down", types: []string{"header", "section", "section", "section", "context"},
			contextHas: "*Severity:* critical · *Fingerprint:* `health:database`", textHas: "[CRITICAL] Database down: ping failed",
		},
		{
			name:   "resolution",
			alert:  slack.Alert{Fingerprint: "health:database", Severity: slack.SeverityCritical, Title: "Database down", Resolved: true},
			header: ":white_check_mark: Resolved: Database down", types: []string{"header", "section", "context"},
			contextHas: "*Resolved* · *Fingerprint:* `health:database`", textHas: "Resolved: Database down: The condition has cleared.",
		},
		{
			name:   "bare",
			alert:  slack.Alert{},
			header: ":information_source: Alert", types: []string{"header", "context"}, contextHas: "Autonomous CI", textHas: "Alert",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := sendAndDecode(t, tt.alert.Message())
			requireWithinLimits(t, p)
			var types []string
			for _, b := range p.Blocks {
				types = append(types, b.Type)
			}
			require.Equal(t, tt.types, types)
			require.Equal(t, tt.header, p.Blocks[0].Text.Text)
			require.Contains(t, p.Blocks[len(p.Blocks)-1].Elements[0].Text, tt.contextHas)
			require.Equal(t, tt.textHas, p.Text)
		})
	}
}

func TestOversizedAlertIsTruncatedWithinLimits(t *testing.T) {
	t.Parallel()
	var fields []slack.Field
	for i := range 500 {
		fields = append(fields, slack.Field{Name: fmt.Sprintf("field %d", i), Value: strings.Repeat("é&", 1500)})
	}
	var links []slack.Link
	for i := range 300 {
		links = append(links, slack.Link{Label: fmt.Sprintf("run %d", i), URL: fmt.Sprintf("https://github.com/o/r/actions/runs/%d", i)})
	}
	alert := slack.Alert{
		Fingerprint: strings.Repeat("f", 1000),
		Severity:    slack.SeverityHigh,
		Title:       strings.Repeat("日本", 400),
		Text:        strings.Repeat("line with <tags> & ampersands 🙂\n", 20000),
		Fields:      fields,
		Links:       links,
	}

	msg := alert.Message()
	requireRenderedWithinLimits(t, msg)
	p := sendAndDecode(t, msg)

	requireWithinLimits(t, p)
	require.Len(t, p.Blocks, slack.MaxBlocks)
	require.True(t, strings.HasSuffix(p.Blocks[0].Text.Text, slack.Ellipsis), "header marked")
	require.Equal(t, slack.MaxHeaderText, utf8.RuneCountInString(p.Blocks[0].Text.Text))
	var sections, lastText string
	fieldCount := 0
	for _, b := range p.Blocks {
		if b.Type == "section" && b.Text != nil && !strings.HasPrefix(b.Text.Text, "• <") {
			lastText = b.Text.Text
			sections += b.Text.Text
		}
		fieldCount += len(b.Fields)
	}
	require.True(t, strings.HasSuffix(lastText, slack.Ellipsis), "long text marked as cut")
	require.Equal(t, 100, fieldCount, "ten field sections of ten")
	require.Contains(t, p.Blocks[len(p.Blocks)-3].Fields[9].Text, "401 more fields omitted")
	links0 := p.Blocks[len(p.Blocks)-2].Text.Text
	require.True(t, strings.HasPrefix(links0, "• <https://github.com/o/r/actions/runs/0|run 0>"))
	require.Contains(t, links0, "more links omitted")
	require.Equal(t, "context", p.Blocks[len(p.Blocks)-1].Type, "context kept last")
	require.Contains(t, sections, "line with &lt;tags&gt; &amp; ampersands 🙂")
}

func TestAlertEscapesUntrustedText(t *testing.T) {
	t.Parallel()
	hostile := "<!channel> <@U123> & <https://evil.test|click me>"
	alert := slack.Alert{
		Fingerprint: "fp`<!here>", Severity: slack.SeverityLow, Title: hostile, Text: hostile,
		Fields: []slack.Field{{Name: hostile, Value: hostile}},
		Links:  []slack.Link{{Label: "<!channel>|x", URL: "https://ci.example.test/a|b<c>"}, {Label: "js", URL: "javascript:alert(1)"}},
	}

	p := sendAndDecode(t, alert.Message())

	requireWithinLimits(t, p)
	escaped := "&lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://evil.test|click me&gt;"
	require.Equal(t, escaped, p.Blocks[1].Text.Text)
	require.Equal(t, "*"+escaped+"*\n"+escaped, p.Blocks[2].Fields[0].Text)
	require.Equal(t, "• <https://ci.example.test/a%7Cb%3Cc%3E|&lt;!channel&gt;¦x>", p.Blocks[3].Text.Text, "one safe link, javascript: dropped")
	require.Contains(t, p.Blocks[4].Elements[0].Text, "`fp'&lt;!here&gt;`")
	require.NotContains(t, p.Text, "<!channel>")
	require.Contains(t, p.Text, "&lt;!channel&gt;")
	// A plain_text header does not parse mentions; it keeps the title as is.
	require.Equal(t, ":large_blue_circle: "+hostile, p.Blocks[0].Text.Text)
}

func TestFitArbitraryMessage(t *testing.T) {
	t.Parallel()
	blocks := []goslack.Block{goslack.NewHeaderBlock(goslack.NewTextBlockObject(goslack.PlainTextType, strings.Repeat("h", 200), false, false))}
	var fields []*goslack.TextBlockObject
	for range 12 {
		fields = append(fields, goslack.NewTextBlockObject(goslack.MarkdownType, strings.Repeat("f", 2500), false, false))
	}
	blocks = append(blocks, goslack.NewSectionBlock(goslack.NewTextBlockObject(goslack.MarkdownType, strings.Repeat("s", 4000), false, false), fields, nil))
	for range 70 {
		blocks = append(blocks, goslack.NewDividerBlock())
	}
	msg := &goslack.WebhookMessage{Blocks: &goslack.Blocks{BlockSet: blocks}}

	p := sendAndDecode(t, msg)

	requireWithinLimits(t, p)
	require.Len(t, p.Blocks, slack.MaxBlocks)
	require.Equal(t, "_23 more blocks omitted_", p.Blocks[slack.MaxBlocks-1].Elements[0].Text)
	require.Len(t, p.Blocks[1].Fields, slack.MaxSectionFields)
	require.Equal(t, strings.Repeat("h", 149)+slack.Ellipsis, p.Text, "fallback from the header")
	// The caller's message is untouched.
	require.Len(t, msg.Blocks.BlockSet, 72)
	require.Empty(t, msg.Text)
	require.Len(t, blocks[1].(*goslack.SectionBlock).Fields, 12)
	require.Equal(t, 200, len(blocks[0].(*goslack.HeaderBlock).Text.Text))
}

// requireRenderedWithinLimits checks that a rendered alert needs no fitting:
// Message itself keeps the limits, Send's Fit is only a safety net.
func requireRenderedWithinLimits(t *testing.T, msg *goslack.WebhookMessage) {
	t.Helper()
	raw, err := json.Marshal(msg)
	require.NoError(t, err)
	fitted, err := json.Marshal(slack.Fit(msg))
	require.NoError(t, err)
	require.JSONEq(t, string(raw), string(fitted), "Fit changed a rendered alert")
	var p payload
	require.NoError(t, json.Unmarshal(raw, &p))
	requireWithinLimits(t, p)
}

func FuzzAlertWithinLimits(f *testing.F) {
	f.Add("title", "text", "name", "value", "https://x.test/", "fp", 3, false)
	f.Add(strings.Repeat("&<>", 100), strings.Repeat("a&b\n", 3000), strings.Repeat("é", 3000), strings.Repeat("&", 3000), "https://x.test/"+strings.Repeat("|", 900), strings.Repeat("`", 300), 120, true)
	f.Add("\xff\xfe", "\n\n\n", "", "", "javascript:x", "", 0, false)
	f.Fuzz(func(t *testing.T, title, text, name, value, link, fp string, n int, resolved bool) {
		n = min(max(n, 0), 300)
		a := slack.Alert{Fingerprint: fp, Severity: slack.SeverityMedium, Title: title, Text: text, Resolved: resolved}
		for range n {
			a.Fields = append(a.Fields, slack.Field{Name: name, Value: value})
			a.Links = append(a.Links, slack.Link{Label: name, URL: link})
		}
		requireRenderedWithinLimits(t, a.Message())
	})
}
