package redact

import (
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// The fake secrets below are random strings in the shapes of real ones, made at test time
// (prefixes split by concatenation) so that no secret scanner flags this repository.

// gen makes deterministic random strings.
type gen struct{ r *rand.Rand }

func newGen() *gen {
	return &gen{r: rand.New(rand.NewChaCha8([32]byte{'r', 'e', 'd', 'a', 'c', 't'}))}
}

const (
	lower  = "abcdefghijklmnopqrstuvwxyz"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits = "0123456789"
	alnum  = lower + upper + digits
)

func (g *gen) from(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) alnum(n int) string { return g.from(alnum, n) }
func (g *gen) hex(n int) string   { return g.from("0123456789abcdef", n) }
func (g *gen) b64(n int) string   { return g.from(alnum+"+/", n) }
func (g *gen) b64url(n int) string {
	return g.from(alnum+"-_", n)
}

// bytes returns n random bytes.
func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}

// pemBody returns the base64 lines of a random DER blob of n bytes, 64 characters a line.
func (g *gen) pemBody(n int) []string {
	s := base64.StdEncoding.EncodeToString(g.bytes(n))
	var lines []string
	for len(s) > 64 {
		lines = append(lines, s[:64])
		s = s[64:]
	}
	return append(lines, s)
}

// secretCase is text holding secrets: none of them, nor any long part of one, may survive.
type secretCase struct {
	name    string
	text    string
	secrets []string
}

func secretCorpus() []secretCase {
	g := newGen()
	var cs []secretCase
	add := func(name, text string, secrets ...string) {
		cs = append(cs, secretCase{name: name, text: text, secrets: secrets})
	}
	gh := func(p string) string { return "gh" + p + "_" + g.alnum(36) }

	// GitHub.
	t := gh("p")
	add("github classic pat", "export GH_TOKEN_VALUE "+t+" done", t)
	t = gh("o")
	add("github oauth token", "oauth: "+t, t)
	t = gh("s")
	add("github app installation token in url", "git clone https://x-access-token:"+t+"@github.com/o/r.git", t)
	t = gh("u")
	add("github user-to-server token", "using "+t, t)
	t = gh("r")
	add("github refresh token", "refresh="+t, t)
	t = "github" + "_pat_11" + strings.ToUpper(g.alnum(20)) + "_" + g.alnum(59)
	add("github fine-grained pat", "GH_PAT="+t, t)
	t = gh("p")
	add("github token percent-encoded", "url=https%3A%2F%2Fx%3A"+t+"%40github.com", t)
	t = gh("p")
	add("github token after escaped newline", `{"msg":"token\n`+t+`"}`, t)
	t = gh("p")
	add("github token glued to a word", "Authorizationtoken_"+t, t)
	t = "npm" + "_" + g.from(lower+digits, 36)
	add("npm token glued to a word", "NPMTOKENX"+t+" ok", t)

	// GitLab, Slack.
	t = "gl" + "pat-" + g.b64url(20)
	add("gitlab pat", "PRIVATE-TOKEN: "+t, t)
	t = "gl" + "rt-" + g.alnum(20)
	add("gitlab runner token", "runner token "+t, t)
	t = "xo" + "xb-" + g.from(digits, 12) + "-" + g.from(digits, 12) + "-" + g.alnum(24)
	add("slack bot token", "SLACK_BOT="+t, t)
	t = "xo" + "xp-" + g.from(digits, 11) + "-" + g.from(digits, 11) + "-" + g.from(digits, 12) + "-" + g.hex(32)
	add("slack user token", "token "+t, t)
	t = "xa" + "pp-1-A" + strings.ToUpper(g.alnum(10)) + "-" + g.from(digits, 13) + "-" + g.hex(64)
	add("slack app token", t, t)
	t = "T" + strings.ToUpper(g.alnum(8)) + "/B" + strings.ToUpper(g.alnum(10)) + "/" + g.alnum(24)
	add("slack webhook", "POST https://hooks.slack.com/services/"+t+" failed", t)

	// JWT.
	jwt := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+g.alnum(12)+`","iat":1700000000}`)) + "." + g.b64url(43)
	add("jwt", "id_token: "+jwt, jwt)
	jwt2 := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"`+g.alnum(8)+`"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://token.actions.githubusercontent.com","aud":"`+g.alnum(10)+`"}`)) + "." + g.b64url(86)
	add("bare jwt", "got "+jwt2+" back", jwt2)

	// AWS.
	t = "AK" + "IA" + g.from(upper+"234567", 16)
	add("aws access key id", "using "+t+" for upload", t)
	t = "AS" + "IA" + g.from(upper+"234567", 16)
	add("aws sts access key id", `"AccessKeyId": "`+t+`",`, t)
	sk := g.b64(40)
	add("aws secret env", "AWS_SECRET_ACCESS_KEY="+sk, sk)
	sk = g.b64(40)
	add("aws sts json SecretAccessKey", `        "SecretAccessKey": "`+sk+`",`, sk)
	st := "IQoJb3JpZ2luX2Vj" + g.b64(300) + "=="
	add("aws sts json SessionToken", `        "SessionToken": "`+st+`",`, st)
	sk2, st2 := g.b64(40), "FwoGZXIvYXdzE"+g.b64(200)
	add("aws sts json one line", `{"Credentials":{"AccessKeyId":"AS`+`IA`+g.from(upper, 16)+`","SecretAccessKey":"`+sk2+`","SessionToken":"`+st2+`","Expiration":"2026-01-01T00:00:00Z"}}`, sk2, st2)

	// Passwords in URLs.
	p := g.alnum(6) + "/" + g.alnum(8)
	add("url password with slash", "fatal: unable to access 'https://deploy:"+p+"@git.example.com/repo.git/'", p)
	p = g.alnum(5) + "@" + g.alnum(9)
	add("url password with at", "DATABASE_URL=postgres://app:"+p+"@db.internal:5432/app", p)
	p = g.alnum(14)
	add("url password", "remote: https://bob:"+p+"@example.com/x.git", p)
	p = g.alnum(16)
	add("netrc password", "machine github.com login bot password "+p, p)
	p = g.alnum(18)
	add("git credential password", "password="+p, p)

	// npm, PyPI.
	t = "npm" + "_" + g.from(lower+upper+digits, 36)
	add("npm token", "NODE_AUTH_TOKEN: "+t, t)
	t = "npm" + "_" + g.alnum(36)
	add("npmrc authToken", "//registry.npmjs.org/:_authToken="+t, t)
	a := base64.StdEncoding.EncodeToString([]byte("ci-bot:" + g.alnum(20)))
	add("npmrc _auth", "_auth="+a, a)
	a = base64.StdEncoding.EncodeToString([]byte(g.alnum(22)))
	add("npmrc scoped _password", "//npm.pkg.example.com/:_password="+a, a)
	t = "pypi-" + "AgEIcHlwaS5vcmc" + g.b64url(120)
	add("pypi token", "TWINE_PASSWORD="+t, t)
	t = "pypi-" + "AgEIcHlwaS5vcmc" + g.b64url(150)
	add("pypi token bare", "uploading with "+t, t)

	// Azure.
	k := base64.StdEncoding.EncodeToString(g.bytes(64))
	add("azure storage AccountKey", "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey="+k+";EndpointSuffix=core.windows.net", k)
	k = base64.StdEncoding.EncodeToString(g.bytes(32))
	add("azure SharedAccessKey", "Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey="+k, k)
	sig := url.QueryEscape(base64.StdEncoding.EncodeToString(g.bytes(32)))
	add("azure SAS sig", "GET https://acct1.blob.core.windows.net/c/b.zip?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&spr=https&sig="+sig+" 403", sig)
	t = g.alnum(3) + "8Q~" + g.b64url(31)
	add("azure ad client secret", "AZURE_CLIENT_SECRET="+t, t)

	// Google.
	t = g.hex(40)
	add("gcp private_key_id", `  "private_key_id": "`+t+`",`, t)
	t = "AI" + "za" + "Sy" + g.b64url(33)
	add("gcp api key", "key="+t, t)
	t = "AI" + "za" + "Sy" + g.b64url(33)
	add("gcp api key in url", "https://maps.example.com/api?key="+t+"&q=1", t)
	t = "GOC" + "SPX-" + g.b64url(28)
	add("google oauth client secret", "client_secret: "+t, t)
	body := g.pemBody(600)
	add("gcp service account private_key escaped", `  "private_key": "-----BEGIN PRIVATE KEY-----\n`+strings.Join(body, `\n`)+`\n-----END PRIVATE KEY-----\n",`, body...)

	// Payment, mail, other SaaS.
	t = "sk" + "_live_" + g.alnum(99)
	add("stripe live key", "Stripe::InvalidRequestError using "+t, t)
	t = "rk" + "_live_" + g.alnum(24)
	add("stripe restricted key", "STRIPE_KEY="+t, t)
	t = "SG" + "." + g.b64url(22) + "." + g.b64url(43)
	add("sendgrid key", "SENDGRID: "+t, t)
	t = "SK" + g.hex(32)
	add("twilio api key", "twilio key "+t, t)
	t = "shp" + "at_" + g.hex(32)
	add("shopify token", "X-Shopify-Access-Token: "+t, t)
	t = "sk-" + "proj-" + g.b64url(74) + "T3Blbk" + "FJ" + g.b64url(74)
	add("openai key", "OPENAI_API_KEY="+t, t)
	t = "sk-" + "ant-api03-" + g.b64url(93) + "AA"
	add("anthropic key", "x-api-key: "+t, t)
	t = "hv" + "s." + g.b64url(95)
	add("vault token", "VAULT_TOKEN="+t, t)
	t = "dop" + "_v1_" + g.hex(64)
	add("digitalocean token", "doctl auth init -t "+t, t)
	t = "PM" + "AK-" + g.hex(24) + "-" + g.hex(34)
	add("postman key", "postman "+t, t)
	t = "da" + "pi" + g.hex(32)
	add("databricks token", "DATABRICKS_TOKEN="+t, t)
	t = "gl" + "sa_" + g.alnum(32) + "_" + g.hex(8)
	add("grafana service account token", "grafana "+t, t)
	t = "lin" + "_api_" + g.alnum(40)
	add("linear key", "LINEAR="+t, t)
	t = "hf" + "_" + g.from(lower+upper, 34)
	add("huggingface token", "HF_TOKEN "+t, t)

	// Docker.
	p = g.alnum(20)
	add("docker login -p", "+ docker login -u ci -p "+p+" registry.example.com", p)
	p = g.alnum(24)
	add("docker login --password", "docker login --username ci --password "+p+" ghcr.io", p)
	p = g.alnum(24)
	add("docker login --password=", "docker login --password="+p+" quay.io", p)
	a = base64.StdEncoding.EncodeToString([]byte("ci:" + g.alnum(24)))
	add("docker config auth", `{"auths":{"ghcr.io":{"auth":"`+a+`"}}}`, a)
	a = base64.StdEncoding.EncodeToString([]byte("bot:" + g.alnum(30)))
	add("docker config auth pretty", `      "auth": "`+a+`"`, a)

	// Other base64-encoded credentials.
	a = base64.StdEncoding.EncodeToString([]byte("x-access-token:" + gh("s")))
	add("basic auth header", "Authorization: Basic "+a, a)
	a = base64.StdEncoding.EncodeToString([]byte(gh("p")))
	add("base64 of a token", "decoded config value "+a+" loaded", a)
	a = base64.StdEncoding.EncodeToString([]byte(`{"username":"bot","password":"` + g.alnum(20) + `"}`))
	add("base64 of json credentials", "REGISTRY_CREDS "+a, a)
	a = base64.StdEncoding.EncodeToString([]byte("deploy:" + g.alnum(20)))
	add("git extraheader basic", "git -c http.extraheader=\"AUTHORIZATION: basic "+a+"\" fetch", a)

	// Private keys on several lines.
	for _, kind := range []string{"RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED ", "DSA "} {
		body := g.pemBody(300)
		lines := append([]string{"-----BEGIN " + kind + "PRIVATE KEY-----"}, body...)
		lines = append(lines, "-----END "+kind+"PRIVATE KEY-----")
		add("pem "+strings.TrimSpace(strings.ToLower(kind+"private key")), strings.Join(lines, "\n"), body...)
	}
	body = g.pemBody(400)
	add("pem body without begin line", strings.Join(body[3:], "\n")+"\n-----END RSA PRIVATE KEY-----\nError: key rejected", body[3:]...)
	body = g.pemBody(300)
	add("pem body with neither begin nor end line", "Run cat key\n"+strings.Join(body[:4], "\n")+"\nerror", body[:4]...)
	body = g.pemBody(300)
	add("pem begin line without end line", "-----BEGIN RSA PRIVATE KEY-----\n"+strings.Join(body[:3], "\n"), body[:3]...)
	body = g.pemBody(500)
	pgp := append([]string{"-----BEGIN PGP PRIVATE KEY BLOCK-----", ""}, body...)
	pgp = append(pgp, "="+g.b64(4), "-----END PGP PRIVATE KEY BLOCK-----")
	add("pgp private key block", strings.Join(pgp, "\n"), body...)
	body = g.pemBody(300)
	add("pem one string", "key: -----BEGIN RSA PRIVATE KEY-----"+strings.Join(body, "")+"-----END RSA PRIVATE KEY----- done", body...)

	// Generic assignments with high-entropy values.
	v := g.alnum(24)
	add("password assignment", "mysql --password="+v+" -h db", v)
	v = g.alnum(12)
	add("mysql -p", "mysql -uroot -p"+v+" -e 'select 1'", v)
	v = g.alnum(32)
	add("token query parameter", "curl 'https://api.example.com/x?token="+v+"&x=1'", v)
	v = g.alnum(30)
	add("yaml secret", "  client_secret: "+v, v)
	v = g.hex(32)
	add("api key env", "DD_API_KEY="+v, v)
	v = g.alnum(20)
	add("docker env password", "docker run -e DB_PASSWORD="+v+" postgres", v)
	v = g.alnum(28)
	add("json password", `{"user":"ci","password":"`+v+`"}`, v)
	v = g.alnum(28)
	add("escaped json token", `"{\"token\":\"`+v+`\"}"`, v)
	v = g.alnum(40)
	add("authorization bearer", "Authorization: Bearer "+v, v)
	v = g.hex(40)
	add("authorization token", `-H "Authorization: token `+v+`"`, v)
	v = g.alnum(28) + "." + g.alnum(10)
	add("bare bearer", "sent bearer "+v+" to server", v)
	v = g.alnum(26)
	add("secret key", "SECRET_KEY="+v, v)
	v = "1" + g.from(digits, 9) + ":AA" + g.b64url(33)
	add("telegram bot token", "TELEGRAM_BOT_TOKEN="+v, v)
	return cs
}

// lookAlikes must pass through unchanged.
func lookAlikes() []string {
	g := newGen()
	sum := func(n int) string { return base64.StdEncoding.EncodeToString(g.bytes(n)) }
	cert := append([]string{"-----BEGIN CERTIFICATE-----"}, g.pemBody(300)...)
	cert = append(cert, "-----END CERTIFICATE-----")
	return []string{
		"HEAD is now at " + g.hex(40) + " Fix the flaky test",
		"commit " + g.hex(40),
		"Merge " + g.hex(7) + " into " + g.hex(7),
		"run 123e4567-e89b-12d3-a456-426614174000 started",
		"request-id: " + strings.ToUpper(hex.EncodeToString(g.bytes(4))) + ":" + strings.ToUpper(g.hex(12)),
		`want "SGVsbG8sIFdvcmxkIQ==" got "SGVsbG8sIFdvcmxkIQ"`,
		"base64: dGVzdCBkYXRhIGZvciB0aGUgZGVjb2Rlcg==",
		"docker.io/library/golang@sha256:" + g.hex(64),
		"Digest: sha256:" + g.hex(64),
		"github.com/stretchr/testify v1.9.0 h1:" + sum(32),
		"github.com/stretchr/testify v1.9.0/go.mod h1:" + sum(32),
		`"integrity": "sha512-` + sum(64) + `",`,
		"go: downloading golang.org/x/sys v0.0.0-20250401214520-65e299d6c5c9",
		"Successfully installed requests-2.31.0 urllib3-2.2.1 pypi-simple-1.5.0",
		"version v1.2.3-rc.1+build.5",
		"2024-05-01T12:00:00.1234567Z starting",
		"/home/runner/work/repo/repo/internal/tokens/refresh.go:42:17: undefined: Token",
		`C:\Users\runneradmin\AppData\Local\Temp\go-build1234\b001\exe\app.exe`,
		"Downloading https://proxy.golang.org/github.com/x/y/@v/v1.0.0.zip",
		"remote: https://github.com/owner/repo/pull/12",
		"git@github.com:owner/repo.git",
		"http://127.0.0.1:5432/db",
		"password=true",
		"GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
		"token=${{ secrets.NPM_TOKEN }}",
		"DB_PASSWORD=$DB_PASSWORD",
		"password: ${POSTGRES_PASSWORD}",
		"secret: ***",
		"max_tokens=512 temperature=0.2",
		"Cache key: Linux-go-" + g.hex(8),
		"key: ${{ runner.os }}-go-${{ hashFiles('**/go.sum') }}",
		"--- FAIL: TestTokenRefresh (0.01s) password authentication failed for user \"postgres\"",
		"SyntaxError: Unexpected token } in JSON at position 12",
		"at com.example.auth.TokenService.refresh(TokenService.java:42)",
		"echo \"$TOKEN\" | docker login ghcr.io -u bot --password-stdin",
		"Login Succeeded",
		"-----BEGIN PUBLIC KEY-----",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + g.b64(43) + " runner@host",
		"md5: " + g.hex(32),
		g.hex(64) + "  dist/app.tar.gz",
		"pod/api-7d9f8b6c5d-x2x9k condition met",
		"npm ERR! code E401",
		"secret_key_base is missing, set SECRET_KEY_BASE",
		strings.Join(cert, "\n"),
		// Shapes seen in real logs.
		"PASS: benchmark ('inductor_cpu_case', 'instruction_count') pass, actual result 1234567 +0.42% is within expected 1230000 ±10.00%",
		"PASS: TestLogin (0.01s)",
		"  server-password: GITHUB_TOKEN",
		"  password: MAVEN_GPG_PASSPHRASE",
		"[command]/usr/bin/git config --local http.https://github.com/.extraheader AUTHORIZATION: basic ***",
		"Authorization: Bearer ***",
	}
}

// leaked reports the parts of secret that survive in out: the whole secret or any 12
// characters of it.
func leaked(out, secret string) bool {
	const w = 12
	if len(secret) <= w {
		return strings.Contains(out, secret)
	}
	for i := 0; i+w <= len(secret); i++ {
		if strings.Contains(out, secret[i:i+w]) {
			return true
		}
	}
	return false
}

// redactText runs text the way an excerpt is redacted: as lines.
func redactText(text string) string {
	return strings.Join(Lines(strings.Split(text, "\n")), "\n")
}

func TestCorpusSecretsAreRedacted(t *testing.T) {
	t.Parallel()
	cs := secretCorpus()
	shapes := 0
	for _, c := range cs {
		shapes++
		if len(c.secrets) == 0 {
			t.Fatalf("%s: no secret", c.name)
		}
	}
	if shapes < 60 {
		t.Fatalf("the corpus has %d secret shapes, want at least 60", shapes)
	}
	leaks := 0
	for _, c := range cs {
		outs := map[string]string{"Lines": redactText(c.text), "String": String(c.text)}
		bad := false
		for via, out := range outs {
			for _, s := range c.secrets {
				if leaked(out, s) {
					bad = true
					t.Errorf("%s: via %s a secret survives:\n  in:  %s\n  out: %s", c.name, via, c.text, out)
					break
				}
			}
		}
		if bad {
			leaks++
		}
	}
	t.Logf("%d of %d secret shapes leaked", leaks, shapes)
}

func TestCorpusLookAlikesStay(t *testing.T) {
	t.Parallel()
	la := lookAlikes()
	if len(la) < 30 {
		t.Fatalf("%d look-alikes, want at least 30", len(la))
	}
	changed := 0
	for _, s := range la {
		if out := redactText(s); out != s {
			changed++
			t.Errorf("a look-alike was changed:\n  in:  %s\n  out: %s", s, out)
		}
		if out := String(s); out != s {
			t.Errorf("String changed a look-alike:\n  in:  %s\n  out: %s", s, out)
		}
	}
	t.Logf("%d of %d look-alikes changed", changed, len(la))
}
