package loganalysis

import (
	"bytes"
	"unicode/utf8"
)

// maxLineBytes caps how much of one input line is kept and examined.
const maxLineBytes = 1024

// stripTimestamp removes a leading GitHub Actions timestamp
// ("2024-05-01T12:00:00.1234567Z ") from b.
func stripTimestamp(b []byte) []byte {
	if len(b) < 21 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || !isDigit(b[0]) || !isDigit(b[3]) {
		return b
	}
	end := len(b)
	if end > 40 {
		end = 40
	}
	for i := 19; i < end; i++ {
		switch c := b[i]; {
		case c == 'Z':
			if i+1 < len(b) && b[i+1] == ' ' {
				return b[i+2:]
			}
			return b[i+1:]
		case c == ' ':
			return b[i+1:]
		case isDigit(c) || c == '.' || c == ':' || c == '+' || c == '-':
		default:
			return b
		}
	}
	return b
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// stripANSI appends b without ANSI escape sequences (CSI "\x1b[...m" and OSC
// "\x1b]...\x07") to dst and returns the result.
func stripANSI(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != 0x1b {
			dst = append(dst, c)
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case '[':
			j := i + 2
			for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
				j++
			}
			i = j
		case ']':
			j := i + 2
			for j < len(b) && b[j] != 0x07 && !(b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\') {
				j++
			}
			if j < len(b) && b[j] == 0x1b {
				j++
			}
			i = j
		default:
			i++
		}
	}
	return dst
}

// truncateUTF8 cuts b to at most n bytes without splitting a UTF-8 sequence.
func truncateUTF8(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
	for k := 0; k < utf8.UTFMax && len(b) > 0; k++ {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size != 1 {
			break
		}
		if b[len(b)-1] < 0x80 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

var (
	markGroup    = []byte("##[group]")
	markEndGroup = []byte("##[endgroup]")
	markError    = []byte("##[error]")
	markWarning  = []byte("##[warning]")
	markRun      = []byte("Run ")
	bom          = []byte("\xef\xbb\xbf")
)

// matchBody returns the part of a normalized line that rules examine: the
// text without a leading "##[error]" / "##[warning]" marker, a Docker
// BuildKit step prefix ("#12 3.456 ") or the bare time of BuildKit's error
// recap ("45.02 "), an Earthly target prefix ("      +check | "), act's
// "| " or Terraform's "│ " diagnostic bar, and whether the line was an
// error annotation.
func matchBody(text []byte) (body []byte, annotated bool) {
	body = text
	if len(body) > 5 {
		switch c := body[0]; {
		case c == ' ' || c == '+':
			if rest, ok := cutEarthlyTarget(body); ok {
				body = rest
			}
		case isDigit(c):
			if rest, ok := cutBuildKitTime(body); ok {
				return rest, false
			}
		case c == '|' && body[1] == ' ':
			// nektos/act's step output ("| Error: ...").
			return body[2:], false
		case bytes.HasPrefix(body, boxBar):
			// Terraform's boxed diagnostics ("│ Error: ...").
			return bytes.TrimPrefix(body[len(boxBar):], []byte(" ")), false
		}
	}
	if len(body) > 3 && body[0] == '#' && body[1] == '#' && body[2] == '[' {
		switch {
		case bytes.HasPrefix(body, markError):
			return body[len(markError):], true
		case bytes.HasPrefix(body, markWarning):
			return body[len(markWarning):], false
		}
	}
	if len(body) > 3 && body[0] == '#' && isDigit(body[1]) {
		i := 1
		for i < len(body) && isDigit(body[i]) {
			i++
		}
		if i < len(body) && body[i] == ' ' {
			j := i + 1
			for j < len(body) && (isDigit(body[j]) || body[j] == '.') {
				j++
			}
			if j > i+1 && j < len(body) && body[j] == ' ' {
				return body[j+1:], false
			}
			return body[i+1:], false
		}
	}
	return body, false
}

// cutBuildKitTime cuts the elapsed-seconds prefix BuildKit puts on a step's
// output in its error recap ("45.02 Type error: ..."): 1-5 digits, a dot,
// 2-3 digits and a space.
func cutBuildKitTime(b []byte) ([]byte, bool) {
	i := 0
	for i < len(b) && i < 6 && isDigit(b[i]) {
		i++
	}
	if i == 0 || i > 5 || i >= len(b) || b[i] != '.' {
		return b, false
	}
	j := i + 1
	for j < len(b) && isDigit(b[j]) {
		j++
	}
	if d := j - i - 1; d < 2 || d > 3 || j >= len(b) || b[j] != ' ' {
		return b, false
	}
	return b[j+1:], true
}

// cutEarthlyTarget cuts Earthly's right-aligned target prefix
// ("            +check | " or "+build *failed* | ") from a line.
func cutEarthlyTarget(b []byte) ([]byte, bool) {
	i := 0
	for i < len(b) && i < 80 && b[i] == ' ' {
		i++
	}
	if i >= len(b) || b[i] != '+' {
		return b, false
	}
	j := i + 1
	for j < len(b) && isTargetByte(b[j]) {
		j++
	}
	if j == i+1 {
		return b, false
	}
	rest := bytes.TrimPrefix(b[j:], earthlyFailed)
	if len(rest) < 2 || rest[0] != ' ' || rest[1] != '|' {
		return b, false
	}
	rest = rest[2:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return rest, true
}

var (
	earthlyFailed = []byte(" *failed*")
	boxBar        = []byte("\u2502")
)

func isTargetByte(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// isIndented reports whether the line starts with a space or tab.
func isIndented(b []byte) bool { return len(b) > 0 && (b[0] == ' ' || b[0] == '\t') }

// isBlank reports whether b holds only spaces and tabs.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// isMarker reports whether the line is a workflow-command marker that adds
// nothing to an excerpt.
func isMarker(b []byte) bool {
	return bytes.HasPrefix(b, markGroup) || bytes.HasPrefix(b, markEndGroup)
}
