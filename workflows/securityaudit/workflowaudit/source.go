package workflowaudit

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/rhysd/actionlint"
)

// source indexes the raw bytes of a file by line, to map AST positions back to exact
// offsets: actionlint positions a multi-line scalar only at its start.
type source struct {
	b     []byte
	start []int // byte offset of each line, 0-based line index
}

func newSource(b []byte) *source {
	s := &source{b: b, start: []int{0}}
	for i, c := range b {
		if c == '\n' {
			s.start = append(s.start, i+1)
		}
	}
	return s
}

// line returns the text of 1-based line n without its newline, "" when out of range.
func (s *source) line(n int) string {
	if n < 1 || n > len(s.start) {
		return ""
	}
	end := len(s.b)
	if n < len(s.start) {
		end = s.start[n] - 1
	}
	return strings.TrimSuffix(string(s.b[s.start[n-1]:end]), "\r")
}

func (s *source) lines() int { return len(s.start) }

// offset converts a 1-based line and rune column into a byte offset.
func (s *source) offset(line, col int) int {
	if line < 1 {
		return 0
	}
	if line > len(s.start) {
		return len(s.b)
	}
	off := s.start[line-1]
	for i := 1; i < col && off < len(s.b) && s.b[off] != '\n'; i++ {
		_, n := utf8.DecodeRune(s.b[off:])
		off += n
	}
	return off
}

// pos converts a byte offset into a 1-based line and rune column.
func (s *source) pos(off int) (int, int) {
	lo, hi := 0, len(s.start)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if s.start[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, utf8.RuneCount(s.b[s.start[lo]:off]) + 1
}

// expr is one ${{ }} placeholder of a scalar, located in the file.
type expr struct {
	Inner      string              // text between ${{ and }}
	Node       actionlint.ExprNode // nil when it does not parse
	Line, Col  int                 // position of "${{"
	Start, End int                 // byte span of "${{ … }}" in the file; End is -1 when the source differs from the value
}

// exprsIn finds the placeholders of str. The k-th "${{" of the value is the k-th "${{" in the
// file from the scalar's start: YAML quoting and folding never split or create that token.
func (s *source) exprsIn(str *actionlint.String) []expr {
	if str == nil || str.Pos == nil || !strings.Contains(str.Value, "${{") {
		return nil
	}
	var out []expr
	v := str.Value
	cursor := s.offset(str.Pos.Line, str.Pos.Col)
	for {
		i := strings.Index(v, "${{")
		if i < 0 {
			break
		}
		rest := v[i+3:]
		var node actionlint.ExprNode
		inner := rest
		consumed := len(rest)
		l := actionlint.NewExprLexer(rest)
		if n, err := actionlint.NewExprParser().Parse(l); err == nil {
			node = n
			consumed = l.Offset()
			inner = strings.TrimSuffix(strings.TrimSpace(rest[:consumed]), "}}")
		} else if j := strings.Index(rest, "}}"); j >= 0 {
			consumed = j + 2
			inner = rest[:j]
		}
		inner = strings.TrimSpace(inner)
		e := expr{Inner: inner, Node: node, Start: -1, End: -1}
		if k := bytes.Index(s.b[min(cursor, len(s.b)):], []byte("${{")); k >= 0 {
			e.Start = cursor + k
			e.Line, e.Col = s.pos(e.Start)
			whole := v[i : i+3+consumed]
			if e.Start+len(whole) <= len(s.b) && bytes.Equal(s.b[e.Start:e.Start+len(whole)], []byte(whole)) {
				e.End = e.Start + len(whole)
			}
			cursor = e.Start + 3
		} else {
			e.Line, e.Col = str.Pos.Line, str.Pos.Col
		}
		out = append(out, e)
		v = rest[min(consumed, len(rest)):]
	}
	return out
}

// scriptLine is one line of a script scalar with its position in the file.
type scriptLine struct {
	Text      string
	Line, Col int // position of the first byte of Text
}

// scriptLines splits a run: or script: value into lines located in the file. Each value
// line is searched from the previous match on; a line that cannot be found (folded text)
// takes the position of the previous one.
func (s *source) scriptLines(str *actionlint.String) []scriptLine {
	if str == nil || str.Pos == nil {
		return nil
	}
	var out []scriptLine
	cur := str.Pos.Line
	for _, text := range strings.Split(str.Value, "\n") {
		t := strings.TrimSpace(text)
		if t == "" {
			continue
		}
		line, col := cur, str.Pos.Col
		for n := cur; n <= s.lines() && n <= cur+200; n++ {
			if k := strings.Index(s.line(n), t); k >= 0 {
				line, col = n, utf8.RuneCountInString(s.line(n)[:k])+1
				cur = n
				break
			}
		}
		out = append(out, scriptLine{Text: t, Line: line, Col: col})
	}
	return out
}

// colOf returns the file column of byte index i of a located script line.
func (l scriptLine) colOf(i int) int {
	return l.Col + utf8.RuneCountInString(l.Text[:i])
}
