package markdown

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// markdownLink, mention, htmlTag and issueRef find what untrusted text must never become.
var (
	markdownLink = regexp.MustCompile(`(^|[^\\])\[[^\]]*[^\\]\]\(`)
	mention      = regexp.MustCompile(`@[A-Za-z0-9]`)
	htmlTag      = regexp.MustCompile(`<[A-Za-z/!]`)
	issueRef     = regexp.MustCompile(`#[0-9]`)
)

func TestPlain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"ordinary text", "expected 3, got 4", "expected 3, got 4"},
		{"html", `<img src=x onerror=alert(1)>&copy;`, "&lt;img src=x onerror=alert(1)&gt;&amp;copy;"},
		{"mention", "ping @octocat and @acme/security", "ping @\u200boctocat and @\u200bacme/security"},
		{"markdown link", "[click me](https://evil.example)", `\[click me\](https://evil.example)`},
		{"escaped bracket trick", `\[x\](https://evil.example)`, `\\\[x\\\](https://evil.example)`},
		{"emphasis and code", "*bold* _it_ `code` ~gone~", "\\*bold\\* \\_it\\_ \\`code\\` \\~gone\\~"},
		{"table pipe", "a | b", `a \| b`},
		{"issue reference", "fixes #12 and acme/other#3", "fixes #\u200b12 and acme/other#\u200b3"},
		{"newlines", "line one\r\n## heading\n- item", "line one  #\u200b#\u200b heading - item"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, got := range []string{Plain(tc.in), Text(tc.in)} {
				require.Equal(t, tc.want, got)
				require.NotContains(t, got, "\n")
				require.False(t, markdownLink.MatchString(got), "link in %q", got)
				require.False(t, mention.MatchString(got), "mention in %q", got)
				require.False(t, htmlTag.MatchString(got), "HTML in %q", got)
				require.False(t, issueRef.MatchString(got), "issue reference in %q", got)
			}
		})
	}
}

func TestPlainRedacts(t *testing.T) {
	t.Parallel()
	secret := "ghp_" + strings.Repeat("A1b2C3d4E5", 4)[:36]
	for _, got := range []string{Plain("token " + secret), Text("token " + secret), OneLine("token " + secret)} {
		require.NotContains(t, got, secret[4:])
	}
}

func TestTruncatesOnRuneBoundary(t *testing.T) {
	t.Parallel()
	got := Plain(strings.Repeat("é", 400)) // 800 bytes
	require.True(t, utf8.ValidString(got))
	require.True(t, strings.HasSuffix(got, "…"))
	require.LessOrEqual(t, len(got), MaxPlain+len("…"))
	line := OneLine(strings.Repeat("ü ", 200))
	require.True(t, utf8.ValidString(line))
	require.LessOrEqual(t, len(line), MaxOneLine+len("…"))
	require.Equal(t, "abc", Truncate("abc", 3))
	require.Equal(t, "a…", Truncate("aéb", 2))
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	require.Equal(t, "build failed: exit 1", OneLine("  build\tfailed:\r\n exit 1 "))
}

func TestCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "go test ./...", "`go test ./...`"},
		{"one backtick", "echo `date`", "`` echo `date` ``"},
		{"runs of one and two", "a ` b `` c", "```a ` b `` c```"},
		{"fence inside", "```js", "```` ```js ````"},
		{"quoted", "`x`", "`` `x` ``"},
		{"html and mention stay inert in code", "<b>@admins</b>", "`<b>@admins</b>`"},
		{"newlines", "a\nb\r\nc", "`a b  c`"},
		{"empty", "", "`  `"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Code(tc.in)
			require.Equal(t, tc.want, got)
			// The delimiter run never appears inside: the span cannot be closed early.
			ticks := got[:strings.IndexFunc(got, func(r rune) bool { return r != '`' })]
			require.NotContains(t, got[len(ticks):len(got)-len(ticks)], ticks)
		})
	}
}

func TestFence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"no backticks", "FAIL TestX", "```"},
		{"inline backticks", "use `go vet`", "```"},
		{"a fence in the log", "```\n</details>\n@admins", "````"},
		{"a longer fence", "`````", "``````"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fence := Fence(tc.text)
			require.Equal(t, tc.want, fence)
			require.NotContains(t, tc.text, fence)
		})
	}
	require.Equal(t, "````text\n```\nx\n````", CodeBlock("```\nx\n", "text"))
}

func TestShortSHAAndSafeURL(t *testing.T) {
	t.Parallel()
	require.Equal(t, "0123456", ShortSHA("0123456789abcdef"))
	require.Equal(t, "abc", ShortSHA("abc"))
	require.Equal(t, "https://github.com/a/b%29%28x%20y", SafeURL("https://github.com/a/b)(x y"))
	require.Equal(t, "#", SafeURL("javascript:alert(1)"))
}
