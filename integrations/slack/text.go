package slack

import (
	"strings"
	"unicode/utf8"
)

// Slack's documented limits, counted in characters (runes), as slack-go's
// own validation counts them.
const (
	// MaxBlocks is the most blocks one message may carry.
	MaxBlocks = 50
	// MaxSectionText is the longest text of a section block.
	MaxSectionText = 3000
	// MaxSectionFields is the most fields one section block may carry.
	MaxSectionFields = 10
	// MaxFieldText is the longest text of one section field.
	MaxFieldText = 2000
	// MaxHeaderText is the longest plain text of a header block.
	MaxHeaderText = 150
	// MaxContextElements is the most elements one context block may carry.
	MaxContextElements = 10
	// MaxFallbackText is this package's cap on the top-level text used in
	// notifications: well under Slack's 40,000, short enough to read.
	MaxFallbackText = 3000
)

// Ellipsis marks text cut to fit a limit.
const Ellipsis = "…"

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes untrusted text safe for a mrkdwn field: &, < and > become
// entities, so the text can neither mention (<!channel>, <@U123>) nor link.
// Invalid UTF-8 is replaced by U+FFFD.
func Escape(s string) string {
	return mrkdwnEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// Truncate cuts s to at most limit runes, marking a cut with [Ellipsis]. It
// cuts on rune boundaries and never inside an entity (&amp; &lt; &gt;) that
// [Escape] produced, so it is safe on escaped mrkdwn as well as plain text.
func Truncate(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if limit <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	keep := limit - utf8.RuneCountInString(Ellipsis)
	if keep <= 0 {
		return string([]rune(Ellipsis)[:limit])
	}
	cut := byteOffset(s, keep)
	head := s[:cut]
	if amp := strings.LastIndexByte(head, '&'); amp >= 0 && !strings.Contains(head[amp:], ";") && isEntityPrefix(s[amp:]) {
		head = head[:amp]
	}
	return head + Ellipsis
}

// isEntityPrefix reports whether s starts with one of the entities Escape
// writes.
func isEntityPrefix(s string) bool {
	return strings.HasPrefix(s, "&amp;") || strings.HasPrefix(s, "&lt;") || strings.HasPrefix(s, "&gt;")
}

// byteOffset returns the byte offset of the n-th rune of s (len(s) if s is
// shorter).
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// chunk splits escaped mrkdwn into at most max pieces of at most limit runes,
// preferring to break after a newline. If the text does not fit, the last
// piece is truncated and marked.
func chunk(s string, limit, max int) []string {
	var out []string
	for s != "" && len(out) < max {
		if utf8.RuneCountInString(s) <= limit {
			return append(out, s)
		}
		if len(out) == max-1 {
			return append(out, Truncate(s, limit))
		}
		cut := byteOffset(s, limit)
		if nl := strings.LastIndexByte(s[:cut], '\n'); nl > cut/2 {
			cut = nl + 1
		} else if amp := strings.LastIndexByte(s[:cut], '&'); amp >= 0 && !strings.Contains(s[amp:cut], ";") && isEntityPrefix(s[amp:]) {
			cut = amp
		}
		if cut == 0 {
			cut = byteOffset(s, limit)
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return out
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }
