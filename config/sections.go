package config

import "time"

// GitHubSettings are the GitHub App's credentials and endpoints (GitHubApp turns them into
// go-githubapp's githubapp.Config).
type GitHubSettings struct {
	GitHubAppID          int64  `yaml:"github_app_id"`
	GitHubPrivateKey     string `yaml:"github_private_key"`
	GitHubPrivateKeyPath string `yaml:"github_private_key_path"`
	GitHubWebhookSecret  string `yaml:"github_webhook_secret"`
	GitHubAPIURL         string `yaml:"github_api_url"`
	GitHubURL            string `yaml:"github_url"`
	GitHubToken          string `yaml:"github_token"`
	GitHubAppSlug        string `yaml:"github_app_slug"`
	// GitHubHTTPCacheBytes bounds the GitHub clients' shared HTTP cache; 0 disables it.
	GitHubHTTPCacheBytes int64 `yaml:"github_http_cache_bytes"`
	// GitHubHTTPCacheDir holds the cached responses, in a data file appended to and compacted
	// (emptied at start); empty: a new directory under the OS temp dir, removed at a clean stop.
	GitHubHTTPCacheDir string `yaml:"github_http_cache_dir"`
}

// CodegenSettings configure the Codegen AI agent integration.
type CodegenSettings struct {
	CodegenOrgID  string `yaml:"codegen_org_id"`
	CodegenToken  string `yaml:"codegen_token"`
	CodegenAPIURL string `yaml:"codegen_api_url"`
	// CodegenPollInterval is the first wait between polls of an agent run (doubling up to
	// five minutes): Codegen has no completion webhook.
	CodegenPollInterval time.Duration `yaml:"codegen_poll_interval"`
}

// SlackSettings configure Slack alerts.
type SlackSettings struct {
	SlackWebhookURL string `yaml:"slack_webhook_url"`
}

// LinearSettings configure the Linear integration.
type LinearSettings struct {
	LinearAPIKey string `yaml:"linear_api_key"`
	LinearTeamID string `yaml:"linear_team_id"`
	LinearAPIURL string `yaml:"linear_api_url"`
}

// OSVSettings configure the OSV vulnerability database client (dependency advisories).
type OSVSettings struct {
	OSVAPIURL string `yaml:"osv_api_url"`
}

// DependencySettings are the registries the dependency_management workflow reads (OSV is
// OSVSettings).
type DependencySettings struct {
	GoProxyURL     string `yaml:"go_proxy_url"`
	NPMRegistryURL string `yaml:"npm_registry_url"`
	PyPIURL        string `yaml:"pypi_url"`
}

// ServerSettings are the HTTP server's and the database's.
type ServerSettings struct {
	DatabaseURL string `yaml:"database_url"`
	Port        int    `yaml:"port"`
	PublicURL   string `yaml:"public_url"`
	// BindAddr is the host or IP address serve listens on (the port is Port); see ListenAddr.
	BindAddr string `yaml:"bind_addr"`
	// AdminToken protects the dashboard and operator APIs (DESIGN.md §6).
	AdminToken string `yaml:"admin_token"`
	Debug      bool   `yaml:"debug"`
	LogLevel   string `yaml:"log_level"`

	// MetricsToken, when set, also admits GET /metrics (a Prometheus scraper's token that opens
	// nothing else).
	MetricsToken string `yaml:"metrics_token"`
}

// MonitorSettings configure health checks, recovery and alert thresholds.
type MonitorSettings struct {
	MonitoringEnabled       bool          `yaml:"monitoring_enabled"`
	RecoveryEnabled         bool          `yaml:"recovery_enabled"`
	HealthCheckInterval     time.Duration `yaml:"health_check_interval"`
	PerformanceHistorySize  int           `yaml:"performance_history_size"`
	MaxConcurrentRecoveries int           `yaml:"max_concurrent_recoveries"`
	EscalationThreshold     int           `yaml:"escalation_threshold"`
	AutoRestartEnabled      bool          `yaml:"auto_restart_enabled"`

	// WebhookRedeliveryInterval is how often failed webhook deliveries are redelivered (and on
	// start); zero turns redelivery off.
	WebhookRedeliveryInterval time.Duration `yaml:"webhook_redelivery_interval"`

	AlertCPUPercent       float64 `yaml:"alert_cpu_percent"`
	AlertMemoryPercent    float64 `yaml:"alert_memory_percent"`
	AlertErrorRatePercent float64 `yaml:"alert_error_rate_percent"`
	AlertResponseTimeMS   int     `yaml:"alert_response_time_ms"`
	AlertHealthScore      float64 `yaml:"alert_health_score"`
	// AlertCooldown is how long a repeat of an open alert is counted without being sent again.
	AlertCooldown time.Duration `yaml:"alert_cooldown"`

	// PerformanceCheckInterval is how often every installed repository's performance baseline
	// is checked, the checks spread over the interval.
	PerformanceCheckInterval time.Duration `yaml:"performance_check_interval"`

	// AlertDiskPercent is the data directory's disk use over which the recovery manager cleans
	// up and lowers worker concurrency.
	AlertDiskPercent float64 `yaml:"alert_disk_percent"`
}

// EngineSettings configure the workflow engine and its workers.
type EngineSettings struct {
	WorkflowDefaultTimeout time.Duration `yaml:"workflow_default_timeout"`
	MaxConcurrentWorkflows int           `yaml:"max_concurrent_workflows"`
	WorkflowRetryDelay     time.Duration `yaml:"workflow_retry_delay"`
	// LogBytesLimit caps how many bytes of one job log are read (per-repo config may lower it).
	LogBytesLimit int64 `yaml:"log_bytes_limit"`
}
