package redact

import "strings"

// pemEnd stands for the END line of a masked private key block.
const pemEnd = "-----END PRIVATE KEY-----"

// lineKind is what a line is within the private key and certificate blocks of a text.
type lineKind uint8

const (
	plainLine    lineKind = iota
	keyBody               // inside a private key block
	keyEnd                // the END line of a private key block
	publicBody            // inside a certificate or public key block: kept
	orphanBody            // base64 key material whose BEGIN line is not in the text
	orphanKeyEnd          // a private key END line whose BEGIN line is not in the text
)

// Lines redacts each line like String and additionally masks private key
// blocks (PEM, OpenSSH, PGP) that span several lines: the lines between the
// BEGIN and END lines, and also the body of a block whose BEGIN line is not
// among the lines (runs of 64-character base64 lines, the short last line, a
// PGP checksum, the END line). Certificate and public key blocks are kept. It
// returns a new slice; the input is not modified.
func Lines(lines []string) []string {
	kinds := classify(lines)
	out := make([]string, len(lines))
	for i, l := range lines {
		switch kinds[i] {
		case keyBody, orphanBody:
			if strings.TrimSpace(l) == "" {
				out[i] = l
			} else {
				out[i] = Mask
			}
		case keyEnd, orphanKeyEnd:
			out[i] = pemEnd + line(afterEnd(l))
		default:
			out[i] = line(l)
		}
	}
	return out
}

// classify finds the blocks in lines.
func classify(lines []string) []lineKind {
	kinds := make([]lineKind, len(lines))
	inKey, inPublic := false, false
	for i, l := range lines {
		switch {
		case inKey:
			if isPrivateEnd(l) {
				kinds[i], inKey = keyEnd, false
			} else {
				kinds[i] = keyBody
			}
			continue
		case inPublic:
			kinds[i] = publicBody
			if strings.Contains(l, "-----END") {
				inPublic = false
			}
			continue
		}
		if j := strings.Index(l, "-----BEGIN"); j >= 0 && !strings.Contains(l[j:], "-----END") {
			if strings.Contains(l[j:], "PRIVATE KEY") {
				inKey = true
			} else {
				inPublic = true
			}
		}
	}
	// Key material without its BEGIN line: a run of full base64 lines, then the short last
	// line, a PGP checksum and the END line; or base64 lines just above a lone END line.
	for i := 0; i < len(lines); i++ {
		if kinds[i] != plainLine {
			continue
		}
		if isPrivateEnd(lines[i]) {
			kinds[i] = orphanKeyEnd
			for j := i - 1; j >= 0 && kinds[j] == plainLine && (isBody64(lines[j]) || isBodyTail(lines[j]) || isPGPChecksum(lines[j])); j-- {
				kinds[j] = orphanBody
			}
			continue
		}
		if !isBody64(lines[i]) {
			continue
		}
		j := i
		for j < len(lines) && kinds[j] == plainLine && isBody64(lines[j]) {
			kinds[j] = orphanBody
			j++
		}
		if j < len(lines) && kinds[j] == plainLine && isBodyTail(lines[j]) {
			kinds[j] = orphanBody
			j++
		}
		if j < len(lines) && kinds[j] == plainLine && isPGPChecksum(lines[j]) {
			kinds[j] = orphanBody
			j++
		}
		i = j - 1
	}
	return kinds
}

// isPrivateEnd reports the END line of a private key block (not a whole block on one line).
func isPrivateEnd(l string) bool {
	j := strings.Index(l, "-----END")
	return j >= 0 && strings.Contains(l[j:], "PRIVATE KEY") && !strings.Contains(l[:j], "-----BEGIN")
}

// afterEnd is what follows the END marker of a private key block on its line.
func afterEnd(l string) string {
	j := strings.Index(l, "-----END")
	k := strings.Index(l[j+len("-----END"):], "-----")
	if k < 0 {
		return ""
	}
	return l[j+len("-----END")+k+len("-----"):]
}

// isBody64 reports a full line of PEM or PGP armor: 64 base64 characters with both cases.
func isBody64(l string) bool {
	t := strings.TrimSpace(l)
	if len(t) != 64 {
		return false
	}
	upper, lower := false, false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9', c == '+', c == '/':
		default:
			return false
		}
	}
	return upper && lower
}

// isBodyTail reports the last, shorter line of a base64 body: base64 characters, maybe '='
// padding, and not a plain word.
func isBodyTail(l string) bool {
	t := strings.TrimSpace(l)
	body := strings.TrimRight(t, "=")
	if len(body) < 4 || len(body) > 64 || len(t)-len(body) > 2 {
		return false
	}
	upper, lower, other := false, false, len(t) != len(body)
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9', c == '+', c == '/':
			other = true
		default:
			return false
		}
	}
	return other || upper && lower && len(body) >= 16
}

// isPGPChecksum reports a PGP armor checksum line ("=AbCd").
func isPGPChecksum(l string) bool {
	t := strings.TrimSpace(l)
	if len(t) != 5 || t[0] != '=' {
		return false
	}
	for i := 1; i < 5; i++ {
		if !isAlnum(t[i]) && t[i] != '+' && t[i] != '/' {
			return false
		}
	}
	return true
}
