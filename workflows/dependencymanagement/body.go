package dependencymanagement

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
)

// metaMarker opens the machine-readable line of an update PR's body.
const metaMarker = "<!-- autonomous-ci:deps "

// Meta is what an update PR's body records for later runs (merge, /ci deps, dashboard).
type Meta struct {
	Group    string     `json:"group"`
	Security bool       `json:"security,omitempty"`
	Updates  []MetaItem `json:"updates"`
}

// MetaItem is one update of a PR.
type MetaItem struct {
	Ecosystem  string   `json:"ecosystem"`
	Name       string   `json:"name"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	Bump       string   `json:"bump"`
	Advisories []string `json:"advisories,omitempty"`
}

// HasMajor reports a major update among the PR's.
func (m Meta) HasMajor() bool {
	for _, u := range m.Updates {
		if u.Bump == registry.Major.String() {
			return true
		}
	}
	return false
}

var metaLine = regexp.MustCompile(`<!-- autonomous-ci:deps (\{.*?\}) -->`)

// ParseMeta reads the metadata of an update PR's body (ok false when it has none).
func ParseMeta(body string) (Meta, bool) {
	m := metaLine.FindStringSubmatch(body)
	if m == nil {
		return Meta{}, false
	}
	var meta Meta
	if err := json.Unmarshal([]byte(m[1]), &meta); err != nil {
		return Meta{}, false
	}
	return meta, true
}

func metaOf(g Group, applied []Update) Meta {
	m := Meta{Group: g.Slug, Security: g.Security}
	for _, u := range applied {
		m.Updates = append(m.Updates, MetaItem{Ecosystem: u.Ecosystem, Name: u.Name, From: u.From, To: u.To,
			Bump: u.Bump.String(), Advisories: advisoryIDs(u.Advisories)})
	}
	return m
}

// PRBody renders an update PR's description: why (the advisories for a security fix), the
// version table with release-notes links, the lock-file notes, and the metadata line.
func PRBody(g Group, ch *Changes, testBeforeMerge bool) string {
	var b strings.Builder
	if g.Security {
		b.WriteString("## Security fix\n\n")
		for _, u := range ch.Applied {
			fmt.Fprintf(&b, "%s %s is affected by %d known %s; %s is the smallest version that fixes %s.\n",
				markdown.Code(u.Name), markdown.Code(u.From), len(u.Advisories), plural(len(u.Advisories), "advisory", "advisories"),
				markdown.Code(u.To), plural(len(u.Advisories), "it", "all of them"))
			if u.MajorNeeded {
				b.WriteString("\n**This is a major update:** no release within the update strategy fixes every advisory.\n")
			}
			if len(u.Unfixable) > 0 {
				fmt.Fprintf(&b, "\nNot fixed by any release yet: %s.\n", markdown.Text(strings.Join(u.Unfixable, ", ")))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("| Package | Type | From | To | Where |\n|---|---|---|---|---|\n")
	for _, u := range ch.Applied {
		var where []string
		for _, s := range u.Sites {
			where = append(where, markdown.Code(s.Manifest))
		}
		fmt.Fprintf(&b, "| [%s](%s) | %s | %s | [%s](%s) | %s |\n", markdown.Text(u.Name), markdown.SafeURL(packageURL(u.Ecosystem, u.Name, "")),
			u.Bump, markdown.Code(u.From), markdown.Text(u.To), markdown.SafeURL(releaseURL(u)), strings.Join(uniq(where), " "))
	}
	var advs []osv.Advisory
	for _, u := range ch.Applied {
		advs = append(advs, u.Advisories...)
	}
	if len(advs) > 0 {
		b.WriteString("\n### Advisories\n\n")
		for _, a := range advs {
			fmt.Fprintf(&b, "- [%s](%s) (%s): %s; fixed in %s\n", markdown.Text(a.ID), markdown.SafeURL("https://osv.dev/vulnerability/"+url.PathEscape(a.ID)),
				a.Severity, markdown.Plain(a.Summary), markdown.Text(strings.Join(a.Fixed, ", ")))
		}
	}
	for p, lines := range ch.GoSums {
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n%s: %d %s added, computed from the module proxy.\n", markdown.Code(p), len(lines), plural(len(lines), "hash", "hashes"))
		}
	}
	if len(ch.Blocked) > 0 {
		b.WriteString("\n### Not included\n\n")
		for _, s := range ch.Blocked {
			fmt.Fprintf(&b, "- %s %s → %s: %s\n", markdown.Code(s.Update.Name), markdown.Code(s.Update.From), markdown.Code(s.Update.To), markdown.Plain(s.Reason))
		}
	}
	b.WriteString("\n---\n")
	switch {
	case g.HasMajor():
		b.WriteString("A major update is never merged by the bot: review the release notes and merge it yourself.\n")
	case testBeforeMerge:
		b.WriteString("The bot merges this pull request once every check on its head commit has passed.\n")
	default:
		b.WriteString("Merge when you are ready; the bot does not merge it (test_before_merge is off).\n")
	}
	b.WriteString("This branch belongs to the bot: a push to it stops the bot from updating it.\n\n")
	meta, _ := json.Marshal(metaOf(g, ch.Applied))
	b.WriteString(metaMarker + string(meta) + " -->\n")
	return b.String()
}

// packageURL links a package (at a version, when given) on its registry's site.
func packageURL(eco, name, version string) string {
	switch eco {
	case inventory.EcosystemGo:
		if version != "" {
			return "https://pkg.go.dev/" + name + "@" + version
		}
		return "https://pkg.go.dev/" + name
	case inventory.EcosystemNPM:
		if version != "" {
			return "https://www.npmjs.com/package/" + name + "/v/" + version
		}
		return "https://www.npmjs.com/package/" + name
	case inventory.EcosystemPyPI:
		if version != "" {
			return "https://pypi.org/project/" + name + "/" + version + "/"
		}
		return "https://pypi.org/project/" + name + "/"
	case inventory.EcosystemGitHubActions:
		return "https://github.com/" + name
	}
	return ""
}

// releaseURL links the target version's release notes (the GitHub release of an action).
func releaseURL(u Update) string {
	if u.Ecosystem == inventory.EcosystemGitHubActions {
		return "https://github.com/" + u.Name + "/releases/tag/" + url.PathEscape(u.To)
	}
	return packageURL(u.Ecosystem, u.Name, u.To)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
