package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
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

// RepoConfig is the per-repository configuration (.github/autonomous.yml): one section per
// workflow, each in its own file (repo_<section>.go) with its defaults and validation.
type RepoConfig struct {
	FailureAnalysis       FailureAnalysisConfig       `yaml:"failure_analysis" json:"failure_analysis"`
	Commands              CommandsConfig              `yaml:"commands" json:"commands"`
	PerformanceMonitoring PerformanceMonitoringConfig `yaml:"performance_monitoring" json:"performance_monitoring"`
	SecurityAudit         SecurityAuditConfig         `yaml:"security_audit" json:"security_audit"`
	TestOptimization      TestOptimizationConfig      `yaml:"test_optimization" json:"test_optimization"`
	DependencyManagement  DependencyManagementConfig  `yaml:"dependency_management" json:"dependency_management"`
	AutoFix               AutoFixConfig               `yaml:"auto_fix" json:"auto_fix"`
}

// DefaultRepoConfig is what a repository without .github/autonomous.yml gets: every section's
// defaults.
func DefaultRepoConfig() RepoConfig {
	var c RepoConfig
	for _, s := range c.sections() {
		s.setDefaults()
	}
	return c
}

// Validate lists the problems of a parsed repository configuration, section by section.
func (c RepoConfig) Validate() []string {
	var problems []string
	for _, s := range c.sections() {
		problems = append(problems, s.problems()...)
	}
	return problems
}

// section is one workflow's part of RepoConfig, declared in its own file (repo_<section>.go):
// adding a section is that file plus its field in RepoConfig.
type section interface {
	setDefaults()
	problems() []string
}

// sections returns c's sections, in field order: every field of RepoConfig is a section.
func (c *RepoConfig) sections() []section {
	v := reflect.ValueOf(c).Elem()
	out := make([]section, 0, v.NumField())
	for i := range v.NumField() {
		s, ok := v.Field(i).Addr().Interface().(section)
		if !ok {
			panic(fmt.Sprintf("config: RepoConfig.%s does not implement section", v.Type().Field(i).Name))
		}
		out = append(out, s)
	}
	return out
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
