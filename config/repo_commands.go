package config

import (
	"fmt"
	"strings"
)

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

// PrefixMarks are the characters a command prefix may start with. The webhook handler, which
// does not read the repository's configuration, passes on comments with a line starting with one
// of them; letters, list and heading markers, quotes and fences would make every comment a job.
const PrefixMarks = "/!.$%&?;=^"

func defaultCommands() CommandsConfig {
	return CommandsConfig{
		Enabled: true, Prefix: "/ci",
		RateLimit: CommandRateLimit{PerPRPerHour: 10, PerRepoPerHour: 60},
	}
}

// problems lists what is wrong with the commands section.
func (c *CommandsConfig) setDefaults() { *c = defaultCommands() }

func (c *CommandsConfig) problems() []string {
	var problems []string
	for cmd, perm := range c.Permissions {
		switch perm {
		case "read", "triage", "write", "maintain", "admin":
		default:
			problems = append(problems, fmt.Sprintf("commands.permissions.%s must be read, triage, write, maintain or admin, got %q", cmd, perm))
		}
	}
	if p := c.Prefix; p != "" && (strings.ContainsAny(p, " \t\n") || len(p) > 32) {
		problems = append(problems, fmt.Sprintf("commands.prefix must be one word, got %q", p))
	} else if p != "" && strings.IndexByte(PrefixMarks, p[0]) < 0 {
		problems = append(problems, fmt.Sprintf("commands.prefix must start with one of %s (like /ci or !ci), got %q",
			strings.Join(strings.Split(PrefixMarks, ""), " "), p))
	}
	if c.RateLimit.PerPRPerHour < 0 || c.RateLimit.PerRepoPerHour < 0 {
		problems = append(problems, "commands.rate_limit values must not be negative")
	}
	return problems
}
