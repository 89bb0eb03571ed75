package loganalysis

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// fingerprintNormalizers replace the parts of root-cause lines that differ
// between otherwise identical failures (matrix jobs on other runners, other
// operating systems, other runs), in order.
var fingerprintNormalizers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{rx(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?`), "<time>"},
	{rx(`(?i)(?:[a-z]:)?[\\/](?:tmp|temp|var[\\/]folders|private[\\/]var)[\\/][^\s:'"()]*`), "<tmp>"},
	{rx(`(?i)[a-z]:\\users\\[^\\]+\\appdata\\local\\temp\\[^\s:'"()]*`), "<tmp>"},
	{rx(`(?:/home/runner/work|/Users/runner/work|/__w|[A-Za-z]:[\\/]a)[\\/][^\\/\s]+[\\/][^\\/\s]+[\\/]`), ""},
	{rx(`\\`), "/"},
	{rx(`\b0x[0-9a-fA-F]+\b`), "<hex>"},
	{rx(`\b[0-9a-fA-F]{7,}\b`), "<hex>"},
	{rx(`\d+(?:\.\d+)?(?:ns|µs|us|ms|s|m|h)\b`), "<dur>"},
	{rx(`\d+`), "N"},
	{rx(`\s+`), " "},
}

// Fingerprint returns a stable hash of the classification, the failed step
// and the normalized root-cause lines (the evidence), so that the same
// failure in several matrix jobs or runs gets the same fingerprint even when
// runner names, temporary paths, durations, addresses and timestamps differ.
func (r Result) Fingerprint() string {
	h := sha256.New()
	h.Write([]byte(r.Classification))
	h.Write([]byte{0})
	h.Write([]byte(normalizeForFingerprint(r.FailedStep)))
	for _, e := range r.Evidence {
		h.Write([]byte{0})
		h.Write([]byte(normalizeForFingerprint(e)))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// normalizeForFingerprint removes volatile parts of a line.
func normalizeForFingerprint(s string) string {
	for _, n := range fingerprintNormalizers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return strings.TrimSpace(s)
}
