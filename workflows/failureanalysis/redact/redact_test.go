package redact

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestString(t *testing.T) {
	t.Parallel()
	ghp := "ghp_" + strings.Repeat("A1b2", 9)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"github classic token", "token " + ghp + " used", "token " + Mask + " used"},
		{"github server token in url", "https://x-access-token:ghs_" + strings.Repeat("z9", 18) + "@github.com/o/r", "https://x-access-token:***@github.com/o/r"},
		{"github oauth token", "gho_" + strings.Repeat("q", 36), Mask},
		{"github fine-grained pat", "GH_PAT=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "GH_PAT=" + Mask},
		{"aws access key id", "using AKIAIOSFODNN7EXAMPLE for upload", "using " + Mask + " for upload"},
		{"aws session key id", "ASIAY34FZKBOKMUTVV7A", Mask},
		{"aws secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = " + Mask},
		{"aws secret env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY=" + Mask},
		{"pem block one string", "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc=\n-----END RSA PRIVATE KEY----- done", "key: -----BEGIN PRIVATE KEY-----" + Mask + "-----END PRIVATE KEY----- done"},
		{"pem escaped newlines", `"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----"`, `"-----BEGIN PRIVATE KEY-----` + Mask + `-----END PRIVATE KEY-----"`},
		{"slack bot token", "SLACK=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "SLACK=" + Mask},
		{"slack app token", "xapp-1-A0123456789-1234567890123-abcdef0123456789", Mask},
		{"slack webhook", "POST https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX failed", "POST https://hooks.slack.com/services/" + Mask + " failed"},
		{"jwt", "id_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl", "id_token=" + Mask},
		{"bare jwt", "got eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ0ZXN0In0.abcDEF123_- ok", "got " + Mask + " ok"},
		{"url password", "fatal: unable to access 'https://bob:hunter22@example.com/repo.git/'", "fatal: unable to access 'https://bob:***@example.com/repo.git/'"},
		{"postgres url", "DATABASE_URL=postgres://app:s3cr3t@db:5432/app", "DATABASE_URL=postgres://app:***@db:5432/app"},
		{"password assignment", "mysql --password=hunter22 -h db", "mysql --password=" + Mask + " -h db"},
		{"env password", "DB_PASSWORD: 'correct horse'", "DB_PASSWORD: '" + Mask + " horse'"},
		{"token assignment", "curl 'https://api.example.com/x?token=abc123def&x=1'", "curl 'https://api.example.com/x?token=" + Mask + "&x=1'"},
		{"secret key", "SECRET_KEY=django-insecure-abc", "SECRET_KEY=" + Mask},
		{"authorization bearer", "Authorization: Bearer abc.def.ghi", "Authorization: Bearer " + Mask},
		{"authorization token", `-H "Authorization: token 0123456789abcdef"`, `-H "Authorization: token ` + Mask + `"`},
		{"bare bearer", "sent bearer 0123456789abcdefXYZ0 to server", "sent bearer " + Mask + " to server"},
		// Things that must stay untouched.
		{"git sha", "HEAD is now at 3f2c9a1b7e4d5f60718293a4b5c6d7e8f9012345 fix", "HEAD is now at 3f2c9a1b7e4d5f60718293a4b5c6d7e8f9012345 fix"},
		{"docker digest", "sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c117ec0", "sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c117ec0"},
		{"uuid", "run 123e4567-e89b-12d3-a456-426614174000 started", "run 123e4567-e89b-12d3-a456-426614174000 started"},
		{"ordinary words", "--- FAIL: TestTokenRefresh (0.01s) password authentication failed", "--- FAIL: TestTokenRefresh (0.01s) password authentication failed"},
		{"max tokens", "max_tokens=512 temperature=0.2", "max_tokens=512 temperature=0.2"},
		{"cache key", "Cache key: Linux-go-0a1b2c3d", "Cache key: Linux-go-0a1b2c3d"},
		{"url without password", "Downloading https://proxy.golang.org/github.com/x/y/@v/v1.0.0.zip", "Downloading https://proxy.golang.org/github.com/x/y/@v/v1.0.0.zip"},
		{"ssh url", "git@github.com:owner/repo.git", "git@github.com:owner/repo.git"},
		{"short gh prefix", "see ghp_short in docs", "see ghp_short in docs"},
		{"public key", "-----BEGIN PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, String(tt.in))
		})
	}
}

func TestLinesMultiLinePEM(t *testing.T) {
	t.Parallel()
	in := []string{
		"Writing key",
		"-----BEGIN EC PRIVATE KEY-----",
		"MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oaJqAFB3b0ZdoAoGCCqGSM49",
		"AwEHoUQDQgAE",
		"-----END EC PRIVATE KEY-----",
		"done with ghp_" + strings.Repeat("x", 36),
	}
	got := Lines(in)
	require.Equal(t, []string{
		"Writing key",
		"-----BEGIN PRIVATE KEY-----" + Mask + "-----END PRIVATE KEY-----",
		Mask,
		Mask,
		"-----END PRIVATE KEY-----",
		"done with " + Mask,
	}, got)
	require.Equal(t, "-----BEGIN EC PRIVATE KEY-----", in[1], "input must not be modified")
}

func TestStringNoAllocationWithoutTriggers(t *testing.T) {
	s := "ok  \tgithub.com/contexten/autonomous/workflows\t0.123s\tcoverage: 81.2% of statements"
	allocs := testing.AllocsPerRun(100, func() { _ = String(s) })
	require.Zero(t, allocs)
}

func BenchmarkString(b *testing.B) {
	s := "2024-05-01T12:00:00.1234567Z ok  \tgithub.com/contexten/autonomous/workflows\t0.123s"
	b.SetBytes(int64(len(s)))
	loadRules()
	for b.Loop() {
		_ = String(s)
	}
}

// benchExcerpt is a typical 40-line excerpt: mostly ordinary log lines, a few with
// secret-like words, one token.
func benchExcerpt() []string {
	base := []string{
		"=== RUN   TestTokenRefresh",
		"    refresh_test.go:42: got 401, want 200",
		"--- FAIL: TestTokenRefresh (0.01s)",
		"FAIL\tgithub.com/contexten/autonomous/workflows\t0.123s",
		"go: downloading golang.org/x/sys v0.0.0-20250401214520-65e299d6c5c9",
		"HEAD is now at 3f2c9a1b7e4d5f60718293a4b5c6d7e8f9012345 fix",
		"npm ERR! code E401",
		"npm ERR! Unable to authenticate, need: Basic realm=\"GitHub Package Registry\"",
		"Error: Process completed with exit code 1.",
		"##[error]The operation was canceled.",
		"  env:",
		"    GITHUB_TOKEN: ***",
		"    password: ${{ secrets.DB_PASSWORD }}",
		"/home/runner/work/repo/repo/internal/x.go:12:3: undefined: api.Key",
		"Step 5/9 : RUN go build ./...",
		"remote: https://github.com/owner/repo/pull/12",
		"docker.io/library/golang@sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c117ec0",
		"fatal: could not read Username for 'https://github.com': terminal prompts disabled",
		"using token gh" + "p_" + strings.Repeat("A1b2", 9),
		"make: *** [Makefile:12: test] Error 1",
	}
	return append(base, base...)
}

func BenchmarkLinesExcerpt(b *testing.B) {
	lines := benchExcerpt()
	loadRules()
	for b.Loop() {
		_ = Lines(lines)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(lines)), "ns/line")
}

func TestStringURLUserToken(t *testing.T) {
	t.Parallel()
	tok := "gh" + "s_" + "q7Rk2ZpL0aX9mN4bV6cT1yH8wJ3eF5gU2iO0"
	require.Equal(t, "git clone https://x-access-token:***@github.com/o/r.git", String("git clone https://x-access-token:"+tok+"@github.com/o/r.git"))
}

func TestAssignmentEntropyGuard(t *testing.T) {
	t.Parallel()
	keep := []string{
		"password=true", "password: false", "PASSWORD=null", "token=${{ secrets.NPM_TOKEN }}",
		"password=$DB_PASSWORD", "password: ${PGPASSWORD}", "secret: ***", "api_key=%API_KEY%",
		"token: <your token>", "auth: required", "token=abc", "api_key=aaaaaaaaaaaa",
		"key=production", "Cache key: setup-go-Linux-ubuntu24-go-1.22.0-0a1b2c3d4e5f",
		"max_tokens=512", "password authentication failed", "access_token: {{ .Token }}",
	}
	for _, s := range keep {
		require.Equal(t, s, String(s))
	}
	redacted := map[string]string{
		"password=hunter22":                   "password=" + Mask,
		"token=Zq8xR2mK9vL4pW7n":              "token=" + Mask,
		"client_secret: 'Yb3kQ9zX1mW7pL2v'":   "client_secret: '" + Mask + "'",
		"SMTP_PASS=k9Xq2LmZ":                  "SMTP_PASS=" + Mask,
		"x?key=AbCdEf123456GhIjKl&y=1":        "x?key=" + Mask + "&y=1",
		"--token Zq8xR2mK9vL4pW7nB3":          "--token " + Mask,
		`{"SessionToken":"Zq8xR2mK9vL4pW7n"}`: `{"SessionToken":"` + Mask + `"}`,
	}
	for in, want := range redacted {
		require.Equal(t, want, String(in))
	}
}

func TestStringSeveralLines(t *testing.T) {
	t.Parallel()
	body := "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
	in := "Run deploy\n" + body + "\n" + body + "\nAbC+/12==\n-----END RSA PRIVATE KEY-----\npassword=hunter22\ndone"
	want := "Run deploy\n" + Mask + "\n" + Mask + "\n" + Mask + "\n-----END PRIVATE KEY-----\npassword=" + Mask + "\ndone"
	require.Equal(t, want, String(in))
	cert := "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----"
	require.Equal(t, cert, String(cert), "certificates are not secret")
}

func TestGitleaksRulesAreUsed(t *testing.T) {
	t.Parallel()
	n := 0
	for _, r := range loadRules().rules {
		if r.gitleaks {
			n++
		}
	}
	require.Greater(t, n, 150, "gitleaks' default rules must be loaded")
	// A shape only gitleaks knows.
	tok := "shp" + "at_" + strings.Repeat("a1b2c3d4", 4)
	require.Equal(t, "X-Shopify-Access-Token: "+Mask, String("X-Shopify-Access-Token: "+tok))
	require.Equal(t, "shop "+Mask+" ok", String("shop "+tok+" ok"))
}

// TestGitleaksPatternsCompile: every gitleaks rule's pattern, compiled only when its keyword
// first occurs, compiles, and has the secret group the rule names.
func TestGitleaksPatternsCompile(t *testing.T) {
	t.Parallel()
	for _, r := range loadRules().rules {
		if !r.gitleaks {
			continue
		}
		require.Nil(t, r.re, r.name)
		var re *regexp.Regexp
		require.NotPanics(t, func() { re = r.pattern() }, r.name)
		require.LessOrEqual(t, r.group, re.NumSubexp(), r.name)
		require.Same(t, re, r.pattern(), "%s is compiled once", r.name)
	}
}

func FuzzString(f *testing.F) {
	for _, c := range secretCorpus() {
		f.Add(c.text)
	}
	for _, s := range lookAlikes() {
		f.Add(s)
	}
	f.Add("-----END ")
	f.Add("-----BEGIN X PRIVATE KEY-----\n-----END ")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !strings.ContainsAny(s, "\n") {
			require.Equal(t, out, Lines([]string{s})[0])
		}
	})
}
