package dependencymanagement

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
)

// Versions lists the published releases of a dependency (Registries over the registry clients).
type Versions interface {
	Releases(ctx context.Context, ecosystem, name string) ([]registry.Release, error)
}

// Advisor finds the advisories affecting dependency versions (*osv.Client).
type Advisor interface {
	Advisories(ctx context.Context, queries []osv.Query) ([][]osv.Advisory, error)
}

// Policy is what the plan follows: the workflow's parameters over the repository's settings.
type Policy struct {
	Strategy registry.Strategy
	// Security is high, normal or low.
	Security string
	Config   config.DependencyManagementConfig
}

// Update is one dependency moving from one version to another, at every place it is written.
type Update struct {
	Ecosystem, Name string
	From, To        string
	Bump            registry.Bump
	Dev             bool
	// Sites are the places the version is written (several go.mod files of a monorepo, every
	// workflow using an action).
	Sites []inventory.Dependency
	// Release is the target release (its commit SHA for an action).
	Release registry.Release
	// Advisories are those the update fixes; Security marks an update made for them.
	Advisories []osv.Advisory
	Security   bool
	// MajorNeeded: no release within the strategy fixes every advisory.
	MajorNeeded bool
	// Unfixable are advisory ids with no fixed version.
	Unfixable []string
}

// securityPrefix starts the slug of a security fix's group.
const securityPrefix = "security-"

// Key names the update in metadata and on the dashboard: "<ecosystem>:<name>".
func (u Update) Key() string { return u.Ecosystem + ":" + u.Name }

// Group is one pull request's updates.
type Group struct {
	// Slug is the branch name after BranchPrefix.
	Slug     string
	Title    string
	Security bool
	Updates  []Update
}

// Branch is the group's bot-owned head branch.
func (g Group) Branch() string { return BranchPrefix + g.Slug }

// HasMajor reports whether any update of the group is a major bump (never merged by the bot).
func (g Group) HasMajor() bool {
	for _, u := range g.Updates {
		if u.Bump == registry.Major {
			return true
		}
	}
	return false
}

// Finding is a dependency with an open advisory.
type Finding struct {
	Ecosystem, Name, Version string
	Manifest                 string
	Advisories               []osv.Advisory
}

// Skipped is an update not opened, and why.
type Skipped struct {
	Update Update
	Reason string
}

// Plan is what one run decided.
type Plan struct {
	Groups []Group
	// Majors are major updates the strategy lists but does not open.
	Majors []Update
	// Ignored are updates the repository's ignore list leaves out.
	Ignored []Update
	// Findings are the open advisories of the inventory.
	Findings []Finding
	// Problems are dependencies whose versions or advisories could not be read.
	Problems []string
}

// target is one dependency identity at one version.
type target struct {
	eco, name, version string
}

// candidates returns the dependencies an update may move, grouped by name and current version:
// Go requires without a replacement, npm package.json entries with a locked or exact version,
// Python "==" pins, and actions pinned to a version tag or to a SHA with a version comment.
func candidates(inv *inventory.Result) (map[target][]inventory.Dependency, []target) {
	sites := map[target][]inventory.Dependency{}
	var order []target
	for _, d := range inv.Dependencies {
		v, ok := currentVersion(d)
		if !ok {
			continue
		}
		t := target{d.Ecosystem, d.Name, v}
		if _, seen := sites[t]; !seen {
			order = append(order, t)
		}
		sites[t] = append(sites[t], d)
	}
	return sites, order
}

// currentVersion is the version an update starts from, when the dependency can be updated.
func currentVersion(d inventory.Dependency) (string, bool) {
	if d.Column == 0 {
		return "", false
	}
	switch d.Ecosystem {
	case inventory.EcosystemGo:
		return d.Version, d.Replace == nil && d.Version != ""
	case inventory.EcosystemNPM:
		return d.Version, inventory.Kind(d.Manifest) == inventory.KindPackageJSON && d.Version != ""
	case inventory.EcosystemPyPI:
		return d.Version, d.Version != "" && d.Written() == d.Version
	case inventory.EcosystemGitHubActions:
		if d.Action == nil {
			return "", false
		}
		switch d.Action.RefKind {
		case inventory.RefTag:
			return d.Action.Ref, true
		case inventory.RefSHA:
			c := strings.TrimSpace(d.Action.Comment)
			return c, c != "" && inventory.RefKindOf(c) == inventory.RefTag
		}
	}
	return "", false
}

// osvVersion is the version as OSV's ecosystems spell it: Go module versions and action tags
// without the "v" (as OSV's records and osv-scanner write them).
func osvVersion(eco, v string) string {
	if eco == inventory.EcosystemGitHubActions || eco == inventory.EcosystemGo {
		return strings.TrimPrefix(v, "v")
	}
	return v
}

// MakePlan decides the updates of an inventory under a policy.
func MakePlan(ctx context.Context, inv *inventory.Result, vs Versions, adv Advisor, pol Policy) (*Plan, error) {
	sites, order := candidates(inv)
	plan := &Plan{}
	// Advisories for every dependency at its current version, lock entries included.
	var queries []osv.Query
	var queried []inventory.Dependency
	seenQ := map[target]bool{}
	for _, d := range inv.Dependencies {
		v := d.Version
		if d.Ecosystem == inventory.EcosystemGitHubActions {
			v, _ = currentVersion(d)
		}
		t := target{d.Ecosystem, d.Name, v}
		if v == "" || seenQ[t] {
			continue
		}
		seenQ[t] = true
		queries = append(queries, osv.Query{Package: osv.Package{Name: d.Name, Ecosystem: d.Ecosystem}, Version: osvVersion(d.Ecosystem, v)})
		queried = append(queried, d)
	}
	advisories := map[target][]osv.Advisory{}
	if len(queries) > 0 && adv != nil {
		res, err := adv.Advisories(ctx, queries)
		if err != nil {
			return nil, fmt.Errorf("failed to read advisories: %w", err)
		}
		for i, as := range res {
			if len(as) == 0 {
				continue
			}
			d := queried[i]
			v := d.Version
			if d.Ecosystem == inventory.EcosystemGitHubActions {
				v, _ = currentVersion(d)
			}
			advisories[target{d.Ecosystem, d.Name, v}] = as
			plan.Findings = append(plan.Findings, Finding{Ecosystem: d.Ecosystem, Name: d.Name, Version: v, Manifest: d.Manifest, Advisories: as})
		}
	}
	groups := map[string]*Group{}
	var groupOrder []string
	add := func(g Group, u Update) {
		if ex, ok := groups[g.Slug]; ok {
			ex.Updates = append(ex.Updates, u)
			return
		}
		g.Updates = []Update{u}
		groups[g.Slug] = &g
		groupOrder = append(groupOrder, g.Slug)
	}
	for _, t := range order {
		ds := sites[t]
		rels, err := vs.Releases(ctx, t.eco, t.name)
		if transient(ctx, err) {
			return nil, err // retried with the job: a partial plan would close PRs it did not see
		}
		if err != nil {
			plan.Problems = append(plan.Problems, fmt.Sprintf("%s %s: %v", t.eco, t.name, err))
			continue
		}
		if t.eco == inventory.EcosystemGitHubActions {
			rels = samePrecision(rels, t.version)
		}
		u := Update{Ecosystem: t.eco, Name: t.name, From: t.version, Sites: ds, Dev: allDev(ds)}
		as := advisories[t]
		if len(as) > 0 && pol.Security != "low" {
			fix, ok, err := registry.SmallestFix(t.eco, t.version, rels, as, pol.Strategy)
			if err != nil {
				plan.Problems = append(plan.Problems, fmt.Sprintf("%s %s: %v", t.eco, t.name, err))
				continue
			}
			u.Unfixable = fix.Unfixable
			if ok {
				su := u
				su.To, su.Release, su.Bump, su.MajorNeeded = fix.Version, fix.Release, fix.Bump, fix.MajorNeeded
				su.Advisories, su.Security = fixedBy(as, fix.Unfixable), true
				if ignored(pol.Config.Ignore, su) {
					plan.Ignored = append(plan.Ignored, su)
					continue
				}
				if pol.Security == "high" {
					add(Group{Slug: securityPrefix + slug(t.eco) + "-" + slug(t.name), Security: true,
						Title: fmt.Sprintf("fix(deps): update %s to %s (%s)", t.name, su.To, strings.Join(advisoryIDs(su.Advisories), ", "))}, su)
					continue
				}
				// normal: the fix goes with the regular updates, if the strategy's pick is not higher.
				if c, ok, _ := registry.Select(t.eco, t.version, rels, pol.Strategy); ok && newer(t.eco, c.Version, su.To) {
					su.To, su.Release, su.Bump = c.Version, c.Release, c.Bump
				}
				placeRegular(pol, su, add)
				continue
			}
		}
		if t.eco == inventory.EcosystemGo && !anyDirect(ds) {
			continue // an indirect requirement moves only for a security fix (or with what requires it)
		}
		c, ok, err := registry.Select(t.eco, t.version, rels, registry.Aggressive)
		if err != nil {
			plan.Problems = append(plan.Problems, fmt.Sprintf("%s %s: %v", t.eco, t.name, err))
			continue
		}
		if !ok {
			continue
		}
		if !pol.Strategy.Allows(c.Bump) {
			mu := u
			mu.To, mu.Release, mu.Bump = c.Version, c.Release, c.Bump
			if c.Bump == registry.Major {
				plan.Majors = append(plan.Majors, mu)
			}
			if c, ok, _ = registry.Select(t.eco, t.version, rels, pol.Strategy); !ok {
				continue
			}
		}
		u.To, u.Release, u.Bump = c.Version, c.Release, c.Bump
		if ignored(pol.Config.Ignore, u) {
			plan.Ignored = append(plan.Ignored, u)
			continue
		}
		placeRegular(pol, u, add)
	}
	for _, s := range groupOrder {
		plan.Groups = append(plan.Groups, *groups[s])
	}
	// Security first, then by slug, so the limit keeps the same PRs run after run.
	sort.SliceStable(plan.Groups, func(i, j int) bool {
		a, b := plan.Groups[i], plan.Groups[j]
		if a.Security != b.Security {
			return a.Security
		}
		return a.Slug < b.Slug
	})
	for i := range plan.Groups {
		if g := &plan.Groups[i]; !g.Security && len(g.Updates) > 1 {
			g.Title = fmt.Sprintf("chore(deps): update %s dependencies (%d)", strings.TrimPrefix(g.Slug, "group-"), len(g.Updates))
		}
	}
	return plan, nil
}

// transient reports a registry answer worth retrying (429, 5xx) or a context that ended.
func transient(ctx context.Context, err error) bool {
	var he *registry.HTTPError
	return err != nil && (errors.As(err, &he) && he.Retryable() || ctx.Err() != nil)
}

// placeRegular puts a regular update into its configured group or a PR of its own.
func placeRegular(pol Policy, u Update, add func(Group, Update)) {
	title := fmt.Sprintf("chore(deps): update %s from %s to %s", u.Name, u.From, u.To)
	if u.Security || len(u.Advisories) > 0 {
		title = fmt.Sprintf("fix(deps): update %s from %s to %s (%s)", u.Name, u.From, u.To, strings.Join(advisoryIDs(u.Advisories), ", "))
	}
	for _, g := range pol.Config.Groups {
		if matchesGroup(g, u) {
			add(Group{Slug: "group-" + slug(g.Name), Title: title}, u)
			return
		}
	}
	add(Group{Slug: slug(u.Ecosystem) + "-" + slug(u.Name), Title: title}, u)
}

func matchesGroup(g config.DependencyGroup, u Update) bool {
	if g.DevOnly && !u.Dev {
		return false
	}
	if len(g.Ecosystems) > 0 && !contains(g.Ecosystems, u.Ecosystem) {
		return false
	}
	if len(g.Patterns) == 0 {
		return true
	}
	for _, p := range g.Patterns {
		if ok, _ := path.Match(p, u.Name); ok {
			return true
		}
	}
	return false
}

func ignored(rules []config.DependencyIgnore, u Update) bool {
	for _, r := range rules {
		if ok, _ := path.Match(r.Dependency, u.Name); !ok {
			continue
		}
		if len(r.UpdateTypes) == 0 || contains(r.UpdateTypes, u.Bump.String()) {
			return true
		}
	}
	return false
}

// samePrecision keeps the action tags written with as many numbers as current ("v4" moves to
// "v5", "v4.1" to "v4.2", "v4.1.0" to "v4.1.1"), so the pin keeps its style.
func samePrecision(rels []registry.Release, current string) []registry.Release {
	n := strings.Count(current, ".")
	var out []registry.Release
	for _, r := range rels {
		if strings.Count(r.Version, ".") == n && strings.HasPrefix(r.Version, "v") == strings.HasPrefix(current, "v") {
			out = append(out, r)
		}
	}
	return out
}

func newer(eco, a, b string) bool {
	bump, err := registry.BumpOf(eco, b, a)
	return err == nil && bump != registry.NoBump
}

func fixedBy(as []osv.Advisory, unfixable []string) []osv.Advisory {
	var out []osv.Advisory
	for _, a := range as {
		if !contains(unfixable, a.ID) {
			out = append(out, a)
		}
	}
	return out
}

func advisoryIDs(as []osv.Advisory) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func anyDirect(ds []inventory.Dependency) bool {
	for _, d := range ds {
		if d.Direct {
			return true
		}
	}
	return false
}

func allDev(ds []inventory.Dependency) bool {
	for _, d := range ds {
		if !d.Dev {
			return false
		}
	}
	return len(ds) > 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// slug makes a branch-safe name: lower-case letters, digits, '.', '_' and '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_'
		if ok {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-.")
}
