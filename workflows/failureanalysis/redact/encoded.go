package redact

import (
	"encoding/base64"
	"strings"
)

// minEncoded is the shortest base64 run that is decoded and searched.
const minEncoded = 16

// findEncoded appends the base64 runs of s that decode to a secret or a user:password pair
// (a docker "auth", an npm "_auth", a Basic credential) and that no span covers yet.
func (rs *ruleSet) findEncoded(s string, spans []span) []span {
	for i := 0; i < len(s); {
		if !isBase64Byte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isBase64Byte(s[j]) {
			j++
		}
		k := j
		for k < len(s) && k-j < 2 && s[k] == '=' {
			k++
		}
		if j-i >= minEncoded && !covered(spans, i, k) && rs.encodedSecret(s[i:j]) {
			spans = append(spans, span{start: i, end: k, repl: Mask})
		}
		i = k
	}
	return spans
}

// encodedSecret decodes the unpadded base64 text t and reports whether it holds a secret.
func (rs *ruleSet) encodedSecret(t string) bool {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(t, "-_") {
		if strings.ContainsAny(t, "+/") {
			return false
		}
		enc = base64.RawURLEncoding
	}
	if len(t)%4 == 1 {
		t = t[:len(t)-1]
	}
	// Decoding into buffers on the stack keeps ordinary text (paths, identifiers) free of
	// allocations.
	var src, dst [768]byte
	var d []byte
	if len(t) <= len(src) {
		n := copy(src[:], t)
		m, err := enc.Decode(dst[:], src[:n])
		if err != nil {
			return false
		}
		d = dst[:m]
	} else {
		var err error
		if d, err = enc.DecodeString(t); err != nil {
			return false
		}
	}
	if len(d) < 8 {
		return false
	}
	for _, c := range d {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	text := string(d)
	if isUserPassword(text) {
		return true
	}
	return len(rs.find(text, nil, false)) > 0
}

// isUserPassword reports "user:password" with a password of at least 4 characters.
func isUserPassword(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 1 || i > 64 || len(s)-i-1 < 4 {
		return false
	}
	for j := 0; j < len(s); j++ {
		c := s[j]
		if c <= ' ' || c > '~' {
			return false
		}
		if j < i && !(isAlnum(c) || strings.IndexByte("._@+-", c) >= 0) {
			return false
		}
	}
	return true
}

// covered reports whether a span overlaps [a, b).
func covered(spans []span, a, b int) bool {
	for _, sp := range spans {
		if sp.start < b && a < sp.end {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isBase64Byte(c byte) bool {
	return isAlnum(c) || c == '+' || c == '/' || c == '-' || c == '_'
}
