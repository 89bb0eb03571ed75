package commands

import (
	"iter"
	"strings"
	"unicode"

	"github.com/contexten/autonomous/config"
)

// DefaultPrefix is the command prefix when the repository configures none.
const DefaultPrefix = "/ci"

// MaxCommands is how many commands of one comment are run; later ones are ignored.
const MaxCommands = 10

// maxArgs and maxArgLen bound what one command line may carry.
const (
	maxArgs   = 10
	maxArgLen = 100
)

// Command is one command found in a comment.
type Command struct {
	// Name is the lower-cased command name, "help" when the prefix stands alone.
	Name string
	// Args are the whitespace-separated words after the name.
	Args []string
	// Line is the 1-based line of the comment the command is on.
	Line int
}

// Text renders the command as a user would write it with prefix.
func (c Command) Text(prefix string) string {
	return strings.Join(append([]string{prefix, c.Name}, c.Args...), " ")
}

// Parse returns the commands of a comment body in order, at most MaxCommands. A command is a line
// that starts (after at most three spaces) with prefix (DefaultPrefix when empty) or with
// "@<appSlug>" (also "@<appSlug>[bot]"), followed by a space or the end of the line; matching is
// case-insensitive. Lines in fenced code blocks, quoted lines and indented code are not commands.
func Parse(body, prefix, appSlug string) []Command {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	var triggers []string
	triggers = append(triggers, prefix)
	if appSlug != "" {
		triggers = append(triggers, "@"+appSlug+"[bot]", "@"+appSlug)
	}
	var out []Command
	for n, text := range Lines(body) {
		rest, ok := afterTrigger(text, triggers)
		if !ok {
			continue
		}
		c := Command{Name: "help", Line: n}
		if fields := strings.Fields(rest); len(fields) > 0 {
			c.Name = strings.ToLower(truncate(fields[0]))
			for _, a := range fields[1:min(len(fields), maxArgs+1)] {
				c.Args = append(c.Args, truncate(a))
			}
		}
		out = append(out, c)
		if len(out) == MaxCommands {
			break
		}
	}
	return out
}

// truncate cuts an untrusted word to maxArgLen bytes, on a rune boundary.
func truncate(word string) string {
	if len(word) <= maxArgLen {
		return word
	}
	return strings.ToValidUTF8(word[:maxArgLen], "")
}

// MayHoldCommand reports whether some line of body, outside code and quotes, starts with one of
// config.PrefixMarks (the first character of every valid prefix: "/ci", "!ci", …) or with
// "@<appSlug>": what the webhook handler can tell without the repository's configured prefix.
// The worker applies the configured prefix precisely.
func MayHoldCommand(body, appSlug string) bool {
	var mentions []string
	if appSlug != "" {
		mentions = []string{"@" + appSlug + "[bot]", "@" + appSlug}
	}
	for _, text := range Lines(body) {
		if text != "" && strings.IndexByte(config.PrefixMarks, text[0]) >= 0 {
			return true
		}
		if _, ok := afterTrigger(text, mentions); ok {
			return true
		}
	}
	return false
}

// afterTrigger returns what follows the first trigger text starts with, when the trigger is a
// whole word.
func afterTrigger(text string, triggers []string) (string, bool) {
	for _, t := range triggers {
		if len(text) < len(t) || !strings.EqualFold(text[:len(t)], t) {
			continue
		}
		rest := text[len(t):]
		if rest == "" || unicode.IsSpace(rune(rest[0])) {
			return rest, true
		}
	}
	return "", false
}

// Lines yields the lines of a Markdown body that may hold a command, with their 1-based numbers
// and without leading spaces: lines inside fenced code blocks (``` or ~~~), quoted lines (>) and
// indented code (four spaces or a tab) are skipped.
func Lines(body string) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		var fenceChar byte
		fenceLen := 0
		for i, raw := range strings.Split(body, "\n") {
			line := strings.TrimRight(raw, "\r")
			indent, text := indentation(line)
			if fenceLen > 0 {
				if indent < 4 && fenceRun(text, fenceChar) >= fenceLen && strings.TrimSpace(strings.TrimLeft(text, string(fenceChar))) == "" {
					fenceLen = 0
				}
				continue
			}
			if indent >= 4 {
				continue
			}
			if c := firstByte(text); c == '`' || c == '~' {
				if n := fenceRun(text, c); n >= 3 {
					fenceChar, fenceLen = c, n
					continue
				}
			}
			if strings.HasPrefix(text, ">") {
				continue
			}
			if !yield(i+1, strings.TrimRightFunc(text, unicode.IsSpace)) {
				return
			}
		}
	}
}

// indentation returns a line's indentation width (a tab counts four) and the rest of the line.
func indentation(line string) (int, string) {
	width := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			width++
		case '\t':
			width += 4
		default:
			return width, line[i:]
		}
	}
	return width, ""
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

// fenceRun counts the leading repetitions of c in s.
func fenceRun(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}
