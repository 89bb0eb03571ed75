package config

import (
	"fmt"
	"path"
	"strings"
)

// SecurityAuditConfig configures the security_audit workflow.
type SecurityAuditConfig struct {
	// Enabled lets pushes, pull requests and the weekly schedule start audits; /ci audit and
	// execute run all the same.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// FailOn is the lowest severity that fails the check run (low, medium, high, critical;
	// empty means high); the fail_on parameter overrides it.
	FailOn string `yaml:"fail_on" json:"fail_on"`
	// PinFirstParty also requires (and pins, in the fix pull request) actions/* and github/*.
	PinFirstParty bool `yaml:"pin_first_party" json:"pin_first_party"`
	// FixPR opens the pull request with the mechanical fixes of the default branch's findings.
	FixPR bool `yaml:"fix_pr" json:"fix_pr"`
	// Dependencies audits the manifests' dependencies against OSV.
	Dependencies bool `yaml:"dependencies" json:"dependencies"`
	// IgnoreRules lists rule ids never reported in this repository.
	IgnoreRules []string `yaml:"ignore_rules" json:"ignore_rules"`
	// IgnorePaths lists files (path.Match patterns, "dir/**" for a tree) never audited.
	IgnorePaths []string `yaml:"ignore_paths" json:"ignore_paths"`
	// IgnoreAdvisories lists advisory ids (GHSA-…, CVE-…, GO-…) never reported.
	IgnoreAdvisories []string `yaml:"ignore_advisories" json:"ignore_advisories"`
}

func (c *SecurityAuditConfig) setDefaults() {
	*c = SecurityAuditConfig{Enabled: true, FailOn: "high", FixPR: true, Dependencies: true}
}

// SecurityAuditSeverities are the values of fail_on, from the least to the most serious.
var SecurityAuditSeverities = []string{"low", "medium", "high", "critical"}

func (c *SecurityAuditConfig) problems() []string {
	var problems []string
	ok := c.FailOn == "" // the default, high
	for _, s := range SecurityAuditSeverities {
		ok = ok || c.FailOn == s
	}
	if !ok {
		problems = append(problems, fmt.Sprintf("security_audit.fail_on must be one of %s, got %q", strings.Join(SecurityAuditSeverities, ", "), c.FailOn))
	}
	for _, p := range c.IgnorePaths {
		if _, err := path.Match(strings.TrimSuffix(p, "/**"), ""); err != nil || strings.TrimSpace(p) == "" {
			problems = append(problems, fmt.Sprintf("security_audit.ignore_paths: %q is not a path pattern", p))
		}
	}
	return problems
}

// IgnoresPath reports whether p matches one of IgnorePaths.
func (c SecurityAuditConfig) IgnoresPath(p string) bool {
	for _, pat := range c.IgnorePaths {
		if dir, ok := strings.CutSuffix(pat, "/**"); ok {
			if p == dir || strings.HasPrefix(p, dir+"/") {
				return true
			}
			continue
		}
		if m, _ := path.Match(pat, p); m {
			return true
		}
	}
	return false
}
