package config

import (
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// DependencyManagementConfig configures the dependency_management workflow: update pull
// requests, their grouping and limits, and the Dependency dashboard issue.
type DependencyManagementConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Schedule is how often the scheduled run looks for updates: daily, weekly (Mondays, UTC)
	// or off (only /ci deps, execute and the API start it).
	Schedule string `yaml:"schedule" json:"schedule"`
	// UpdateStrategy, TestBeforeMerge and SecurityPriority are the workflow's parameters for
	// this repository; a parameter given to a run wins.
	UpdateStrategy   string        `yaml:"update_strategy" json:"update_strategy"`
	TestBeforeMerge  bool          `yaml:"test_before_merge" json:"test_before_merge"`
	SecurityPriority SecurityLevel `yaml:"security_priority" json:"security_priority"`
	// Groups put several updates into one pull request; an update matches the first group
	// that names its ecosystem (or any, when empty) and one of its patterns (or any), and
	// that has dev_only unset or the dependency is a dev dependency. Ungrouped updates get a
	// pull request each.
	Groups []DependencyGroup `yaml:"groups" json:"groups"`
	// Ignore lists dependencies never updated (listed as ignored on the dashboard).
	Ignore []DependencyIgnore `yaml:"ignore" json:"ignore"`
	// MaxOpenPRs bounds the bot's open update pull requests; security fixes may go past it.
	MaxOpenPRs int `yaml:"max_open_prs" json:"max_open_prs"`
	// Labels and Reviewers are set on every update pull request ("security" is added to
	// security fixes).
	Labels    []string `yaml:"labels" json:"labels"`
	Reviewers []string `yaml:"reviewers" json:"reviewers"`
	// Dashboard keeps the "Dependency dashboard" issue up to date.
	Dashboard bool `yaml:"dashboard" json:"dashboard"`
}

// SecurityLevel is security_priority: high, normal or low; true and false (the seed's switch)
// read as high and normal.
type SecurityLevel string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *SecurityLevel) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: security_priority must be high, normal or low", n.Line)
	}
	switch v := strings.ToLower(strings.TrimSpace(n.Value)); v {
	case "true":
		*l = "high"
	case "false":
		*l = "normal"
	default:
		*l = SecurityLevel(v)
	}
	return nil
}

// DependencyGroup is one group of updates that share a pull request.
type DependencyGroup struct {
	Name string `yaml:"name" json:"name"`
	// Ecosystems are OSV ecosystem names: Go, npm, PyPI, "GitHub Actions".
	Ecosystems []string `yaml:"ecosystems" json:"ecosystems"`
	// Patterns are path.Match patterns on dependency names ("golang.org/x/*", "@types/*").
	Patterns []string `yaml:"patterns" json:"patterns"`
	DevOnly  bool     `yaml:"dev_only" json:"dev_only"`
}

// DependencyIgnore names dependencies (a path.Match pattern) and, optionally, the update
// types (patch, minor, major) ignored for them; none listed means every update.
type DependencyIgnore struct {
	Dependency  string   `yaml:"dependency" json:"dependency"`
	UpdateTypes []string `yaml:"update_types" json:"update_types"`
}

func defaultDependencyManagement() DependencyManagementConfig {
	return DependencyManagementConfig{
		Enabled: true, Schedule: "daily", UpdateStrategy: "smart", TestBeforeMerge: true,
		SecurityPriority: "high", MaxOpenPRs: 5, Labels: []string{"dependencies"}, Dashboard: true,
	}
}

func (c *DependencyManagementConfig) setDefaults() { *c = defaultDependencyManagement() }

// problems lists what is wrong with the dependency_management section.
func (c *DependencyManagementConfig) problems() []string {
	var problems []string
	// An empty value is the default (a zero section, as a test builds it, is valid).
	oneOf := func(key, v string, allowed ...string) {
		if v == "" {
			return
		}
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		problems = append(problems, fmt.Sprintf("dependency_management.%s must be one of %s, got %q", key, strings.Join(allowed, ", "), v))
	}
	oneOf("schedule", c.Schedule, "daily", "weekly", "off")
	oneOf("update_strategy", c.UpdateStrategy, "conservative", "smart", "aggressive")
	oneOf("security_priority", string(c.SecurityPriority), "high", "normal", "low")
	if c.MaxOpenPRs < 0 || c.MaxOpenPRs > 50 {
		problems = append(problems, fmt.Sprintf("dependency_management.max_open_prs must be between 0 and 50, got %d", c.MaxOpenPRs))
	}
	names := map[string]bool{}
	for i, g := range c.Groups {
		if g.Name == "" || strings.ContainsAny(g.Name, " \t/\\:~^?*[") || len(g.Name) > 64 {
			problems = append(problems, fmt.Sprintf("dependency_management.groups[%d].name must be a short word usable in a branch name, got %q", i, g.Name))
		} else if names[g.Name] {
			problems = append(problems, fmt.Sprintf("dependency_management.groups[%d].name %q is used twice", i, g.Name))
		}
		names[g.Name] = true
		for _, e := range g.Ecosystems {
			oneOf(fmt.Sprintf("groups[%d].ecosystems", i), e, "Go", "npm", "PyPI", "GitHub Actions")
		}
		for _, p := range g.Patterns {
			if _, err := path.Match(p, ""); err != nil {
				problems = append(problems, fmt.Sprintf("dependency_management.groups[%d].patterns: bad pattern %q", i, p))
			}
		}
	}
	for i, ig := range c.Ignore {
		if _, err := path.Match(ig.Dependency, ""); err != nil || ig.Dependency == "" {
			problems = append(problems, fmt.Sprintf("dependency_management.ignore[%d].dependency: bad pattern %q", i, ig.Dependency))
		}
		for _, t := range ig.UpdateTypes {
			oneOf(fmt.Sprintf("ignore[%d].update_types", i), t, "patch", "minor", "major")
		}
	}
	return problems
}
