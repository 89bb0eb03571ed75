package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// NPM is a client for the npm registry's package documents
// (https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md).
// It is safe for concurrent use.
type NPM struct {
	base string
	f    *fetcher
}

// NewNPM returns a client for baseURL (DefaultNPMRegistry when empty).
func NewNPM(baseURL string, hc *http.Client, ttl time.Duration) *NPM {
	return &NPM{base: baseOrDefault(baseURL, DefaultNPMRegistry), f: newFetcher(hc, ttl)}
}

// NPMPackage is the part of a package document this package reads.
type NPMPackage struct {
	Name     string                `json:"name"`
	DistTags map[string]string     `json:"dist-tags"`
	Versions map[string]NPMVersion `json:"versions"`
	// Time maps versions to publish times (absent from abbreviated documents).
	Time map[string]string `json:"time"`
}

// NPMVersion is one version's manifest in a package document.
type NPMVersion struct {
	Version string `json:"version"`
	Dist    struct {
		Tarball   string `json:"tarball"`
		Integrity string `json:"integrity"`
		Shasum    string `json:"shasum"`
	} `json:"dist"`
	// DeprecatedRaw is the "deprecated" message (a string; some old
	// documents carry a boolean).
	DeprecatedRaw        json.RawMessage   `json:"deprecated,omitempty"`
	Dependencies         map[string]string `json:"dependencies,omitempty"`
	OptionalDependencies map[string]string `json:"optionalDependencies,omitempty"`
	PeerDependencies     map[string]string `json:"peerDependencies,omitempty"`
}

// Deprecated reports whether the version is marked deprecated.
func (v NPMVersion) Deprecated() bool {
	raw := strings.TrimSpace(string(v.DeprecatedRaw))
	return raw != "" && raw != "null" && raw != "false" && raw != `""`
}

// Latest is the "latest" dist-tag.
func (p *NPMPackage) Latest() string { return p.DistTags["latest"] }

// npmAccept asks for the abbreviated ("corgi") document, which has every
// field read here, and falls back to the full one.
const npmAccept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"

// Package returns the package document of name ("lodash", "@scope/name").
func (c *NPM) Package(ctx context.Context, name string) (*NPMPackage, error) {
	p, err := npmPath(name)
	if err != nil {
		return nil, err
	}
	body, err := c.f.get(ctx, c.base+"/"+p, npmAccept)
	if err != nil {
		return nil, fmt.Errorf("failed to get npm package %s: %w", name, err)
	}
	var doc NPMPackage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("failed to decode npm package %s: %w", name, err)
	}
	return &doc, nil
}

// npmPath is the registry path of a package name: a scoped name's slash is
// escaped ("@scope%2fname"), as npm's own client sends it.
func npmPath(name string) (string, error) {
	bad := name == "" || strings.ContainsAny(name, " \t\r\n?#%\\") || strings.HasPrefix(name, ".")
	if strings.HasPrefix(name, "@") {
		scope, pkg, ok := strings.Cut(name[1:], "/")
		bad = bad || !ok || scope == "" || pkg == "" || strings.Contains(pkg, "/")
		if !bad {
			return "@" + scope + "%2f" + pkg, nil
		}
	} else if strings.Contains(name, "/") {
		bad = true
	}
	if bad {
		return "", fmt.Errorf("failed to get npm package: invalid name %q", name)
	}
	return name, nil
}

// Releases returns the package's versions sorted ascending by semver, with
// pre-releases and deprecated versions marked. Versions that are not valid
// semver are left out.
func (c *NPM) Releases(ctx context.Context, name string) ([]Release, error) {
	doc, err := c.Package(ctx, name)
	if err != nil {
		return nil, err
	}
	var all []versioned[*semver.Version]
	for key, mv := range doc.Versions {
		v, err := semver.StrictNewVersion(key)
		if err != nil {
			continue
		}
		r := Release{Version: key, Prerelease: v.Prerelease() != "", Deprecated: mv.Deprecated()}
		if t, err := time.Parse(time.RFC3339, doc.Time[key]); err == nil {
			r.Published = t
		}
		all = append(all, versioned[*semver.Version]{v, r})
	}
	return inOrder(all), nil
}

// Satisfies reports whether version meets the npm range constraint (for
// example "^1.2.0", "~1.2", ">=1 <2", "1.x"). Masterminds' ranges follow
// npm's for these forms; "latest", tags, URLs and git specs are errors.
func Satisfies(constraint, version string) (bool, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return false, fmt.Errorf("failed to parse npm range %q: %w", constraint, err)
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return false, fmt.Errorf("failed to parse npm version %q: %w", version, err)
	}
	return c.Check(v), nil
}
