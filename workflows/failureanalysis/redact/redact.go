// Package redact replaces secret-shaped substrings (tokens, keys, passwords)
// in untrusted text such as CI logs before that text is stored, logged or
// posted anywhere.
//
// Every rule has a cheap literal pre-check; the regular expression of a rule
// only runs when its pre-check matches, so text without anything secret-like
// is returned unchanged without any allocation.
package redact

import (
	"regexp"
	"strings"
)

// Mask is the replacement written in place of a secret value.
const Mask = "[REDACTED]"

// URLPasswordMask replaces the password part of credentials embedded in a
// URL, so that "https://user:pass@host" becomes "https://user:***@host".
const URLPasswordMask = "***"

// rule is one kind of secret: literal triggers (any of which must occur in
// the text, case-sensitively unless fold is set) and the regexp with its
// replacement template.
type rule struct {
	name     string
	triggers []string
	fold     bool
	re       *regexp.Regexp
	repl     string
}

// rules run in order: whole blocks and specific token shapes first, the
// generic key=value rules last so they do not split a recognised token.
var rules = []rule{
	{
		name:     "pem-private-key",
		triggers: []string{"PRIVATE KEY-----"},
		// A complete block, or an unterminated one up to the end of the text
		// (the rest of the block is on later lines, handled by Lines).
		re:   regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\:,-]*)`),
		repl: "-----BEGIN PRIVATE KEY-----" + Mask + "-----END PRIVATE KEY-----",
	},
	{
		name:     "github-token",
		triggers: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
		re:       regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,255}\b`),
		repl:     Mask,
	},
	{
		name:     "github-fine-grained-pat",
		triggers: []string{"github_pat_"},
		re:       regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{22,255}\b`),
		repl:     Mask,
	},
	{
		name:     "aws-access-key-id",
		triggers: []string{"AKIA", "ASIA"},
		re:       regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`),
		repl:     Mask,
	},
	{
		name:     "aws-secret",
		triggers: []string{"aws_secret_access_key", "aws_session_token"},
		fold:     true,
		re:       regexp.MustCompile(`(?i)\b(aws_secret_access_key|aws_session_token)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}`),
		repl:     "${1}${2}" + Mask,
	},
	{
		name:     "slack-token",
		triggers: []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"},
		re:       regexp.MustCompile(`\b(?:xox[baprs]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})`),
		repl:     Mask,
	},
	{
		name:     "slack-webhook",
		triggers: []string{"hooks.slack.com/"},
		re:       regexp.MustCompile(`(https?://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+`),
		repl:     "${1}" + Mask,
	},
	{
		name:     "jwt",
		triggers: []string{"eyJ"},
		re:       regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`),
		repl:     Mask,
	},
	{
		name:     "url-password",
		triggers: []string{"://"},
		re:       regexp.MustCompile(`\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)@`),
		repl:     "${1}" + URLPasswordMask + "@",
	},
	{
		name:     "authorization-header",
		triggers: []string{"authorization"},
		fold:     true,
		re:       regexp.MustCompile(`(?i)\b(authorization["']?\s*[:=]\s*["']?(?:bearer|token|basic)\s+)[^\s"',;]+`),
		repl:     "${1}" + Mask,
	},
	{
		name:     "bearer",
		triggers: []string{"bearer"},
		fold:     true,
		re:       regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9._~+/-]{16,}=*`),
		repl:     "${1}" + Mask,
	},
	{
		name:     "generic-assignment",
		triggers: []string{"pass", "pwd", "token", "secret", "key"},
		fold:     true,
		re:       regexp.MustCompile(`(?i)\b((?:[a-z0-9]+[_-])*(?:password|passwd|pwd|token|secret[_-]?key|secret|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret)["']?\s*[:=]\s*["']?)([^\s"'&,;*\[][^\s"'&,;]{2,})`),
		repl:     "${1}" + Mask,
	},
}

// String returns s with every secret-shaped substring replaced by Mask (or,
// for a password inside a URL, by URLPasswordMask). Text with nothing that
// looks like a secret is returned unchanged.
func String(s string) string {
	for i := range rules {
		r := &rules[i]
		if !r.triggered(s) {
			continue
		}
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// Lines redacts each line like String and additionally masks the body lines
// of a PEM private key block that spans several lines (from the
// "-----BEGIN ... PRIVATE KEY-----" line to the matching END line). It
// returns a new slice; the input is not modified.
func Lines(lines []string) []string {
	out := make([]string, len(lines))
	inKey := false
	for i, l := range lines {
		if inKey {
			if strings.Contains(l, "PRIVATE KEY-----") && strings.Contains(l, "-----END ") {
				inKey = false
				out[i] = "-----END PRIVATE KEY-----"
				continue
			}
			out[i] = Mask
			continue
		}
		if j := strings.Index(l, "-----BEGIN "); j >= 0 && strings.Contains(l[j:], "PRIVATE KEY-----") && !strings.Contains(l[j:], "-----END ") {
			inKey = true
		}
		out[i] = String(l)
	}
	return out
}

// triggered reports whether any literal trigger of r occurs in s.
func (r *rule) triggered(s string) bool {
	for _, t := range r.triggers {
		if r.fold {
			if containsFold(s, t) {
				return true
			}
		} else if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII needle,
// ignoring ASCII case, without allocating.
func containsFold(s, needle string) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	first := needle[0]
	upper := first
	if first >= 'a' && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	for i := 0; i+n <= len(s); i++ {
		c := s[i]
		if c != first && c != upper {
			continue
		}
		if equalFoldASCII(s[i:i+n], needle) {
			return true
		}
	}
	return false
}

// equalFoldASCII compares a with the lower-case ASCII string lower, ignoring
// ASCII case.
func equalFoldASCII(a, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := a[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
