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

// Config is the server configuration, in sections (GitHubSettings, ServerSettings,
// EngineSettings, MonitorSettings, CodegenSettings, SlackSettings, LinearSettings; see
// sections.go). The sections are embedded, so every setting is a field of Config whose name
// mirrors its environment variable of DESIGN.md §4; the YAML keys are the same names in lower
// case. Each setting is one row of settings below.
type Config struct {
	GitHubSettings
	CodegenSettings
	SlackSettings
	LinearSettings
	OSVSettings
	DependencySettings
	ServerSettings
	MonitorSettings
	EngineSettings

	// parseErrors are values that could not be parsed; Validate reports them.
	parseErrors []string
}

// Default returns the configuration used when nothing is set: every setting's default.
func Default() Config {
	var c Config
	for _, st := range settings {
		if st.def != "" {
			_ = c.set(st.env, st.def)
		}
	}
	return c
}

// setting is one server setting: its environment variable (the YAML key is the same name in
// lower case), its default as text (empty: the zero value), and its field. A new setting is one
// row of settings and its field in Config; its bounds are checked in Validate.
type setting struct {
	env string
	def string
	// optional lets an empty value mean zero where the type would refuse it.
	optional bool
	field    func(c *Config) any
}

// settings lists every setting the server reads, in the order of DESIGN.md §4.
var settings = []setting{
	{env: "GITHUB_APP_ID", optional: true, field: func(c *Config) any { return &c.GitHubAppID }},
	{env: "GITHUB_PRIVATE_KEY", field: func(c *Config) any { return &c.GitHubPrivateKey }},
	{env: "GITHUB_PRIVATE_KEY_PATH", field: func(c *Config) any { return &c.GitHubPrivateKeyPath }},
	{env: "GITHUB_WEBHOOK_SECRET", field: func(c *Config) any { return &c.GitHubWebhookSecret }},
	{env: "GITHUB_API_URL", def: "https://api.github.com/", field: func(c *Config) any { return &c.GitHubAPIURL }},
	{env: "GITHUB_URL", def: "https://github.com", field: func(c *Config) any { return &c.GitHubURL }},
	{env: "GITHUB_TOKEN", field: func(c *Config) any { return &c.GitHubToken }},
	{env: "GITHUB_APP_SLUG", field: func(c *Config) any { return &c.GitHubAppSlug }},
	{env: "CODEGEN_ORG_ID", field: func(c *Config) any { return &c.CodegenOrgID }},
	{env: "CODEGEN_TOKEN", field: func(c *Config) any { return &c.CodegenToken }},
	{env: "CODEGEN_API_URL", def: "https://api.codegen.com", field: func(c *Config) any { return &c.CodegenAPIURL }},
	{env: "CODEGEN_POLL_INTERVAL", def: "15s", field: func(c *Config) any { return &c.CodegenPollInterval }},
	{env: "SLACK_WEBHOOK_URL", field: func(c *Config) any { return &c.SlackWebhookURL }},
	{env: "OSV_API_URL", def: "https://api.osv.dev", field: func(c *Config) any { return &c.OSVAPIURL }},
	{env: "LINEAR_API_KEY", field: func(c *Config) any { return &c.LinearAPIKey }},
	{env: "LINEAR_TEAM_ID", field: func(c *Config) any { return &c.LinearTeamID }},
	{env: "LINEAR_API_URL", def: "https://api.linear.app/graphql", field: func(c *Config) any { return &c.LinearAPIURL }},
	{env: "DATABASE_URL", field: func(c *Config) any { return &c.DatabaseURL }},
	{env: "PORT", def: "8080", field: func(c *Config) any { return &c.Port }},
	{env: "PUBLIC_URL", field: func(c *Config) any { return &c.PublicURL }},
	{env: "BIND_ADDR", field: func(c *Config) any { return &c.BindAddr }},
	{env: "ADMIN_TOKEN", field: func(c *Config) any { return &c.AdminToken }},
	{env: "METRICS_TOKEN", field: func(c *Config) any { return &c.MetricsToken }},
	{env: "MONITORING_ENABLED", def: "true", field: func(c *Config) any { return &c.MonitoringEnabled }},
	{env: "RECOVERY_ENABLED", def: "true", field: func(c *Config) any { return &c.RecoveryEnabled }},
	{env: "DEBUG", field: func(c *Config) any { return &c.Debug }},
	{env: "LOG_LEVEL", def: "info", field: func(c *Config) any { return &c.LogLevel }},
	{env: "HEALTH_CHECK_INTERVAL", def: "300s", field: func(c *Config) any { return &c.HealthCheckInterval }},
	{env: "WEBHOOK_REDELIVERY_INTERVAL", def: "10m", field: func(c *Config) any { return &c.WebhookRedeliveryInterval }},
	{env: "PERFORMANCE_HISTORY_SIZE", def: "1000", field: func(c *Config) any { return &c.PerformanceHistorySize }},
	{env: "PERFORMANCE_CHECK_INTERVAL", def: "24h", field: func(c *Config) any { return &c.PerformanceCheckInterval }},
	{env: "MAX_CONCURRENT_RECOVERIES", def: "3", field: func(c *Config) any { return &c.MaxConcurrentRecoveries }},
	{env: "ESCALATION_THRESHOLD", def: "3", field: func(c *Config) any { return &c.EscalationThreshold }},
	{env: "AUTO_RESTART_ENABLED", field: func(c *Config) any { return &c.AutoRestartEnabled }},
	{env: "WORKFLOW_DEFAULT_TIMEOUT", def: "30m", field: func(c *Config) any { return &c.WorkflowDefaultTimeout }},
	{env: "MAX_CONCURRENT_WORKFLOWS", def: "10", field: func(c *Config) any { return &c.MaxConcurrentWorkflows }},
	{env: "WORKFLOW_RETRY_DELAY", def: "30s", field: func(c *Config) any { return &c.WorkflowRetryDelay }},
	{env: "LOG_BYTES_LIMIT", def: strconv.Itoa(64 << 20), field: func(c *Config) any { return &c.LogBytesLimit }},
	{env: "GITHUB_HTTP_CACHE_BYTES", def: strconv.Itoa(32 << 20), field: func(c *Config) any { return &c.GitHubHTTPCacheBytes }},
	{env: "GITHUB_HTTP_CACHE_DIR", field: func(c *Config) any { return &c.GitHubHTTPCacheDir }},
	{env: "ALERT_CPU_PERCENT", def: "80", field: func(c *Config) any { return &c.AlertCPUPercent }},
	{env: "ALERT_MEMORY_PERCENT", def: "85", field: func(c *Config) any { return &c.AlertMemoryPercent }},
	{env: "ALERT_DISK_PERCENT", def: "90", field: func(c *Config) any { return &c.AlertDiskPercent }},
	{env: "ALERT_ERROR_RATE_PERCENT", def: "10", field: func(c *Config) any { return &c.AlertErrorRatePercent }},
	{env: "ALERT_RESPONSE_TIME_MS", def: "5000", field: func(c *Config) any { return &c.AlertResponseTimeMS }},
	{env: "ALERT_HEALTH_SCORE", def: "70", field: func(c *Config) any { return &c.AlertHealthScore }},
	{env: "ALERT_COOLDOWN", def: "1h", field: func(c *Config) any { return &c.AlertCooldown }},
	{env: "GO_PROXY_URL", def: "https://proxy.golang.org", field: func(c *Config) any { return &c.GoProxyURL }},
	{env: "NPM_REGISTRY_URL", def: "https://registry.npmjs.org", field: func(c *Config) any { return &c.NPMRegistryURL }},
	{env: "PYPI_URL", def: "https://pypi.org", field: func(c *Config) any { return &c.PyPIURL }},
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
	for _, st := range settings {
		if value, ok := lookup(st.env); ok {
			cfg.parseErrors = append(cfg.parseErrors, st.parse(&cfg, strings.TrimSpace(value))...)
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
	for _, st := range settings {
		if st.env == key {
			return st.parse(c, value)
		}
	}
	return []string{fmt.Sprintf("%s: unknown setting", key)}
}

// parse assigns value to the setting's field in c by the field's type.
func (st setting) parse(c *Config, value string) []string {
	problem := func(kind string) []string {
		return []string{fmt.Sprintf("%s: %q is not a valid %s", st.env, value, kind)}
	}
	if st.optional && value == "" {
		value = "0"
	}
	switch p := st.field(c).(type) {
	case *string:
		*p = value
	case *bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return problem("boolean")
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(value)
		if err != nil {
			return problem("integer")
		}
		*p = n
	case *int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return problem("integer")
		}
		*p = n
	case *float64:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return problem("number")
		}
		*p = f
	case *time.Duration:
		// Durations accept Go syntax ("90s", "5m") or a bare number of seconds, as the seed did.
		d, err := parseDuration(value)
		if err != nil {
			return problem("duration (seconds or Go syntax like 90s)")
		}
		*p = d
	default:
		panic(fmt.Sprintf("config: setting %s has a field of unsupported type %T", st.env, p))
	}
	return nil
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
