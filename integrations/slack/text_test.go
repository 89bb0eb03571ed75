package slack_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/integrations/slack"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{name: "fits", in: "hello", limit: 5, want: "hello"},
		{name: "ascii cut", in: "hello world", limit: 6, want: "hello…"},
		{name: "multibyte cut on rune", in: "日本語テキスト", limit: 4, want: "日本語…"},
		{name: "emoji", in: "🙂🙂🙂🙂", limit: 3, want: "🙂🙂…"},
		{name: "never inside an entity", in: "ab&amp;cd", limit: 5, want: "ab…"},
		{name: "entity kept whole", in: "ab&lt;cdef", limit: 8, want: "ab&lt;c…"},
		{name: "raw ampersand is not an entity", in: "ab&cdefgh", limit: 5, want: "ab&c…"},
		{name: "limit one", in: "abc", limit: 1, want: "…"},
		{name: "limit zero", in: "abc", limit: 0, want: ""},
		{name: "invalid utf-8 replaced", in: "a\xffb", limit: 10, want: "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, slack.Truncate(tt.in, tt.limit))
		})
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a & b", "a &amp; b"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"&amp;", "&amp;amp;"},
		{"*bold* _it_", "*bold* _it_"},
		{"bad\xff", "bad\uFFFD"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, slack.Escape(tt.in), tt.in)
	}
}
