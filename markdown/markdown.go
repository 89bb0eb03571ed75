// Package markdown renders untrusted text (log lines, comment bodies, workflow and check names,
// GitHub's error messages) safely inside the Markdown the bot posts: as escaped plain text, as
// one line of text, as an inline code span or as a fenced code block. It is the one place that
// rule is implemented; every comment, reply and check run goes through it.
//
// Plain, Text and OneLine redact secret-shaped text (package redact) before they escape it, so a
// caller cannot forget to: those are the forms in which untrusted prose reaches a comment. Code
// and CodeBlock do not redact: their callers render text that is either the bot's own (command
// usage) or already redacted where it was read (log excerpts go through redact when analysed).
package markdown

import (
	"strings"
	"unicode/utf8"

	"github.com/contexten/autonomous/workflows/failureanalysis/redact"
)

// Bounds of the one-line forms, in bytes before escaping.
const (
	// MaxPlain bounds Plain's text.
	MaxPlain = 500
	// MaxOneLine bounds OneLine's text (a check run title).
	MaxOneLine = 250
)

// escaper turns the characters Markdown or HTML would interpret into inert text: HTML's three
// into entities, Markdown's punctuation backslash-escaped, and a zero-width space after "@" and
// "#" so that neither a mention nor an issue reference is formed (both would notify someone).
var escaper = strings.NewReplacer(
	"\r", " ", "\n", " ",
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "@", "@\u200b", "#", "#\u200b",
	"[", `\[`, "]", `\]`, "*", `\*`, "_", `\_`, "`", "\\`", "|", `\|`, `\`, `\\`, "~", `\~`,
)

// Text is untrusted text redacted and escaped for Markdown, on one line and not shortened: no
// HTML, no mentions, no links, no emphasis, no issue references, no table cells.
func Text(s string) string {
	return escaper.Replace(redact.String(s))
}

// Plain is Text of at most MaxPlain bytes (cut on a rune boundary, the cut marked).
func Plain(s string) string {
	s = redact.String(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
	return escaper.Replace(Truncate(s, MaxPlain))
}

// OneLine is untrusted text redacted, its whitespace runs made single spaces, of at most
// MaxOneLine bytes: for fields GitHub shows as plain text (a check run's title).
func OneLine(s string) string {
	return Truncate(strings.Join(strings.Fields(redact.String(s)), " "), MaxOneLine)
}

// Truncate cuts s to at most n bytes on a rune boundary and marks the cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Code renders text as an inline code span, in which neither Markdown nor HTML is interpreted:
// the delimiter is one backtick longer than any run inside, line breaks become spaces, and a
// space pads text that starts or ends with a backtick (CommonMark strips one on each side).
func Code(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	if s == "" || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return ticks + s + ticks
}

// Fence returns a code fence longer than any backtick run in text (at least three backticks),
// so text inside the fence cannot close it.
func Fence(text string) string {
	return strings.Repeat("`", max(3, longestRun(text, '`')+1))
}

// CodeBlock renders multi-line text as a fenced code block of the given info string ("text").
func CodeBlock(text, info string) string {
	fence := Fence(text)
	return fence + info + "\n" + strings.TrimRight(text, "\n") + "\n" + fence
}

// ShortSHA abbreviates a commit SHA to seven characters, as GitHub shows it.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// SafeURL keeps an http(s) URL (as GitHub gives it) usable as a link target, escaping what
// would end the link early, and turns anything else into "#".
func SafeURL(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
	}
	return "#"
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
