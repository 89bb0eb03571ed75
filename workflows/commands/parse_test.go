package commands

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/store"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		prefix string
		want   []Command
	}{
		{name: "single", body: "/ci retry", want: []Command{{Name: "retry", Line: 1}}},
		{name: "args", body: "/ci analyze 123", want: []Command{{Name: "analyze", Args: []string{"123"}, Line: 1}}},
		{name: "prefix alone is help", body: "/ci", want: []Command{{Name: "help", Line: 1}}},
		{name: "not at line start", body: "please run /ci retry", want: nil},
		{name: "prefix must be a word", body: "/circle retry", want: nil},
		{name: "custom prefix", body: "!ci help\n/ci retry", prefix: "!ci", want: []Command{{Name: "help", Line: 1}}},
		{name: "custom prefix alone", body: "!CI", prefix: "!ci", want: []Command{{Name: "help", Line: 1}}},
		{name: "leading spaces allowed", body: "   /ci retry", want: []Command{{Name: "retry", Line: 1}}},
		{name: "indented code", body: "    /ci retry", want: nil},
		{name: "tab indented code", body: "\t/ci retry", want: nil},
		{name: "quoted", body: "> /ci retry\n>/ci cancel", want: nil},
		{name: "fenced backticks", body: "```\n/ci retry\n```\n/ci status", want: []Command{{Name: "status", Line: 4}}},
		{name: "fenced tildes", body: "~~~sh\n/ci retry\n~~~\n", want: nil},
		{name: "unclosed fence", body: "```\n/ci retry", want: nil},
		{name: "longer closing fence needed", body: "````\n```\n/ci retry\n````\n/ci help", want: []Command{{Name: "help", Line: 5}}},
		{name: "several in order", body: "hi\n/ci retry\r\ntext\n/ci analyze 5\n/ci status", want: []Command{
			{Name: "retry", Line: 2}, {Name: "analyze", Args: []string{"5"}, Line: 4}, {Name: "status", Line: 5}}},
		{name: "app mention", body: "@autonomous-ci help", want: []Command{{Name: "help", Line: 1}}},
		{name: "app bot mention", body: "@autonomous-ci[bot] retry", want: []Command{{Name: "retry", Line: 1}}},
		{name: "other mention", body: "@someone help", want: nil},
		{name: "mention must be a word", body: "@autonomous-cix help", want: nil},
		{name: "custom prefix", body: "/bot retry\n/ci retry", prefix: "/bot", want: []Command{{Name: "retry", Line: 1}}},
		{name: "case-insensitive", body: "/CI Retry\n@Autonomous-CI HELP", want: []Command{{Name: "retry", Line: 1}, {Name: "help", Line: 2}}},
		{name: "args keep case", body: "/ci analyze ABC", want: []Command{{Name: "analyze", Args: []string{"ABC"}, Line: 1}}},
		{name: "empty", body: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Parse(tt.body, tt.prefix, "autonomous-ci"))
		})
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("/ci status\n", MaxCommands+5)
	require.Len(t, Parse(body, "", "app"), MaxCommands)

	long := "/ci analyze " + strings.Repeat("x", 500) + strings.Repeat(" a", 50)
	cmds := Parse(long, "", "app")
	require.Len(t, cmds, 1)
	require.Len(t, cmds[0].Args, maxArgs)
	require.Len(t, cmds[0].Args[0], maxArgLen)

	// The command name is untrusted too: it is logged, recorded and quoted in the reply.
	cmds = Parse("/ci "+strings.Repeat("é", 500), "", "app")
	require.Len(t, cmds, 1)
	require.LessOrEqual(t, len(cmds[0].Name), maxArgLen)
	require.True(t, utf8.ValidString(cmds[0].Name))
}

func TestMayHoldCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want bool
	}{
		{"/ci retry", true},
		{"/deploy", true},
		{"@app help", true},
		{"@APP help", true},
		{"@application help", false},
		{"hello /ci retry", false},
		{"```\n/ci retry\n```", false},
		{"> /ci retry", false},
		{"LGTM", false},
		// Every prefix config.Validate accepts passes the filter; Markdown lines do not.
		{"!ci help", true},
		{"  .bot retry", true},
		{"$ci status", true},
		{"- [ ] /ci retry", false},
		{"* item", false},
		{"# Heading", false},
		{"| a | b |", false},
		{":+1:", false},
		{"ci help", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, MayHoldCommand(tt.body, "app"), tt.body)
	}
	for _, mark := range config.PrefixMarks {
		prefix := string(mark) + "ci"
		require.Empty(t, config.RepoConfig{Commands: config.CommandsConfig{Prefix: prefix}}.Validate(), prefix)
		body := "Thanks!\n" + prefix + " help"
		require.True(t, MayHoldCommand(body, ""), prefix)
		require.Equal(t, []Command{{Name: "help", Line: 2}}, Parse(body, prefix, "app"), prefix)
	}
	require.False(t, MayHoldCommand("@ help", ""))
}

func TestIsBotAndTag(t *testing.T) {
	t.Parallel()
	require.True(t, IsBot("renovate[bot]", "Bot", "app"))
	require.True(t, IsBot("app[bot]", "User", "app"))
	require.True(t, IsBot("App", "User", "app"))
	require.False(t, IsBot("octocat", "User", "app"))
	require.Equal(t, "pr-42-7", PRTag(42, 7))
}

func TestLedgerBind(t *testing.T) {
	t.Parallel()
	q := `SELECT a FROM t WHERE b = ? AND c = ?`
	require.Equal(t, q, ledger{dialect: store.SQLite}.bind(q))
	require.Equal(t, `SELECT a FROM t WHERE b = $1 AND c = $2`, ledger{dialect: store.Postgres}.bind(q))
}

// TestReplyHoldsNoCommand renders a reply full of hostile text (a configuration error and run
// names quoting commands, fences, mentions) and checks that no line of it reads as a command,
// should a bot's comment ever get past the bot filter.
func TestReplyHoldsNoCommand(t *testing.T) {
	t.Parallel()
	s := &session{
		w:       &Worker{deps: Deps{AppSlug: "autonomous-ci"}},
		args:    testArgs,
		prefix:  DefaultPrefix,
		author:  "alice",
		comment: &github.IssueComment{HTMLURL: github.String("https://github.com/acme/widgets/pull/7#issuecomment-9001")},
		cfgErr:  errors.New("bad yaml\n/ci retry\n```\n/ci cancel\n~~~\n@autonomous-ci retry"),
	}
	run := &github.WorkflowRun{Name: github.String("\n/ci retry"), RunNumber: github.Int(3), HTMLURL: github.String("https://github.com/acme/widgets/actions/runs/3")}
	help, err := s.help(context.Background(), Command{Name: "help"})
	require.NoError(t, err)
	body := s.render([]result{
		{Command: Command{Name: "help"}, Outcome: help},
		{Command: Command{Name: "retry"}, Outcome: outcome{Status: statusDone, Text: "- " + runLink(run) + ": re-run requested."}},
		{Command: Command{Name: "x`", Args: []string{"/ci", "retry"}}, Outcome: outcome{Status: statusRefused, Text: "Unknown command " + markdown.Code("x`")}},
	})
	require.Empty(t, Parse(body, DefaultPrefix, "autonomous-ci"), body)
}
