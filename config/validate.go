package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// Problem severities used as prefixes of Validate's lines.
const (
	// Fatal problems stop `serve` and make `init` exit 1.
	Fatal = "error"
	// Warning problems are printed but the server still starts (e.g. no GitHub App yet).
	Warning = "warning"
)

// Validate returns every configuration problem, one line each, prefixed by "error: " or
// "warning: ". It never includes secret values.
func (c Config) Validate() []string {
	var problems []string
	fatal := func(format string, args ...any) {
		problems = append(problems, Fatal+": "+fmt.Sprintf(format, args...))
	}
	warn := func(format string, args ...any) {
		problems = append(problems, Warning+": "+fmt.Sprintf(format, args...))
	}
	for _, p := range c.parseErrors {
		fatal("%s", p)
	}
	if !c.HasAppCredentials() {
		warn("GITHUB_APP_ID, GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH) and GITHUB_WEBHOOK_SECRET are not all set: serve will show the app setup page")
	} else {
		if _, err := c.PrivateKey(); err != nil {
			fatal("%v", err)
		}
	}
	if c.GitHubWebhookSecret == "" && c.GitHubAppID != 0 {
		fatal("GITHUB_WEBHOOK_SECRET is required: webhooks are never accepted unsigned")
	}
	if c.GitHubAppID < 0 {
		fatal("GITHUB_APP_ID must be a positive integer, got %d", c.GitHubAppID)
	}
	for _, u := range []struct{ name, raw string }{
		{"GITHUB_API_URL", c.GitHubAPIURL}, {"GITHUB_URL", c.GitHubURL}, {"CODEGEN_API_URL", c.CodegenAPIURL},
		{"LINEAR_API_URL", c.LinearAPIURL}, {"SLACK_WEBHOOK_URL", c.SlackWebhookURL}, {"PUBLIC_URL", c.PublicURL},
		{"GO_PROXY_URL", c.GoProxyURL}, {"NPM_REGISTRY_URL", c.NPMRegistryURL}, {"PYPI_URL", c.PyPIURL}, {"OSV_API_URL", c.OSVAPIURL},
	} {
		name, raw := u.name, u.raw
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fatal("%s must be an http(s) URL", name)
		}
	}
	if c.DatabaseURL != "" {
		if _, _, err := ParseDatabaseURL(c.DatabaseURL); err != nil {
			fatal("%v", err)
		}
	}
	if c.Port <= 0 || c.Port > 65535 {
		fatal("PORT must be between 1 and 65535, got %d", c.Port)
	}
	problems = append(problems, c.validateBindAddr()...)
	if c.HealthCheckInterval < 1e9 {
		fatal("HEALTH_CHECK_INTERVAL must be at least 1s, got %s", c.HealthCheckInterval)
	}
	if c.WebhookRedeliveryInterval != 0 && c.WebhookRedeliveryInterval < 60e9 {
		fatal("WEBHOOK_REDELIVERY_INTERVAL must be 0 (off) or at least 1m, got %s", c.WebhookRedeliveryInterval)
	}
	if c.PerformanceCheckInterval < 60e9 {
		fatal("PERFORMANCE_CHECK_INTERVAL must be at least 1m, got %s", c.PerformanceCheckInterval)
	}
	if c.PerformanceHistorySize < 1 {
		fatal("PERFORMANCE_HISTORY_SIZE must be at least 1, got %d", c.PerformanceHistorySize)
	}
	if c.WorkflowDefaultTimeout <= 0 {
		fatal("WORKFLOW_DEFAULT_TIMEOUT must be positive, got %s", c.WorkflowDefaultTimeout)
	}
	if c.CodegenPollInterval < 0 {
		fatal("CODEGEN_POLL_INTERVAL must not be negative, got %s", c.CodegenPollInterval)
	}
	if c.WorkflowRetryDelay <= 0 {
		fatal("WORKFLOW_RETRY_DELAY must be positive, got %s", c.WorkflowRetryDelay)
	}
	if c.MaxConcurrentWorkflows < 1 || c.MaxConcurrentWorkflows > 10000 {
		fatal("MAX_CONCURRENT_WORKFLOWS must be between 1 and 10000, got %d", c.MaxConcurrentWorkflows)
	}
	if c.EscalationThreshold < 1 {
		fatal("ESCALATION_THRESHOLD must be at least 1, got %d", c.EscalationThreshold)
	}
	if c.AlertCooldown < 0 {
		fatal("ALERT_COOLDOWN must be at least 0 (0 sends every repeat), got %s", c.AlertCooldown)
	}
	if c.LogBytesLimit < 1024 {
		fatal("LOG_BYTES_LIMIT must be at least 1024 bytes, got %d", c.LogBytesLimit)
	}
	if c.GitHubHTTPCacheBytes < 0 {
		fatal("GITHUB_HTTP_CACHE_BYTES must be at least 0 (0 disables the cache), got %d", c.GitHubHTTPCacheBytes)
	}
	switch strings.ToLower(c.LogLevel) {
	case "trace", "debug", "info", "warn", "warning", "error":
	default:
		fatal("LOG_LEVEL must be one of trace, debug, info, warn, error; got %q", c.LogLevel)
	}
	for _, t := range []struct {
		name string
		v    float64
	}{
		{"ALERT_CPU_PERCENT", c.AlertCPUPercent}, {"ALERT_MEMORY_PERCENT", c.AlertMemoryPercent},
		{"ALERT_ERROR_RATE_PERCENT", c.AlertErrorRatePercent}, {"ALERT_HEALTH_SCORE", c.AlertHealthScore},
		{"ALERT_DISK_PERCENT", c.AlertDiskPercent},
	} {
		name, v := t.name, t.v
		if !(v >= 0 && v <= 100) { // also rejects NaN
			fatal("%s must be between 0 and 100, got %g", name, v)
		}
	}
	if (c.CodegenOrgID == "") != (c.CodegenToken == "") {
		warn("CODEGEN_ORG_ID and CODEGEN_TOKEN must be set together: the AI fix agent is disabled")
	}
	if (c.LinearAPIKey == "") != (c.LinearTeamID == "") {
		warn("LINEAR_API_KEY and LINEAR_TEAM_ID must be set together: Linear escalations are disabled")
	}
	if c.AdminToken == "" {
		warn("ADMIN_TOKEN is not set: the dashboard and /api/* operator endpoints are disabled")
	}
	return problems
}

// HasFatal reports whether any of problems is fatal.
func HasFatal(problems []string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, Fatal+": ") {
			return true
		}
	}
	return false
}

// HasAppCredentials reports whether the GitHub App can authenticate.
func (c Config) HasAppCredentials() bool {
	return c.GitHubAppID != 0 && (c.GitHubPrivateKey != "" || c.GitHubPrivateKeyPath != "") && c.GitHubWebhookSecret != ""
}

// PrivateKey returns the app's PEM private key, from GITHUB_PRIVATE_KEY (literal "\n" escapes
// allowed, as .env files need) or the file at GITHUB_PRIVATE_KEY_PATH. Errors name the setting,
// never the key.
func (c Config) PrivateKey() ([]byte, error) {
	key := c.GitHubPrivateKey
	if key == "" && c.GitHubPrivateKeyPath != "" {
		raw, err := os.ReadFile(c.GitHubPrivateKeyPath)
		if err != nil {
			return nil, fmt.Errorf("failed to read GITHUB_PRIVATE_KEY_PATH: %w", err)
		}
		key = string(raw)
	}
	setting := "GITHUB_PRIVATE_KEY"
	if c.GitHubPrivateKey == "" {
		setting = "the file at GITHUB_PRIVATE_KEY_PATH"
	}
	key = strings.ReplaceAll(key, `\n`, "\n")
	if !strings.Contains(key, "-----BEGIN") || !strings.Contains(key, "PRIVATE KEY-----") {
		return nil, fmt.Errorf("%s is not a PEM private key", setting)
	}
	return []byte(key), nil
}

// ParseDatabaseURL returns the driver ("sqlite" or "postgres") and the data source for the
// database/sql driver. Empty means the embedded default file ./data/autonomous.db; a plain
// filesystem path (absolute or relative) names a SQLite file.
func ParseDatabaseURL(raw string) (driver, dsn string, err error) {
	switch {
	case raw == "":
		return "sqlite", "data/autonomous.db", nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return "postgres", raw, nil
	case strings.HasPrefix(raw, "sqlite://"), strings.HasPrefix(raw, "sqlite:"), strings.HasPrefix(raw, "file:"):
		dsn := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if strings.HasPrefix(raw, "file:") {
			dsn = raw
		}
		// An empty path would silently open a throwaway temporary database.
		if p := strings.TrimPrefix(dsn, "file:"); p == "" || p[0] == '?' {
			return "", "", fmt.Errorf("DATABASE_URL names no SQLite file")
		}
		return "sqlite", dsn, nil
	}
	if plainPath(raw) {
		return "sqlite", raw, nil
	}
	return "", "", errors.New("DATABASE_URL must be a postgres://, postgresql://, sqlite:// or file: URL, or a SQLite file path")
}

// urlScheme matches the scheme of a URL ("mysql:", "localhost:"); one letter is a Windows drive.
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]+:`)

// plainPath reports whether raw is a filesystem path (absolute or relative, like the default
// ./data/autonomous.db) rather than a URL: no scheme, and a separator or an extension, so that a
// bare word such as POSTGRES is not taken for a file name.
func plainPath(raw string) bool {
	if strings.Contains(raw, "://") || urlScheme.MatchString(raw) || strings.TrimSpace(raw) != raw {
		return false
	}
	return strings.ContainsAny(raw, `/\.`)
}
