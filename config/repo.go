package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/appconfig"
	"gopkg.in/yaml.v3"
)

// RepoConfigPath is where a repository configures the bot, read from its default branch only;
// an organization default lives at the same path in the organization's .github repository.
const RepoConfigPath = ".github/autonomous.yml"

// RepoConfig is the per-repository configuration (.github/autonomous.yml).
type RepoConfig struct {
	FailureAnalysis FailureAnalysisConfig `yaml:"failure_analysis" json:"failure_analysis"`
	Commands        CommandsConfig        `yaml:"commands" json:"commands"`
}

// FailureAnalysisConfig configures the failure_analysis workflow.
type FailureAnalysisConfig struct {
	Enabled  bool `yaml:"enabled" json:"enabled"`
	Comment  bool `yaml:"comment" json:"comment"`
	CheckRun bool `yaml:"check_run" json:"check_run"`
	// AutoFixEnabled hands fixable failures to the AI agent; CreatePRForFixes lets it open a PR.
	AutoFixEnabled   bool            `yaml:"auto_fix_enabled" json:"auto_fix_enabled"`
	CreatePRForFixes bool            `yaml:"create_pr_for_fixes" json:"create_pr_for_fixes"`
	AutoRetry        AutoRetryConfig `yaml:"auto_retry" json:"auto_retry"`
	// IgnoreWorkflows names workflows (by name or file path) never analyzed.
	IgnoreWorkflows []string `yaml:"ignore_workflows" json:"ignore_workflows"`
	// LogBytesLimit caps the bytes read from one job log.
	LogBytesLimit int64 `yaml:"log_bytes_limit" json:"log_bytes_limit"`
}

// AutoRetryConfig bounds automatic re-runs of failed jobs.
type AutoRetryConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// MaxAttempts is how many automatic re-runs one workflow run may get.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
	// Classes are the failure classes that may be re-run; all must be retryable.
	Classes []string `yaml:"classes" json:"classes"`
}

// CommandsConfig configures slash commands in pull-request comments.
type CommandsConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Prefix is the command prefix, default "/ci"; "@<app-slug>" always works too.
	Prefix string `yaml:"prefix" json:"prefix"`
	// Permissions raises the permission a command needs: command → read, triage, write,
	// maintain or admin.
	Permissions map[string]string `yaml:"permissions" json:"permissions"`
	// RateLimit bounds acting commands.
	RateLimit CommandRateLimit `yaml:"rate_limit" json:"rate_limit"`
}

// CommandRateLimit bounds acting commands per pull request and per repository per hour.
type CommandRateLimit struct {
	PerPRPerHour   int `yaml:"per_pr_per_hour" json:"per_pr_per_hour"`
	PerRepoPerHour int `yaml:"per_repo_per_hour" json:"per_repo_per_hour"`
}

// DefaultRepoConfig is what a repository without .github/autonomous.yml gets.
func DefaultRepoConfig() RepoConfig {
	return RepoConfig{
		FailureAnalysis: FailureAnalysisConfig{
			Enabled: true, Comment: true, CheckRun: true, CreatePRForFixes: true,
			AutoRetry: AutoRetryConfig{
				Enabled: true, MaxAttempts: 1,
				Classes: []string{"network_error", "rate_limit", "infrastructure", "timeout"},
			},
			LogBytesLimit: 64 << 20,
		},
		Commands: CommandsConfig{
			Enabled: true, Prefix: "/ci",
			RateLimit: CommandRateLimit{PerPRPerHour: 10, PerRepoPerHour: 60},
		},
	}
}

// ParseRepoConfig parses .github/autonomous.yml over the defaults. Unknown keys are errors, so
// a typo is reported rather than silently ignored.
func ParseRepoConfig(content []byte) (RepoConfig, error) {
	cfg := DefaultRepoConfig()
	if len(strings.TrimSpace(string(content))) == 0 {
		return cfg, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err == nil {
		if tag := localTag(&doc); tag != nil {
			return DefaultRepoConfig(), fmt.Errorf("invalid %s: line %d: YAML reads %s as a tag, not as text: quote the value (\"%s\")",
				RepoConfigPath, tag.Line, tag.Tag, tag.Tag+tag.Value)
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(content)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return DefaultRepoConfig(), nil // only comments: nothing is configured
		}
		return DefaultRepoConfig(), fmt.Errorf("invalid %s: %w", RepoConfigPath, err)
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		return DefaultRepoConfig(), fmt.Errorf("invalid %s: %s", RepoConfigPath, strings.Join(problems, "; "))
	}
	return cfg, nil
}

// localTag returns the first node with a local YAML tag: `prefix: !ci` is the tag !ci on an
// empty value, which would silently leave the default prefix.
func localTag(n *yaml.Node) *yaml.Node {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") && n.Style&yaml.TaggedStyle != 0 {
		return n
	}
	for _, c := range n.Content {
		if t := localTag(c); t != nil {
			return t
		}
	}
	return nil
}

// PrefixMarks are the characters a command prefix may start with. The webhook handler, which
// does not read the repository's configuration, passes on comments with a line starting with one
// of them; letters, list and heading markers, quotes and fences would make every comment a job.
const PrefixMarks = "/!.$%&?;=^"

// Validate lists the problems of a parsed repository configuration.
func (c RepoConfig) Validate() []string {
	var problems []string
	if c.FailureAnalysis.AutoRetry.MaxAttempts < 0 || c.FailureAnalysis.AutoRetry.MaxAttempts > 5 {
		problems = append(problems, fmt.Sprintf("failure_analysis.auto_retry.max_attempts must be between 0 and 5, got %d", c.FailureAnalysis.AutoRetry.MaxAttempts))
	}
	if l := c.FailureAnalysis.LogBytesLimit; l != 0 && (l < 1024 || l > 1<<30) {
		problems = append(problems, fmt.Sprintf("failure_analysis.log_bytes_limit must be between 1024 and 1073741824, got %d", l))
	}
	for cmd, perm := range c.Commands.Permissions {
		switch perm {
		case "read", "triage", "write", "maintain", "admin":
		default:
			problems = append(problems, fmt.Sprintf("commands.permissions.%s must be read, triage, write, maintain or admin, got %q", cmd, perm))
		}
	}
	if p := c.Commands.Prefix; p != "" && (strings.ContainsAny(p, " \t\n") || len(p) > 32) {
		problems = append(problems, fmt.Sprintf("commands.prefix must be one word, got %q", p))
	} else if p != "" && strings.IndexByte(PrefixMarks, p[0]) < 0 {
		problems = append(problems, fmt.Sprintf("commands.prefix must start with one of %s (like /ci or !ci), got %q",
			strings.Join(strings.Split(PrefixMarks, ""), " "), p))
	}
	if c.Commands.RateLimit.PerPRPerHour < 0 || c.Commands.RateLimit.PerRepoPerHour < 0 {
		problems = append(problems, "commands.rate_limit values must not be negative")
	}
	return problems
}

// RepoConfigLoader reads .github/autonomous.yml from a repository's default branch (or the
// organization's .github repository) through go-githubapp's appconfig, with a short in-memory
// cache so a burst of failures in one repository costs one contents request.
type RepoConfigLoader struct {
	loader *appconfig.Loader
	ttl    time.Duration
	mu     sync.Mutex
	cache  map[string]cachedRepoConfig
}

type cachedRepoConfig struct {
	cfg     RepoConfig
	err     error
	expires time.Time
}

// NewRepoConfigLoader creates a loader; ttl 0 disables caching.
func NewRepoConfigLoader(ttl time.Duration) *RepoConfigLoader {
	return &RepoConfigLoader{
		loader: appconfig.NewLoader([]string{RepoConfigPath}, appconfig.WithOwnerDefault(".github", []string{"autonomous.yml"})),
		ttl:    ttl,
		cache:  map[string]cachedRepoConfig{},
	}
}

// Load returns the repository's configuration. A file that does not parse yields the defaults
// and a non-nil error describing the problem, so callers can report it and keep working; a
// GitHub error is returned as is with zero config.
func (l *RepoConfigLoader) Load(ctx context.Context, client *github.Client, owner, repo string) (RepoConfig, error) {
	key := owner + "/" + repo
	now := time.Now()
	l.mu.Lock()
	if c, ok := l.cache[key]; ok && now.Before(c.expires) {
		l.mu.Unlock()
		return c.cfg, c.err
	}
	l.mu.Unlock()
	// An empty ref reads the default branch: configuration from a pull request's own branch is
	// never trusted.
	raw, err := l.loader.LoadConfig(ctx, client, owner, repo, "")
	if err != nil {
		return RepoConfig{}, fmt.Errorf("failed to load %s of %s: %w", RepoConfigPath, key, err)
	}
	cfg, parseErr := ParseRepoConfig(raw.Content)
	if parseErr != nil && raw.Source != "" {
		parseErr = fmt.Errorf("%s (%s): %w", raw.Path, raw.Source, parseErr)
	}
	if l.ttl > 0 {
		l.mu.Lock()
		l.cache[key] = cachedRepoConfig{cfg: cfg, err: parseErr, expires: now.Add(l.ttl)}
		l.mu.Unlock()
	}
	return cfg, parseErr
}

// Forget drops a cached configuration (after a push that changed it).
func (l *RepoConfigLoader) Forget(owner, repo string) {
	l.mu.Lock()
	delete(l.cache, owner+"/"+repo)
	l.mu.Unlock()
}
