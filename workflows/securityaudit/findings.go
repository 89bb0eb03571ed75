package securityaudit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"github.com/contexten/autonomous/workflows/securityaudit/workflowaudit"
)

// Rule ids of the dependency findings (the workflow rules are workflowaudit's).
const (
	// RuleVulnerableDependency: a manifest's dependency has a known advisory.
	RuleVulnerableDependency = "vulnerable-dependency"
	// RuleVulnerableAction: an action is used at a version with a known advisory.
	RuleVulnerableAction = "vulnerable-action"
)

// Finding is one finding of the audit: a workflowaudit finding or a dependency advisory.
type Finding struct {
	workflowaudit.Finding
	// Advisory and Fixed are set for dependency findings: the advisory id and the versions
	// that fix it.
	Advisory string   `json:"advisory,omitempty"`
	Fixed    []string `json:"fixed,omitempty"`
}

// OSV answers the advisories affecting package versions (*osv.Client).
type OSV interface {
	Advisories(ctx context.Context, queries []osv.Query) ([][]osv.Advisory, error)
}

// auditWorkflows runs the auditor on the snapshot's workflow files. A file that is not a
// workflow (a parse error) is listed in problems; the others are audited all the same.
func auditWorkflows(s *snapshot, opts workflowaudit.Options) (findings []Finding, problems []string) {
	paths := make([]string, 0, len(s.Files))
	for p := range s.Files {
		if isWorkflow(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		fs, err := workflowaudit.Audit(p, s.Files[p], opts)
		if err != nil {
			if errors.Is(err, workflowaudit.ErrInvalidWorkflow) {
				problems = append(problems, err.Error())
				continue
			}
			problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		for _, f := range fs {
			findings = append(findings, Finding{Finding: f})
		}
	}
	return findings, problems
}

// severityOf maps OSV's rating to the audit's; an unrated advisory counts as medium.
func severityOf(s osv.Severity) workflowaudit.Severity {
	switch s {
	case osv.SeverityCritical:
		return workflowaudit.SeverityCritical
	case osv.SeverityHigh:
		return workflowaudit.SeverityHigh
	case osv.SeverityLow:
		return workflowaudit.SeverityLow
	}
	return workflowaudit.SeverityMedium
}

// auditDependencies asks OSV about every dependency of the snapshot's manifests that has an
// exact version (and every action used at a version tag) and returns one finding per advisory
// at the version's position, with the fixed versions. queried counts the versions asked about.
func auditDependencies(ctx context.Context, client OSV, s *snapshot, cfg config.SecurityAuditConfig) (findings []Finding, queried int, problems []string, err error) {
	inv := inventory.Scan(s.Files)
	for _, pe := range inv.Errors {
		if isWorkflow(pe.Path) {
			continue // the workflow auditor reports those
		}
		problems = append(problems, pe.Error())
	}
	var deps []inventory.Dependency
	var queries []osv.Query
	seen := map[string]bool{}
	for _, d := range inv.Dependencies {
		version := d.Version
		if d.Ecosystem == inventory.EcosystemGitHubActions {
			if d.Action == nil || d.Action.RefKind != inventory.RefTag {
				continue
			}
			// OSV's GitHub Actions records name versions without the tag's "v".
			version = strings.TrimPrefix(version, "v")
		}
		if version == "" {
			continue
		}
		key := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%d", d.Ecosystem, d.Name, version, d.Manifest, d.Line)
		if seen[key] {
			continue
		}
		seen[key] = true
		deps = append(deps, d)
		queries = append(queries, osv.Query{Package: osv.Package{Name: d.Name, Ecosystem: d.Ecosystem}, Version: version})
	}
	if len(queries) == 0 {
		return nil, 0, problems, nil
	}
	results, err := client.Advisories(ctx, queries)
	if err != nil {
		return nil, len(queries), problems, fmt.Errorf("failed to ask OSV about %d dependencies: %w", len(queries), err)
	}
	ignored := map[string]bool{}
	for _, id := range cfg.IgnoreAdvisories {
		ignored[strings.ToUpper(strings.TrimSpace(id))] = true
	}
	for i, advisories := range results {
		d := deps[i]
		for _, a := range advisories {
			if isIgnored(a, ignored) {
				continue
			}
			rule, what := RuleVulnerableDependency, fmt.Sprintf("%s %s (%s)", d.Name, queries[i].Version, d.Ecosystem)
			if d.Ecosystem == inventory.EcosystemGitHubActions {
				rule, what = RuleVulnerableAction, fmt.Sprintf("%s@%s", d.Name, d.Constraint)
			}
			fix := "no fixed version is known"
			if len(a.Fixed) > 0 {
				fix = "fixed in " + strings.Join(a.Fixed, ", ")
			}
			summary := a.Summary
			if summary == "" {
				summary = a.ID
			}
			findings = append(findings, Finding{
				Finding: workflowaudit.Finding{
					RuleID: rule, Severity: severityOf(a.Severity), File: d.Manifest, Line: max(d.Line, 1), Column: max(d.Column, 1),
					Message:     fmt.Sprintf("%s is affected by %s: %s; %s", what, a.ID, summary, fix),
					Explanation: "A published advisory affects this version. Upgrade to a fixed version (or, for an action, pin the commit of a fixed release).",
					Link:        "https://osv.dev/vulnerability/" + a.ID,
				},
				Advisory: a.ID, Fixed: a.Fixed,
			})
		}
	}
	return findings, len(queries), problems, nil
}

func isIgnored(a osv.Advisory, ignored map[string]bool) bool {
	if ignored[strings.ToUpper(a.ID)] {
		return true
	}
	for _, id := range a.IDs {
		if ignored[strings.ToUpper(id)] {
			return true
		}
	}
	return false
}

// findingKey identifies a finding independently of its line: its file, rule, message and the
// text of its line (trimmed). A step moved elsewhere in the file keeps its key.
func findingKey(f Finding, files map[string][]byte) string {
	return f.File + "\x00" + f.RuleID + "\x00" + f.Message + "\x00" + lineText(files[f.File], f.Line)
}

func lineText(src []byte, n int) string {
	lines := strings.Split(string(src), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[n-1])
}

// introduced returns the head's findings the base does not have: a finding whose key (see
// findingKey) occurs in the base as often or more is not new, wherever it moved.
func introduced(head []Finding, headFiles map[string][]byte, base []Finding, baseFiles map[string][]byte) []Finding {
	count := map[string]int{}
	for _, f := range base {
		count[findingKey(f, baseFiles)]++
	}
	var out []Finding
	for _, f := range head {
		k := findingKey(f, headFiles)
		if count[k] > 0 {
			count[k]--
			continue
		}
		out = append(out, f)
	}
	return out
}

// sortFindings orders findings by severity (worst first), file, line and rule.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.RuleID < b.RuleID
	})
}
