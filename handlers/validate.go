package handlers

import (
	"encoding/binary"
	"math/bits"
)

// MaxPayloadDepth bounds how deeply a payload's arrays and objects may nest. GitHub's payloads
// nest about ten levels; a ten-million-level payload once overflowed the stack of gjson's
// recursive validator, and a Go stack overflow kills the process (it cannot be recovered), so
// a deeper payload is refused before any parse.
const MaxPayloadDepth = 512

// payloadCheck is what scan found of a payload.
type payloadCheck int

const (
	payloadValid payloadCheck = iota
	// payloadInvalid: the body is not one JSON value (RFC 8259, as encoding/json.Valid and
	// gjson.ValidBytes accept it) with only whitespace around it.
	payloadInvalid
	// payloadTooDeep: an array or object opens more than MaxPayloadDepth levels deep (the body
	// is read no further).
	payloadTooDeep
	// payloadNotObject: the body is valid JSON but not an object (the tests' checkPayload
	// accepts any JSON value).
	payloadNotObject
)

// skipSpace returns the index of the first byte at or after i that is not JSON whitespace. A
// run of spaces (an indented payload's indentation) is skipped eight bytes at a time.
func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' { // every token starts above ' '
		switch b[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
		i++
		for i+8 <= len(b) {
			if notSpaces := binary.LittleEndian.Uint64(b[i:]) ^ (' ' * ones); notSpaces != 0 {
				i += bits.TrailingZeros64(notSpaces) / 8 // the first byte that is not a space
				break
			}
			i += 8
		}
	}
	return i
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// stringSpecials marks the bytes of x (eight bytes of a string, the first the lowest) that a
// string's scan must look at: a quote, a backslash or a control character (below 0x20). The
// lowest mark is the first such byte; marks above it may be wrong, and there is none when there
// is no such byte. A byte b is a quote or below 0x20 exactly when b^0x02 is below 0x21 (the
// xor swaps bytes within 0x00-0x1f and maps the quote, 0x22, to 0x20); (y-n*ones)&^y&highs
// marks the bytes of y below n (n at most 0x80) from the lowest.
func stringSpecials(x uint64) uint64 {
	quoteOrControl := x ^ (0x02 * ones)
	backslash := x ^ ('\\' * ones)
	return ((quoteOrControl-0x21*ones)&^quoteOrControl | (backslash-ones)&^backslash) & highs
}

// skipString returns the index after the closing quote of the string whose contents start at
// i, whether the string holds an escape, and whether it is valid: no control character, only
// JSON's escapes. Like encoding/json it does not check UTF-8. It goes eight bytes at a time to
// the next byte that matters.
func skipString(b []byte, i int) (end int, escaped, ok bool) {
	for {
		for i+8 <= len(b) {
			if special := stringSpecials(binary.LittleEndian.Uint64(b[i:])); special != 0 {
				i += bits.TrailingZeros64(special) / 8
				break
			}
			i += 8
		}
		if i >= len(b) {
			return i, escaped, false
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return i, escaped, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, escaped, false
				}
				i += 6
			default:
				return i, escaped, false
			}
		case c < 0x20:
			return i, escaped, false
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipLiteral returns the index after lit (true, false or null) at i, and whether it is there.
func skipLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// skipNumber returns the index after the number at i and whether it is one:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. What may follow it is the caller's to check.
func skipNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || !isDigit(b[i+1]) {
			return i, false
		}
		i = skipDigits(b, i+2)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = skipDigits(b, i+1)
	}
	return i, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
