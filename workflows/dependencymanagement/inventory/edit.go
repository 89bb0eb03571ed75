package inventory

import (
	"bytes"
	"fmt"
)

// MismatchError is returned by ReplaceAt when the bytes at the position are
// not the expected old version string (the file changed since it was read).
type MismatchError struct {
	Line, Column int
	Want, Found  string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("version string at %d:%d is %q, not %q", e.Line, e.Column, e.Found, e.Want)
}

// PositionError is returned by ReplaceAt for a line or column outside src.
type PositionError struct {
	Line, Column int
}

func (e *PositionError) Error() string {
	return fmt.Sprintf("position %d:%d is outside the file", e.Line, e.Column)
}

// ReplaceAt returns a copy of src in which the string old starting at line
// and col (1-based, col in bytes, as Dependency reports them) is replaced by
// repl. Every other byte is kept. It fails with *MismatchError when the
// bytes there are not old, or when old would run past the end of its line.
func ReplaceAt(src []byte, line, col int, old, repl string) ([]byte, error) {
	off, end, err := lineBounds(src, line, col)
	if err != nil {
		return nil, err
	}
	if old == "" || bytes.ContainsAny([]byte(old), "\r\n") {
		return nil, fmt.Errorf("failed to replace version: invalid old string %q", old)
	}
	if bytes.ContainsAny([]byte(repl), "\r\n") {
		return nil, fmt.Errorf("failed to replace version: invalid new string %q", repl)
	}
	found := string(src[off:min(off+len(old), end)])
	if found != old {
		return nil, &MismatchError{Line: line, Column: col, Want: old, Found: found}
	}
	out := make([]byte, 0, len(src)-len(old)+len(repl))
	out = append(out, src[:off]...)
	out = append(out, repl...)
	return append(out, src[off+len(old):]...), nil
}

// lineBounds returns the byte offset of line:col and the offset of the end
// of that line (before its newline).
func lineBounds(src []byte, line, col int) (int, int, error) {
	if line < 1 || col < 1 {
		return 0, 0, &PositionError{Line: line, Column: col}
	}
	start := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[start:], '\n')
		if i < 0 {
			return 0, 0, &PositionError{Line: line, Column: col}
		}
		start += i + 1
	}
	end := len(src)
	if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
		end = start + i
	}
	if end > start && src[end-1] == '\r' {
		end--
	}
	off := start + col - 1
	if off > end {
		return 0, 0, &PositionError{Line: line, Column: col}
	}
	return off, end, nil
}

// position converts a byte offset in src to a 1-based line and byte column.
func position(src []byte, off int) (int, int) {
	line := 1 + bytes.Count(src[:off], []byte{'\n'})
	lineStart := bytes.LastIndexByte(src[:off], '\n') + 1
	return line, off - lineStart + 1
}
