package slack

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// Fit returns a copy of msg within Slack's limits, leaving msg untouched:
// header, section and field texts are truncated, section fields and context
// elements beyond the limit dropped, nil blocks dropped, blocks beyond
// [MaxBlocks] replaced by a note saying how many were left out, and a
// missing fallback text taken from the first header or section.
// [Client.Send] applies it to every message.
func Fit(msg *slack.WebhookMessage) *slack.WebhookMessage {
	out := *msg
	out.Blocks = nil
	var blocks []slack.Block
	if msg.Blocks != nil {
		blocks = msg.Blocks.BlockSet
	}
	if len(blocks) > 0 {
		fitted := make([]slack.Block, 0, min(len(blocks), MaxBlocks))
		for i, b := range blocks {
			if i == MaxBlocks-1 && len(blocks) > MaxBlocks {
				note := fmt.Sprintf("_%d more blocks omitted_", len(blocks)-i)
				fitted = append(fitted, slack.NewContextBlock("", mrkdwn(note)))
				break
			}
			if b = fitBlock(b); b != nil {
				fitted = append(fitted, b)
			}
		}
		if len(fitted) > 0 {
			out.Blocks = &slack.Blocks{BlockSet: fitted}
		}
		if strings.TrimSpace(out.Text) == "" {
			out.Text = firstText(fitted)
		}
	}
	out.Text = Truncate(out.Text, MaxFallbackText)
	return &out
}

// fitBlock returns a fitted copy of b, or nil for a nil block (which Slack
// would refuse).
func fitBlock(b slack.Block) slack.Block {
	switch b := b.(type) {
	case nil:
		return nil
	case *slack.HeaderBlock:
		if b == nil {
			return nil
		}
		c := *b
		c.Text = fitText(b.Text, MaxHeaderText)
		return &c
	case *slack.SectionBlock:
		if b == nil {
			return nil
		}
		c := *b
		c.Text = fitText(b.Text, MaxSectionText)
		c.Fields = nil
		for i, f := range b.Fields {
			if i == MaxSectionFields {
				break
			}
			c.Fields = append(c.Fields, fitText(f, MaxFieldText))
		}
		return &c
	case *slack.ContextBlock:
		if b == nil {
			return nil
		}
		c := *b
		elems := b.ContextElements.Elements
		if len(elems) > MaxContextElements {
			elems = elems[:MaxContextElements]
		}
		c.ContextElements.Elements = make([]slack.MixedElement, len(elems))
		for i, e := range elems {
			if t, ok := e.(*slack.TextBlockObject); ok {
				e = fitText(t, MaxSectionText)
			}
			c.ContextElements.Elements[i] = e
		}
		return &c
	default:
		return b
	}
}

func fitText(t *slack.TextBlockObject, limit int) *slack.TextBlockObject {
	if t == nil {
		return nil
	}
	c := *t
	c.Text = Truncate(t.Text, limit)
	return &c
}

func firstText(blocks []slack.Block) string {
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if b.Text != nil && b.Text.Text != "" {
				return Escape(b.Text.Text)
			}
		case *slack.SectionBlock:
			if b.Text != nil && b.Text.Text != "" {
				return b.Text.Text
			}
		}
	}
	return ""
}
