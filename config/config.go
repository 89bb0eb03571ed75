// Package config loads the server configuration from the environment and an optional YAML file,
// and the per-repository configuration from .github/autonomous.yml.
package config

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the server configuration. Field names mirror the environment variables of
// DESIGN.md §4; the YAML keys are the same names in lower case.
type Config struct {
	GitHubAppID          int64  `yaml:"github_app_id"`
	GitHubPrivateKey     string `yaml:"github_private_key"`
	GitHubPrivateKeyPath string `yaml:"github_private_key_path"`
	GitHubWebhookSecret  string `yaml:"github_webhook_secret"`
	GitHubAPIURL         string `yaml:"github_api_url"`
	GitHubURL            string `yaml:"github_url"`
	GitHubToken          string `yaml:"github_token"`
	GitHubAppSlug        string `yaml:"github_app_slug"`

	CodegenOrgID  string `yaml:"codegen_org_id"`
	CodegenToken  string `yaml:"codegen_token"`
	CodegenAPIURL string `yaml:"codegen_api_url"`

	SlackWebhookURL string `yaml:"slack_webhook_url"`

	LinearAPIKey string `yaml:"linear_api_key"`
	LinearTeamID string `yaml:"linear_team_id"`
	LinearAPIURL string `yaml:"linear_api_url"`

	DatabaseURL string `yaml:"database_url"`
	Port        int    `yaml:"port"`
	PublicURL   string `yaml:"public_url"`
	// BindAddr is the host or IP address serve listens on (the port is Port); see ListenAddr.
	BindAddr string `yaml:"bind_addr"`
	// AdminToken protects the dashboard and operator APIs (DESIGN.md §6).
	AdminToken string `yaml:"admin_token"`

	MonitoringEnabled       bool          `yaml:"monitoring_enabled"`
	RecoveryEnabled         bool          `yaml:"recovery_enabled"`
	Debug                   bool          `yaml:"debug"`
	LogLevel                string        `yaml:"log_level"`
	HealthCheckInterval     time.Duration `yaml:"health_check_interval"`
	PerformanceHistorySize  int           `yaml:"performance_history_size"`
	MaxConcurrentRecoveries int           `yaml:"max_concurrent_recoveries"`
	EscalationThreshold     int           `yaml:"escalation_threshold"`
	AutoRestartEnabled      bool          `yaml:"auto_restart_enabled"`
	WorkflowDefaultTimeout  time.Duration `yaml:"workflow_default_timeout"`
	MaxConcurrentWorkflows  int           `yaml:"max_concurrent_workflows"`
	WorkflowRetryDelay      time.Duration `yaml:"workflow_retry_delay"`
	// LogBytesLimit caps how many bytes of one job log are read (per-repo config may lower it).
	LogBytesLimit int64 `yaml:"log_bytes_limit"`
	// GitHubHTTPCacheBytes bounds the GitHub clients' shared HTTP cache; 0 disables it.
	GitHubHTTPCacheBytes int64 `yaml:"github_http_cache_bytes"`

	AlertCPUPercent       float64 `yaml:"alert_cpu_percent"`
	AlertMemoryPercent    float64 `yaml:"alert_memory_percent"`
	AlertErrorRatePercent float64 `yaml:"alert_error_rate_percent"`
	AlertResponseTimeMS   int     `yaml:"alert_response_time_ms"`
	AlertHealthScore      float64 `yaml:"alert_health_score"`

	// parseErrors are values that could not be parsed; Validate reports them.
	parseErrors []string
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		GitHubAPIURL:            "https://api.github.com/",
		GitHubURL:               "https://github.com",
		CodegenAPIURL:           "https://api.codegen.com",
		LinearAPIURL:            "https://api.linear.app/graphql",
		Port:                    8080,
		MonitoringEnabled:       true,
		RecoveryEnabled:         true,
		LogLevel:                "info",
		HealthCheckInterval:     300 * time.Second,
		PerformanceHistorySize:  1000,
		MaxConcurrentRecoveries: 3,
		EscalationThreshold:     3,
		WorkflowDefaultTimeout:  30 * time.Minute,
		MaxConcurrentWorkflows:  10,
		WorkflowRetryDelay:      30 * time.Second,
		LogBytesLimit:           64 << 20,
		GitHubHTTPCacheBytes:    32 << 20,
		AlertCPUPercent:         80,
		AlertMemoryPercent:      85,
		AlertErrorRatePercent:   10,
		AlertResponseTimeMS:     5000,
		AlertHealthScore:        70,
	}
}

// Load builds the configuration: defaults, then the YAML file at path (if path is not empty),
// then the environment, which wins. lookup is os.LookupEnv in production and a map in tests.
// Parse errors of individual values are returned as problems by Validate, not as an error, so
// `autonomous init` can list every problem at once; Load fails only when the file is unreadable
// or is not a YAML mapping.
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	cfg := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("failed to read config file %s: %w", path, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return cfg, fmt.Errorf("failed to parse config file %s: %w", path, err)
		}
		problems, err := cfg.setFile(doc)
		if err != nil {
			return cfg, fmt.Errorf("failed to parse config file %s: %w", path, err)
		}
		cfg.parseErrors = append(cfg.parseErrors, problems...)
	}
	for _, key := range envKeys {
		if value, ok := lookup(key); ok {
			cfg.parseErrors = append(cfg.parseErrors, cfg.set(key, value)...)
		}
	}
	return cfg, nil
}

// setFile applies the YAML file: a mapping whose keys are the environment variable names in
// lower case. Values are taken as the literal text written in the file, exactly like an
// environment variable: decoding them as YAML types first would turn a secret written as 007 into
// "7" or 0x1F into "31", and an empty value into "<nil>".
func (c *Config) setFile(doc yaml.Node) ([]string, error) {
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == 0 || root.Kind == yaml.DocumentNode || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		return nil, nil // an empty file or one with only comments
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the file must be a mapping of setting names to values")
	}
	var problems []string
	for i := 0; i+1 < len(root.Content); i += 2 {
		key := strings.ToUpper(root.Content[i].Value)
		value := root.Content[i+1]
		for value.Kind == yaml.AliasNode && value.Alias != nil {
			value = value.Alias
		}
		switch {
		case value.Kind != yaml.ScalarNode:
			// The value is never echoed: it may be a secret.
			problems = append(problems, fmt.Sprintf("%s: must be a single value", key))
		case value.Tag == "!!null":
			problems = append(problems, c.set(key, "")...)
		default:
			problems = append(problems, c.set(key, value.Value)...)
		}
	}
	return problems, nil
}

// set assigns one variable; it returns a problem when the value cannot be parsed.
func (c *Config) set(key, value string) []string {
	value = strings.TrimSpace(value)
	str := map[string]*string{
		"GITHUB_PRIVATE_KEY": &c.GitHubPrivateKey, "GITHUB_PRIVATE_KEY_PATH": &c.GitHubPrivateKeyPath,
		"GITHUB_WEBHOOK_SECRET": &c.GitHubWebhookSecret, "GITHUB_API_URL": &c.GitHubAPIURL,
		"GITHUB_URL": &c.GitHubURL, "GITHUB_TOKEN": &c.GitHubToken, "GITHUB_APP_SLUG": &c.GitHubAppSlug,
		"CODEGEN_ORG_ID": &c.CodegenOrgID, "CODEGEN_TOKEN": &c.CodegenToken, "CODEGEN_API_URL": &c.CodegenAPIURL,
		"SLACK_WEBHOOK_URL": &c.SlackWebhookURL, "LINEAR_API_KEY": &c.LinearAPIKey,
		"LINEAR_TEAM_ID": &c.LinearTeamID, "LINEAR_API_URL": &c.LinearAPIURL,
		"DATABASE_URL": &c.DatabaseURL, "PUBLIC_URL": &c.PublicURL, "BIND_ADDR": &c.BindAddr, "ADMIN_TOKEN": &c.AdminToken,
		"LOG_LEVEL": &c.LogLevel,
	}
	if p, ok := str[key]; ok {
		*p = value
		return nil
	}
	problem := func(kind string) []string {
		return []string{fmt.Sprintf("%s: %q is not a valid %s", key, value, kind)}
	}
	switch key {
	case "GITHUB_APP_ID":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil && value != "" {
			return problem("integer")
		}
		c.GitHubAppID = n
		return nil
	}
	bools := map[string]*bool{
		"MONITORING_ENABLED": &c.MonitoringEnabled, "RECOVERY_ENABLED": &c.RecoveryEnabled,
		"DEBUG": &c.Debug, "AUTO_RESTART_ENABLED": &c.AutoRestartEnabled,
	}
	if p, ok := bools[key]; ok {
		b, err := strconv.ParseBool(value)
		if err != nil {
			return problem("boolean")
		}
		*p = b
		return nil
	}
	ints := map[string]*int{
		"PORT": &c.Port, "PERFORMANCE_HISTORY_SIZE": &c.PerformanceHistorySize,
		"MAX_CONCURRENT_RECOVERIES": &c.MaxConcurrentRecoveries, "ESCALATION_THRESHOLD": &c.EscalationThreshold,
		"MAX_CONCURRENT_WORKFLOWS": &c.MaxConcurrentWorkflows, "ALERT_RESPONSE_TIME_MS": &c.AlertResponseTimeMS,
	}
	if p, ok := ints[key]; ok {
		n, err := strconv.Atoi(value)
		if err != nil {
			return problem("integer")
		}
		*p = n
		return nil
	}
	floats := map[string]*float64{
		"ALERT_CPU_PERCENT": &c.AlertCPUPercent, "ALERT_MEMORY_PERCENT": &c.AlertMemoryPercent,
		"ALERT_ERROR_RATE_PERCENT": &c.AlertErrorRatePercent, "ALERT_HEALTH_SCORE": &c.AlertHealthScore,
	}
	if p, ok := floats[key]; ok {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return problem("number")
		}
		*p = f
		return nil
	}
	// Durations accept Go syntax ("90s", "5m") or a bare number of seconds, as the seed did.
	durations := map[string]*time.Duration{
		"HEALTH_CHECK_INTERVAL": &c.HealthCheckInterval, "WORKFLOW_DEFAULT_TIMEOUT": &c.WorkflowDefaultTimeout,
		"WORKFLOW_RETRY_DELAY": &c.WorkflowRetryDelay,
	}
	if p, ok := durations[key]; ok {
		d, err := parseDuration(value)
		if err != nil {
			return problem("duration (seconds or Go syntax like 90s)")
		}
		*p = d
		return nil
	}
	int64s := map[string]*int64{"LOG_BYTES_LIMIT": &c.LogBytesLimit, "GITHUB_HTTP_CACHE_BYTES": &c.GitHubHTTPCacheBytes}
	if p, ok := int64s[key]; ok {
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return problem("integer")
		}
		*p = n
		return nil
	}
	return []string{fmt.Sprintf("%s: unknown setting", key)}
}

func parseDuration(value string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(value, 64); err == nil {
		// NaN, infinities and values beyond ±292 years have no time.Duration.
		if math.IsNaN(secs) || math.Abs(secs) >= float64(math.MaxInt64)/float64(time.Second) {
			return 0, fmt.Errorf("duration %q out of range", value)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	return time.ParseDuration(value)
}

// envKeys lists every environment variable the server reads.
var envKeys = []string{
	"GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET",
	"GITHUB_API_URL", "GITHUB_URL", "GITHUB_TOKEN", "GITHUB_APP_SLUG",
	"CODEGEN_ORG_ID", "CODEGEN_TOKEN", "CODEGEN_API_URL", "SLACK_WEBHOOK_URL",
	"LINEAR_API_KEY", "LINEAR_TEAM_ID", "LINEAR_API_URL", "DATABASE_URL", "PORT", "PUBLIC_URL", "BIND_ADDR",
	"ADMIN_TOKEN", "MONITORING_ENABLED", "RECOVERY_ENABLED", "DEBUG", "LOG_LEVEL",
	"HEALTH_CHECK_INTERVAL", "PERFORMANCE_HISTORY_SIZE", "MAX_CONCURRENT_RECOVERIES",
	"ESCALATION_THRESHOLD", "AUTO_RESTART_ENABLED", "WORKFLOW_DEFAULT_TIMEOUT",
	"MAX_CONCURRENT_WORKFLOWS", "WORKFLOW_RETRY_DELAY", "LOG_BYTES_LIMIT", "GITHUB_HTTP_CACHE_BYTES",
	"ALERT_CPU_PERCENT", "ALERT_MEMORY_PERCENT", "ALERT_ERROR_RATE_PERCENT",
	"ALERT_RESPONSE_TIME_MS", "ALERT_HEALTH_SCORE",
}
