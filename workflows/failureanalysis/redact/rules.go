package redact

import (
	"regexp"
	"strings"
)

// pemRepl stands for a whole private key block.
const pemRepl = "-----BEGIN PRIVATE KEY-----" + Mask + "-----END PRIVATE KEY-----"

// ownRules are the shapes gitleaks' rules do not cover, or cover only in the shape a source
// file has: shorter tokens, AWS's documented example key, tokens glued to a word, whole PEM and
// PGP blocks in one string, passwords in URLs and on command lines, and key=value assignments
// (with an entropy guard instead of gitleaks' generic rule). They run before gitleaks' rules;
// where two masks overlap, the union is masked.
var ownRules = []rule{
	{
		name:     "private-key-block",
		triggers: []string{"private key"},
		// A complete block, or an unterminated one up to the end of the text (the rest of the
		// block is on later lines, handled by Lines).
		re:   regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,-]*)`),
		repl: pemRepl,
	},
	{
		name:     "url-password",
		triggers: []string{"://"},
		// The password may hold '/' and '@': it runs to the last '@' that a host name follows.
		re:       regexp.MustCompile(`^://[^\s:/@'"]+:([^\s'"]+?)@[A-Za-z0-9.-]+(?:[:/?#\s'"]|$)`),
		anchored: true, group: 1, repl: URLPasswordMask,
		keep: func(s string) bool { return isPortPath(s) },
	},
	{
		name:     "github-token",
		triggers: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
		re:       regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{30,255}`),
	},
	{
		name:     "github-fine-grained-pat",
		triggers: []string{"github_pat_"},
		re:       regexp.MustCompile(`github_pat_[A-Za-z0-9_]{22,255}`),
	},
	{
		name:     "aws-access-key-id",
		triggers: []string{"akia", "asia"},
		re:       regexp.MustCompile(`(?:AKIA|ASIA)[A-Z0-9]{16}\b`),
	},
	{
		name:     "slack-token",
		triggers: []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-"},
		re:       regexp.MustCompile(`xox[baprse]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,}`),
	},
	{
		name:     "slack-webhook",
		triggers: []string{"hooks.slack.com/"},
		re:       regexp.MustCompile(`https?://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9/_-]+)`),
		group:    1,
	},
	{
		name:     "jwt",
		triggers: []string{"eyj"},
		re:       regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`),
	},
	{
		name:     "google-oauth-client-secret",
		triggers: []string{"gocspx-"},
		re:       regexp.MustCompile(`GOCSPX-[A-Za-z0-9_-]{20,}`),
	},
	{
		name:     "authorization-header",
		triggers: []string{"authorization"},
		re:       regexp.MustCompile(`(?i)authorization\\?["']?\s*[:=]\s*\\?["']?(?:bearer|token|basic|digest)\s+([^\s"'\\,;]+)`),
		group:    1, keep: isPlaceholder,
	},
	{
		name:     "bearer",
		triggers: []string{"bearer"},
		re:       regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)`),
		group:    1, keep: isPlaceholder,
	},
	{
		name:     "netrc-password",
		triggers: []string{"machine"},
		re:       regexp.MustCompile(`(?i)\bmachine\s+\S+\s+(?:login\s+\S+\s+)?password\s+(\S+)`),
		group:    1, keep: isPlaceholder,
	},
	{
		name:     "docker-login-password",
		triggers: []string{"login"},
		re:       regexp.MustCompile(`(?i)\blogin\b.*?\s(?:-p\s*|--password(?:=|\s+))([^\s'"-][^\s'"]*)`),
		group:    1, keep: isPlaceholder,
	},
	{
		name:     "mysql-password",
		triggers: []string{"mysql", "mariadb"},
		re:       regexp.MustCompile(`(?i)\b(?:mysql|mariadb)\S*\s(?:.*\s)?-p([^\s'"]+)`),
		group:    1, keep: isPlaceholder,
	},
	{
		name:     "password-flag",
		triggers: []string{"--pass", "--token", "--secret", "--api-key", "--client-secret", "--auth-token"},
		re:       regexp.MustCompile(`(?i)(?:^|\s)--(?:password|passwd|token|secret|api-key|client-secret|auth-token)(?:=|\s+)([^\s'"-][^\s'"]*)`),
		group:    1, keep: lowEntropy(2.0, 4),
	},
	{
		// Names that say the value is a password or a key: every value but a placeholder or a
		// word of little entropy is taken for a secret.
		name: "secret-assignment",
		triggers: []string{"pass", "pwd", "secret", "_auth", "authtoken", "cred", "accountkey",
			"accesskey", "access_key", "privatekey", "private_key"},
		anchored: true,
		// A bare "pass" only before '=' or a quoted ':' ("PASS: TestX" is a test result).
		re:    regexp.MustCompile(`(?i)^(?:(?:password|passwd|passphrase|pwd|secret_key|secret|_auth|authtoken|credentials?|creds|accountkey|accesskey|access_key|privatekey|private_key_id|private_key)(?:\\?["'])?\s*(?::=|=>|[:=])|pass(?:\s*=|\\?["']\s*:))\s*(?:\\?["'])?([^\s"'\\&,;]{3,})`),
		group: 1, keep: lowEntropy(2.0, 4),
	},
	{
		// Names that are often something else too (max_tokens=512, auth: required): only a
		// value of some length and entropy is taken for a secret. A value stops at '@', where
		// "x-access-token:" is the user name of a URL.
		name:     "token-assignment",
		triggers: []string{"token", "api", "sig", "auth"},
		anchored: true,
		re:       regexp.MustCompile(`(?i)^(?:token|api[_-]?key|apikey|signature|sig|auth)(?:\\?["'])?\s*(?::=|=>|[:=])\s*(?:\\?["'])?([^\s"'\\&,;@]{3,})`),
		group:    1, keep: lowEntropy(3.0, 8),
	},
	{
		// A bare key= (a query parameter, a flag value); "Cache key: ..." is not one.
		name:     "key-parameter",
		triggers: []string{"key="},
		re:       regexp.MustCompile(`(?i)(?:^|[^a-z0-9_.-])(?:[a-z0-9]+[_.-])?key=([^\s"'\\&,;]{3,})`),
		group:    1, keep: lowEntropy(3.0, 12),
	},
}

// lowEntropy returns a guard keeping placeholders and values shorter than minLen or with
// less than bits of entropy per character.
func lowEntropy(bits float64, minLen int) func(string) bool {
	return func(v string) bool {
		return isPlaceholder(v) || len(v) < minLen || shannon(v) < bits
	}
}

// placeholderWords are assignment values that stand for no secret.
var placeholderWords = map[string]bool{
	"true": true, "false": true, "null": true, "nil": true, "none": true, "yes": true, "no": true,
	"on": true, "off": true, "undefined": true, "empty": true, "required": true, "optional": true,
	"redacted": true, "masked": true, "hidden": true, "unset": true, "set": true,
}

// isPlaceholder reports a value that names a secret without being one: a variable reference
// ($X, ${X}, ${{ secrets.X }}, %X%, {{ x }}, <x>) or name (GITHUB_TOKEN), a mask (***, xxxx,
// [REDACTED]) or a word such as true or null.
func isPlaceholder(v string) bool {
	if v == "" || isEnvName(v) {
		return true
	}
	switch v[0] {
	case '$', '<', '[', '*':
		return true
	case '%':
		return strings.HasSuffix(v, "%")
	case '{':
		return strings.HasPrefix(v, "{{")
	}
	if placeholderWords[strings.ToLower(strings.TrimRight(v, ".,)"))] {
		return true
	}
	same := true
	for i := 1; i < len(v); i++ {
		if v[i] != v[0] {
			same = false
			break
		}
	}
	return same
}

// isEnvName reports an environment variable's name: upper case, digits and at least one '_'.
func isEnvName(v string) bool {
	underscore := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '_':
			underscore = i > 0
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return underscore
}

// isPortPath reports a "password" that is a port and a path ("host:8080/@scope/pkg").
func isPortPath(s string) bool {
	i := strings.IndexByte(s, '/')
	if i <= 0 || i > 5 {
		return false
	}
	for j := 0; j < i; j++ {
		if s[j] < '0' || s[j] > '9' {
			return false
		}
	}
	return true
}
