package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
)

// testPEM passes PrivateKey's shape check; it is not a usable key.
const testPEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"

// env is a map-based lookup for Load.
func env(m map[string]string) func(string) (string, bool) {
	return func(key string) (string, bool) {
		v, ok := m[key]
		return v, ok
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// validConfig is a configuration without any problem at all.
func validConfig() config.Config {
	cfg := config.Default()
	cfg.GitHubAppID = 12345
	cfg.GitHubPrivateKey = testPEM
	cfg.GitHubWebhookSecret = "whsec"
	cfg.AdminToken = "admin"
	return cfg
}

func fatals(problems []string) []string {
	var out []string
	for _, p := range problems {
		if strings.HasPrefix(p, config.Fatal+": ") {
			out = append(out, p)
		}
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env(nil))
	require.NoError(t, err)
	require.Equal(t, config.Default(), cfg)

	require.Equal(t, "https://api.github.com/", cfg.GitHubAPIURL)
	require.Equal(t, 8080, cfg.Port)
	require.Equal(t, "info", cfg.LogLevel)
	require.Equal(t, 300*time.Second, cfg.HealthCheckInterval)
	require.Equal(t, 30*time.Minute, cfg.WorkflowDefaultTimeout)
	require.Equal(t, 30*time.Second, cfg.WorkflowRetryDelay)
	require.Equal(t, 10, cfg.MaxConcurrentWorkflows)
	require.Equal(t, 3, cfg.EscalationThreshold)
	require.InDelta(t, 80, cfg.AlertCPUPercent, 0)
	require.InDelta(t, 85, cfg.AlertMemoryPercent, 0)
	require.InDelta(t, 10, cfg.AlertErrorRatePercent, 0)
	require.Equal(t, 5000, cfg.AlertResponseTimeMS)
	require.InDelta(t, 70, cfg.AlertHealthScore, 0)
	require.True(t, cfg.MonitoringEnabled)
	require.True(t, cfg.RecoveryEnabled)
	require.False(t, cfg.Debug)
	require.False(t, cfg.HasAppCredentials())

	// The defaults start the server: only warnings (no app yet, no admin token).
	problems := cfg.Validate()
	require.False(t, config.HasFatal(problems), problems)
	require.NotEmpty(t, problems)
	for _, p := range problems {
		require.True(t, strings.HasPrefix(p, config.Warning+": "), p)
	}
}

func TestLoadFileThenEnvironment(t *testing.T) {
	t.Parallel()
	keyPath := writeFile(t, "key.pem", testPEM)
	path := writeFile(t, "autonomous.yml", `
# every key is an environment variable name in lower case
github_app_id: 4242
github_private_key_path: `+keyPath+`
github_webhook_secret: file-secret
github_api_url: http://127.0.0.1:9999/api/v3/
codegen_org_id: "7"
codegen_token: file-codegen
database_url: sqlite://data/test.db
port: 9090
debug: true
monitoring_enabled: false
log_level: debug
health_check_interval: 90s
workflow_default_timeout: 600
workflow_retry_delay: 1.5
max_concurrent_workflows: 4
escalation_threshold: 5
log_bytes_limit: 2048
alert_cpu_percent: 91.5
alert_response_time_ms: 2500
admin_token: file-admin
`)
	cfg, err := config.Load(path, env(map[string]string{
		"PORT":                  "7070",
		"GITHUB_WEBHOOK_SECRET": "env-secret",
		"LOG_LEVEL":             "warn",
		"ALERT_CPU_PERCENT":     " 50 ",
		"DEBUG":                 "false",
		"UNRELATED_VARIABLE":    "ignored",
	}))
	require.NoError(t, err)

	// From the file.
	require.Equal(t, int64(4242), cfg.GitHubAppID)
	require.Equal(t, keyPath, cfg.GitHubPrivateKeyPath)
	require.Equal(t, "http://127.0.0.1:9999/api/v3/", cfg.GitHubAPIURL)
	require.Equal(t, "7", cfg.CodegenOrgID)
	require.Equal(t, "file-codegen", cfg.CodegenToken)
	require.Equal(t, "sqlite://data/test.db", cfg.DatabaseURL)
	require.False(t, cfg.MonitoringEnabled)
	require.Equal(t, 90*time.Second, cfg.HealthCheckInterval)
	require.Equal(t, 10*time.Minute, cfg.WorkflowDefaultTimeout)
	require.Equal(t, 1500*time.Millisecond, cfg.WorkflowRetryDelay)
	require.Equal(t, 4, cfg.MaxConcurrentWorkflows)
	require.Equal(t, 5, cfg.EscalationThreshold)
	require.Equal(t, int64(2048), cfg.LogBytesLimit)
	require.Equal(t, 2500, cfg.AlertResponseTimeMS)
	require.Equal(t, "file-admin", cfg.AdminToken)

	// The environment wins.
	require.Equal(t, 7070, cfg.Port)
	require.Equal(t, "env-secret", cfg.GitHubWebhookSecret)
	require.Equal(t, "warn", cfg.LogLevel)
	require.InDelta(t, 50, cfg.AlertCPUPercent, 0)
	require.False(t, cfg.Debug)

	// Untouched defaults stay.
	require.True(t, cfg.RecoveryEnabled)
	require.InDelta(t, 85, cfg.AlertMemoryPercent, 0)
	require.Equal(t, "https://api.linear.app/graphql", cfg.LinearAPIURL)

	require.True(t, cfg.HasAppCredentials())
	require.Empty(t, cfg.Validate())
}

// TestLoadFileKeepsLiteralValues: a value in the file means the same text as in the environment,
// never a YAML-typed reinterpretation of it.
func TestLoadFileKeepsLiteralValues(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "autonomous.yml", `
github_webhook_secret: 007
codegen_token: 0x1F
linear_api_key: 1e3
slack_webhook_url:
github_token: ~
admin_token: yes
github_app_slug: "quoted"
github_private_key: |
  -----BEGIN RSA PRIVATE KEY-----
  abc
  -----END RSA PRIVATE KEY-----
`)
	cfg, err := config.Load(path, env(nil))
	require.NoError(t, err)
	require.Equal(t, "007", cfg.GitHubWebhookSecret)
	require.Equal(t, "0x1F", cfg.CodegenToken)
	require.Equal(t, "1e3", cfg.LinearAPIKey)
	require.Equal(t, "", cfg.SlackWebhookURL)
	require.Equal(t, "", cfg.GitHubToken)
	require.Equal(t, "yes", cfg.AdminToken)
	require.Equal(t, "quoted", cfg.GitHubAppSlug)
	require.Equal(t, "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", cfg.GitHubPrivateKey)
}

func TestLoadFileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		content *string
		wantErr string
	}{
		{name: "missing file", wantErr: "failed to read config file"},
		{name: "not yaml", content: ptr("port: [1, 2\n"), wantErr: "failed to parse config file"},
		{name: "a list, not a mapping", content: ptr("- port\n- debug\n"), wantErr: "failed to parse config file"},
		{name: "a scalar, not a mapping", content: ptr("just text\n"), wantErr: "failed to parse config file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "missing.yml")
			if tc.content != nil {
				path = writeFile(t, "autonomous.yml", *tc.content)
			}
			cfg, err := config.Load(path, env(map[string]string{"PORT": "1234"}))
			require.ErrorContains(t, err, tc.wantErr)
			require.ErrorContains(t, err, path)
			require.Equal(t, 8080, cfg.Port, "a failed load returns the defaults")
		})
	}
}

func TestLoadEmptyFile(t *testing.T) {
	t.Parallel()
	for _, content := range []string{"", "\n", "# only a comment\n", "---\n", "~\n"} {
		cfg, err := config.Load(writeFile(t, "autonomous.yml", content), env(nil))
		require.NoError(t, err, "%q", content)
		require.Equal(t, config.Default(), cfg, "%q", content)
	}
}

func ptr(s string) *string { return &s }

// TestParseErrorsBecomeValidateLines: every value that does not parse, from the environment or
// the file, is one "error: " line naming the setting.
func TestParseErrorsBecomeValidateLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		file string
		want string
	}{
		{name: "bad int", env: map[string]string{"PORT": "eighty"}, want: `error: PORT: "eighty" is not a valid integer`},
		{name: "int with fraction", env: map[string]string{"MAX_CONCURRENT_WORKFLOWS": "2.5"}, want: `error: MAX_CONCURRENT_WORKFLOWS: "2.5" is not a valid integer`},
		{name: "bad app id", env: map[string]string{"GITHUB_APP_ID": "12ab"}, want: `error: GITHUB_APP_ID: "12ab" is not a valid integer`},
		{name: "bad log bytes limit", env: map[string]string{"LOG_BYTES_LIMIT": "64MB"}, want: `error: LOG_BYTES_LIMIT: "64MB" is not a valid integer`},
		{name: "bad http cache bytes", env: map[string]string{"GITHUB_HTTP_CACHE_BYTES": "32MiB"}, want: `error: GITHUB_HTTP_CACHE_BYTES: "32MiB" is not a valid integer`},
		{name: "bad bool", env: map[string]string{"DEBUG": "maybe"}, want: `error: DEBUG: "maybe" is not a valid boolean`},
		{name: "empty bool", env: map[string]string{"RECOVERY_ENABLED": ""}, want: `error: RECOVERY_ENABLED: "" is not a valid boolean`},
		{name: "bad float", env: map[string]string{"ALERT_CPU_PERCENT": "80%"}, want: `error: ALERT_CPU_PERCENT: "80%" is not a valid number`},
		{name: "NaN float", env: map[string]string{"ALERT_HEALTH_SCORE": "NaN"}, want: `error: ALERT_HEALTH_SCORE: "NaN" is not a valid number`},
		{name: "infinite float", env: map[string]string{"ALERT_MEMORY_PERCENT": "-Inf"}, want: `error: ALERT_MEMORY_PERCENT: "-Inf" is not a valid number`},
		{name: "bad duration", env: map[string]string{"HEALTH_CHECK_INTERVAL": "5 minutes"}, want: `error: HEALTH_CHECK_INTERVAL: "5 minutes" is not a valid duration`},
		{name: "NaN duration", env: map[string]string{"WORKFLOW_RETRY_DELAY": "NaN"}, want: `error: WORKFLOW_RETRY_DELAY: "NaN" is not a valid duration`},
		{name: "infinite duration", env: map[string]string{"WORKFLOW_DEFAULT_TIMEOUT": "Inf"}, want: `error: WORKFLOW_DEFAULT_TIMEOUT: "Inf" is not a valid duration`},
		{name: "overflowing duration", env: map[string]string{"WORKFLOW_DEFAULT_TIMEOUT": "1e300"}, want: `error: WORKFLOW_DEFAULT_TIMEOUT: "1e300" is not a valid duration`},
		{name: "bad int in file", file: "port: high\n", want: `error: PORT: "high" is not a valid integer`},
		{name: "bad bool in file", file: "auto_restart_enabled: sometimes\n", want: `error: AUTO_RESTART_ENABLED: "sometimes" is not a valid boolean`},
		{name: "bad float in file", file: "alert_error_rate_percent: ten\n", want: `error: ALERT_ERROR_RATE_PERCENT: "ten" is not a valid number`},
		{name: "bad duration in file", file: "workflow_retry_delay: 30 s\n", want: `error: WORKFLOW_RETRY_DELAY: "30 s" is not a valid duration`},
		{name: "empty int in file", file: "escalation_threshold:\n", want: `error: ESCALATION_THRESHOLD: "" is not a valid integer`},
		{name: "unknown key in file", file: "prot: 8080\n", want: "error: PROT: unknown setting"},
		{name: "nested value in file", file: "port:\n  value: 80\n", want: "error: PORT: must be a single value"},
		{name: "list value in file", file: "log_level: [info]\n", want: "error: LOG_LEVEL: must be a single value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tc.file != "" {
				path = writeFile(t, "autonomous.yml", tc.file)
			}
			cfg, err := config.Load(path, env(tc.env))
			require.NoError(t, err, "parse problems are reported by Validate, not Load")
			problems := cfg.Validate()
			require.Contains(t, strings.Join(problems, "\n"), tc.want)
			require.True(t, config.HasFatal(problems))
		})
	}
}

func TestLoadReportsEveryParseError(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "autonomous.yml", "port: x\nunknown_one: 1\n")
	cfg, err := config.Load(path, env(map[string]string{"DEBUG": "x", "ALERT_CPU_PERCENT": "x"}))
	require.NoError(t, err)
	got := strings.Join(fatals(cfg.Validate()), "\n")
	for _, want := range []string{"PORT:", "UNKNOWN_ONE: unknown setting", "DEBUG:", "ALERT_CPU_PERCENT:"} {
		require.Contains(t, got, want)
	}
}

func TestLoadDurations(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]time.Duration{
		"90":    90 * time.Second,
		"1.5":   1500 * time.Millisecond,
		"90s":   90 * time.Second,
		"5m":    5 * time.Minute,
		"1h30m": 90 * time.Minute,
		" 2m ":  2 * time.Minute,
	} {
		cfg, err := config.Load("", env(map[string]string{"HEALTH_CHECK_INTERVAL": value}))
		require.NoError(t, err)
		require.Equal(t, want, cfg.HealthCheckInterval, value)
		require.Empty(t, fatals(cfg.Validate()), value)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
		want   string // a substring of one line; empty: no problem at all
	}{
		{name: "valid", mutate: func(*config.Config) {}},
		{name: "no credentials", mutate: func(c *config.Config) { c.GitHubAppID = 0; c.GitHubPrivateKey = ""; c.GitHubWebhookSecret = "" },
			want: "warning: GITHUB_APP_ID, GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH) and GITHUB_WEBHOOK_SECRET are not all set"},
		{name: "no private key", mutate: func(c *config.Config) { c.GitHubPrivateKey = "" }, want: "warning: GITHUB_APP_ID, GITHUB_PRIVATE_KEY"},
		{name: "app without webhook secret", mutate: func(c *config.Config) { c.GitHubWebhookSecret = "" },
			want: "error: GITHUB_WEBHOOK_SECRET is required"},
		{name: "negative app id", mutate: func(c *config.Config) { c.GitHubAppID = -3 }, want: "error: GITHUB_APP_ID must be a positive integer"},
		{name: "private key not PEM", mutate: func(c *config.Config) { c.GitHubPrivateKey = "garbage" },
			want: "error: GITHUB_PRIVATE_KEY is not a PEM private key"},
		{name: "private key path missing", mutate: func(c *config.Config) {
			c.GitHubPrivateKey = ""
			c.GitHubPrivateKeyPath = filepath.Join(os.TempDir(), "autonomous-no-such-dir", "key.pem")
		}, want: "error: failed to read GITHUB_PRIVATE_KEY_PATH"},
		{name: "no admin token", mutate: func(c *config.Config) { c.AdminToken = "" }, want: "warning: ADMIN_TOKEN is not set"},
		{name: "github api url without scheme", mutate: func(c *config.Config) { c.GitHubAPIURL = "api.github.com" }, want: "error: GITHUB_API_URL must be an http(s) URL"},
		{name: "github url with other scheme", mutate: func(c *config.Config) { c.GitHubURL = "ftp://github.com" }, want: "error: GITHUB_URL must be an http(s) URL"},
		{name: "codegen url without host", mutate: func(c *config.Config) { c.CodegenAPIURL = "https://" }, want: "error: CODEGEN_API_URL must be an http(s) URL"},
		{name: "linear url unparsable", mutate: func(c *config.Config) { c.LinearAPIURL = "http://[::1" }, want: "error: LINEAR_API_URL must be an http(s) URL"},
		{name: "slack url relative", mutate: func(c *config.Config) { c.SlackWebhookURL = "/services/x" }, want: "error: SLACK_WEBHOOK_URL must be an http(s) URL"},
		{name: "public url bad", mutate: func(c *config.Config) { c.PublicURL = "localhost:8080" }, want: "error: PUBLIC_URL must be an http(s) URL"},
		{name: "loopback urls are fine", mutate: func(c *config.Config) {
			c.GitHubAPIURL = "http://127.0.0.1:1234/api/v3/"
			c.SlackWebhookURL = "http://127.0.0.1:1235/hook"
			c.PublicURL = "https://bot.example.com"
		}},
		{name: "bad database url", mutate: func(c *config.Config) { c.DatabaseURL = "mysql://db/x" }, want: "error: DATABASE_URL must be a postgres://"},
		{name: "empty sqlite database url", mutate: func(c *config.Config) { c.DatabaseURL = "sqlite://" }, want: "error: DATABASE_URL names no SQLite file"},
		{name: "postgres database url", mutate: func(c *config.Config) { c.DatabaseURL = "postgres://u:p@127.0.0.1/db" }},
		{name: "port zero", mutate: func(c *config.Config) { c.Port = 0 }, want: "error: PORT must be between 1 and 65535, got 0"},
		{name: "port too high", mutate: func(c *config.Config) { c.Port = 65536 }, want: "error: PORT must be between 1 and 65535, got 65536"},
		{name: "port max", mutate: func(c *config.Config) { c.Port = 65535 }},
		{name: "port min", mutate: func(c *config.Config) { c.Port = 1 }},
		{name: "health check too often", mutate: func(c *config.Config) { c.HealthCheckInterval = 500 * time.Millisecond }, want: "error: HEALTH_CHECK_INTERVAL must be at least 1s"},
		{name: "zero timeout", mutate: func(c *config.Config) { c.WorkflowDefaultTimeout = 0 }, want: "error: WORKFLOW_DEFAULT_TIMEOUT must be positive"},
		{name: "negative retry delay", mutate: func(c *config.Config) { c.WorkflowRetryDelay = -time.Second }, want: "error: WORKFLOW_RETRY_DELAY must be positive"},
		{name: "no workflows", mutate: func(c *config.Config) { c.MaxConcurrentWorkflows = 0 }, want: "error: MAX_CONCURRENT_WORKFLOWS must be between 1 and 10000"},
		{name: "too many workflows", mutate: func(c *config.Config) { c.MaxConcurrentWorkflows = 10001 }, want: "error: MAX_CONCURRENT_WORKFLOWS must be between 1 and 10000"},
		{name: "escalation threshold zero", mutate: func(c *config.Config) { c.EscalationThreshold = 0 }, want: "error: ESCALATION_THRESHOLD must be at least 1"},
		{name: "tiny log limit", mutate: func(c *config.Config) { c.LogBytesLimit = 1023 }, want: "error: LOG_BYTES_LIMIT must be at least 1024 bytes"},
		{name: "negative http cache", mutate: func(c *config.Config) { c.GitHubHTTPCacheBytes = -1 }, want: "error: GITHUB_HTTP_CACHE_BYTES must be at least 0"},
		{name: "http cache disabled", mutate: func(c *config.Config) { c.GitHubHTTPCacheBytes = 0 }},
		{name: "log level", mutate: func(c *config.Config) { c.LogLevel = "verbose" }, want: `error: LOG_LEVEL must be one of trace, debug, info, warn, error; got "verbose"`},
		{name: "log level case-insensitive", mutate: func(c *config.Config) { c.LogLevel = "WARNING" }},
		{name: "log level empty", mutate: func(c *config.Config) { c.LogLevel = "" }, want: "error: LOG_LEVEL must be one of"},
		{name: "cpu threshold high", mutate: func(c *config.Config) { c.AlertCPUPercent = 101 }, want: "error: ALERT_CPU_PERCENT must be between 0 and 100, got 101"},
		{name: "memory threshold negative", mutate: func(c *config.Config) { c.AlertMemoryPercent = -1 }, want: "error: ALERT_MEMORY_PERCENT must be between 0 and 100"},
		{name: "error rate threshold high", mutate: func(c *config.Config) { c.AlertErrorRatePercent = 100.5 }, want: "error: ALERT_ERROR_RATE_PERCENT must be between 0 and 100"},
		{name: "health score threshold", mutate: func(c *config.Config) { c.AlertHealthScore = 250 }, want: "error: ALERT_HEALTH_SCORE must be between 0 and 100"},
		{name: "thresholds at bounds", mutate: func(c *config.Config) { c.AlertCPUPercent = 0; c.AlertMemoryPercent = 100 }},
		{name: "codegen org without token", mutate: func(c *config.Config) { c.CodegenOrgID = "1" }, want: "warning: CODEGEN_ORG_ID and CODEGEN_TOKEN must be set together"},
		{name: "codegen token without org", mutate: func(c *config.Config) { c.CodegenToken = "t" }, want: "warning: CODEGEN_ORG_ID and CODEGEN_TOKEN must be set together"},
		{name: "codegen pair", mutate: func(c *config.Config) { c.CodegenOrgID = "1"; c.CodegenToken = "t" }},
		{name: "linear key without team", mutate: func(c *config.Config) { c.LinearAPIKey = "k" }, want: "warning: LINEAR_API_KEY and LINEAR_TEAM_ID must be set together"},
		{name: "linear team without key", mutate: func(c *config.Config) { c.LinearTeamID = "team" }, want: "warning: LINEAR_API_KEY and LINEAR_TEAM_ID must be set together"},
		{name: "linear pair", mutate: func(c *config.Config) { c.LinearAPIKey = "k"; c.LinearTeamID = "team" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tc.mutate(&cfg)
			problems := cfg.Validate()
			if tc.want == "" {
				require.Empty(t, problems)
				return
			}
			require.Contains(t, strings.Join(problems, "\n"), tc.want)
			require.Equal(t, strings.HasPrefix(tc.want, "error: "), config.HasFatal(problems), problems)
			for _, p := range problems {
				require.True(t, strings.HasPrefix(p, "error: ") || strings.HasPrefix(p, "warning: "), p)
			}
		})
	}
}

func TestValidateNaNThreshold(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.AlertCPUPercent = nanValue()
	require.Contains(t, strings.Join(cfg.Validate(), "\n"), "error: ALERT_CPU_PERCENT must be between 0 and 100")
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

// TestValidateNeverLeaksSecrets: no secret value appears in any line, even when the secret
// itself (or the setting around it) is invalid.
func TestValidateNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	const (
		keySecret     = "PRIVKEY-s3cr3t-material"
		webhookSecret = "whsec-s3cr3t"
		githubToken   = "ghp_s3cr3tT0ken"
		codegenToken  = "cg-s3cr3t"
		linearKey     = "lin_api_s3cr3t"
		adminToken    = "admin-s3cr3t"
		dbPassword    = "dbpa55-s3cr3t"
		slackSecret   = "T000/B000/slack-s3cr3t"
	)
	secrets := []string{keySecret, webhookSecret, githubToken, codegenToken, linearKey, adminToken, dbPassword, slackSecret}

	keyFile := writeFile(t, "key.pem", "not a key "+keySecret)
	for _, tc := range []struct {
		name string
		env  map[string]string
		file string
	}{
		{name: "invalid private key and half-set pairs", env: map[string]string{
			"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": keySecret, "GITHUB_WEBHOOK_SECRET": webhookSecret,
			"GITHUB_TOKEN": githubToken, "CODEGEN_TOKEN": codegenToken, "LINEAR_API_KEY": linearKey,
			"ADMIN_TOKEN": adminToken,
		}},
		{name: "invalid private key file", env: map[string]string{
			"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY_PATH": keyFile, "GITHUB_WEBHOOK_SECRET": webhookSecret,
		}},
		{name: "secret database url and slack url", env: map[string]string{
			"DATABASE_URL":      "mysql://bot:" + dbPassword + "@127.0.0.1/db",
			"SLACK_WEBHOOK_URL": "hooks.slack.com/services/" + slackSecret,
		}},
		{name: "unparsable secret urls", env: map[string]string{
			"DATABASE_URL":      dbPassword,
			"SLACK_WEBHOOK_URL": "http://[" + slackSecret,
			"PUBLIC_URL":        "ftp://" + adminToken,
		}},
		{name: "secrets in every other field and parse errors", env: map[string]string{
			"GITHUB_PRIVATE_KEY": keySecret, "GITHUB_WEBHOOK_SECRET": webhookSecret, "CODEGEN_TOKEN": codegenToken,
			"LINEAR_API_KEY": linearKey, "PORT": "x", "DEBUG": "y", "GITHUB_APP_ID": "-5",
		}},
		{name: "secrets as non-scalar file values", file: "github_private_key: [" + keySecret + "]\n" +
			"github_webhook_secret:\n  value: " + webhookSecret + "\n" +
			"github_token: {t: " + githubToken + "}\n" +
			"codegen_token: &anchor [" + codegenToken + "]\n" +
			"linear_api_key: *anchor\n" +
			"admin_tokn: " + adminToken + "\n"},
		{name: "secrets in file with invalid key", file: "github_app_id: 3\ngithub_private_key: " + keySecret +
			"\ngithub_webhook_secret: " + webhookSecret + "\nlinear_api_key: " + linearKey + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tc.file != "" {
				path = writeFile(t, "autonomous.yml", tc.file)
			}
			cfg, err := config.Load(path, env(tc.env))
			require.NoError(t, err)
			problems := cfg.Validate()
			require.True(t, config.HasFatal(problems) || len(problems) > 0)
			for _, p := range problems {
				for _, s := range secrets {
					require.NotContains(t, p, s, "a Validate line leaks a secret")
				}
			}
			if _, err := cfg.PrivateKey(); err != nil {
				for _, s := range secrets {
					require.NotContains(t, err.Error(), s)
				}
			}
		})
	}
}

func TestPrivateKey(t *testing.T) {
	t.Parallel()
	escaped := strings.ReplaceAll(testPEM, "\n", `\n`)
	keyFile := writeFile(t, "key.pem", testPEM)
	badFile := writeFile(t, "bad.pem", "hunter2")
	for _, tc := range []struct {
		name    string
		key     string
		path    string
		want    string
		wantErr string
	}{
		{name: "literal", key: testPEM, want: testPEM},
		{name: "escaped newlines", key: escaped, want: testPEM},
		{name: "file", path: keyFile, want: testPEM},
		{name: "the key wins over the path", key: escaped, path: badFile, want: testPEM},
		{name: "missing file", path: filepath.Join(t.TempDir(), "none.pem"), wantErr: "failed to read GITHUB_PRIVATE_KEY_PATH"},
		{name: "not PEM", key: "hunter2", wantErr: "GITHUB_PRIVATE_KEY is not a PEM private key"},
		{name: "file not PEM", path: badFile, wantErr: "GITHUB_PRIVATE_KEY_PATH is not a PEM private key"},
		{name: "public key", key: "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----", wantErr: "not a PEM private key"},
		{name: "nothing", wantErr: "not a PEM private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Default()
			cfg.GitHubPrivateKey = tc.key
			cfg.GitHubPrivateKeyPath = tc.path
			got, err := cfg.PrivateKey()
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.NotContains(t, err.Error(), "hunter2")
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}

func TestPrivateKeyFromEnvironmentWithEscapes(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env(map[string]string{
		"GITHUB_APP_ID": "9", "GITHUB_WEBHOOK_SECRET": "s",
		"GITHUB_PRIVATE_KEY": strings.ReplaceAll(testPEM, "\n", `\n`), "ADMIN_TOKEN": "a",
	}))
	require.NoError(t, err)
	key, err := cfg.PrivateKey()
	require.NoError(t, err)
	require.Equal(t, testPEM, string(key))
	require.Empty(t, cfg.Validate())
}

func TestParseDatabaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, driver, dsn string
		wantErr          bool
	}{
		{raw: "", driver: "sqlite", dsn: "data/autonomous.db"},
		{raw: "postgres://u:p@127.0.0.1:5432/db?sslmode=disable", driver: "postgres", dsn: "postgres://u:p@127.0.0.1:5432/db?sslmode=disable"},
		{raw: "postgresql://127.0.0.1/db", driver: "postgres", dsn: "postgresql://127.0.0.1/db"},
		{raw: "sqlite://data/x.db", driver: "sqlite", dsn: "data/x.db"},
		{raw: "sqlite:///var/lib/x.db", driver: "sqlite", dsn: "/var/lib/x.db"},
		{raw: "sqlite:data/x.db", driver: "sqlite", dsn: "data/x.db"},
		{raw: "sqlite::memory:", driver: "sqlite", dsn: ":memory:"},
		{raw: "file:data/x.db?_pragma=busy_timeout(5000)", driver: "sqlite", dsn: "file:data/x.db?_pragma=busy_timeout(5000)"},
		{raw: "sqlite://", wantErr: true},
		{raw: "sqlite:", wantErr: true},
		{raw: "file:", wantErr: true},
		{raw: "file:?mode=memory", wantErr: true},
		{raw: "mysql://u:p@127.0.0.1/db", wantErr: true},
		{raw: "data/autonomous.db", driver: "sqlite", dsn: "data/autonomous.db"},
		{raw: "./data/autonomous.db", driver: "sqlite", dsn: "./data/autonomous.db"},
		{raw: "/x/data/autonomous.db", driver: "sqlite", dsn: "/x/data/autonomous.db"},
		{raw: "autonomous.db", driver: "sqlite", dsn: "autonomous.db"},
		{raw: `C:\data\autonomous.db`, driver: "sqlite", dsn: `C:\data\autonomous.db`},
		{raw: "localhost:5432/db", wantErr: true},
		{raw: "POSTGRES", wantErr: true},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			driver, dsn, err := config.ParseDatabaseURL(tc.raw)
			if tc.wantErr {
				require.Error(t, err)
				require.Contains(t, err.Error(), "DATABASE_URL")
				if tc.raw != "" {
					require.NotContains(t, err.Error(), tc.raw)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.driver, driver)
			require.Equal(t, tc.dsn, dsn)
		})
	}
}

func TestHasFatal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		problems []string
		want     bool
	}{
		{problems: nil},
		{problems: []string{}},
		{problems: []string{"warning: a"}},
		{problems: []string{"warning: a", "error: b"}, want: true},
		{problems: []string{"error: b"}, want: true},
		{problems: []string{"errors: not a prefix"}},
		{problems: []string{"error:no space"}},
		{problems: []string{"warning: error: inside"}},
	} {
		require.Equal(t, tc.want, config.HasFatal(tc.problems), tc.problems)
	}
}

func TestHasAppCredentials(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	require.True(t, cfg.HasAppCredentials())
	cfg.GitHubPrivateKey, cfg.GitHubPrivateKeyPath = "", "/some/key.pem"
	require.True(t, cfg.HasAppCredentials())
	cfg.GitHubPrivateKeyPath = ""
	require.False(t, cfg.HasAppCredentials())
	cfg = validConfig()
	cfg.GitHubWebhookSecret = ""
	require.False(t, cfg.HasAppCredentials())
	cfg = validConfig()
	cfg.GitHubAppID = 0
	require.False(t, cfg.HasAppCredentials())
}

func TestGitHubHTTPCacheBytes(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env(nil))
	require.NoError(t, err)
	require.Equal(t, int64(32<<20), cfg.GitHubHTTPCacheBytes)
	for value, want := range map[string]int64{"0": 0, " 1048576 ": 1 << 20} {
		cfg, err := config.Load("", env(map[string]string{"GITHUB_HTTP_CACHE_BYTES": value}))
		require.NoError(t, err)
		require.Equal(t, want, cfg.GitHubHTTPCacheBytes)
		require.False(t, config.HasFatal(cfg.Validate()))
	}
}

func TestGitHubHTTPCacheDir(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env(nil))
	require.NoError(t, err)
	require.Empty(t, cfg.GitHubHTTPCacheDir, "a temporary directory by default")
	cfg, err = config.Load("", env(map[string]string{"GITHUB_HTTP_CACHE_DIR": " /var/cache/autonomous "}))
	require.NoError(t, err)
	require.Equal(t, "/var/cache/autonomous", cfg.GitHubHTTPCacheDir)
	require.False(t, config.HasFatal(cfg.Validate()))
}
