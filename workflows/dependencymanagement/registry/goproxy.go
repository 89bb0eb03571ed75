package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// GoProxy is a client for the module proxy protocol
// (https://go.dev/ref/mod#goproxy-protocol). It is safe for concurrent use.
type GoProxy struct {
	base string
	f    *fetcher
}

// NewGoProxy returns a client for baseURL (DefaultGoProxy when empty); hc
// nil means http.DefaultClient, ttl ≤ 0 means DefaultTTL.
func NewGoProxy(baseURL string, hc *http.Client, ttl time.Duration) *GoProxy {
	return &GoProxy{base: baseOrDefault(baseURL, DefaultGoProxy), f: newFetcher(hc, ttl)}
}

// GoInfo is the JSON of $base/$module/@v/$version.info.
type GoInfo struct {
	Version string
	Time    time.Time
}

func (p *GoProxy) url(path, suffix string) (string, error) {
	esc, err := module.EscapePath(path)
	if err != nil {
		return "", fmt.Errorf("failed to escape module path %q: %w", path, err)
	}
	return p.base + "/" + esc + suffix, nil
}

func (p *GoProxy) versionURL(path, version, ext string) (string, error) {
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return "", fmt.Errorf("failed to escape version %q: %w", version, err)
	}
	return p.url(path, "/@v/"+ev+ext)
}

// List returns $base/$module/@v/list: the module's tagged versions (no
// pseudo-versions), in the proxy's order.
func (p *GoProxy) List(ctx context.Context, path string) ([]string, error) {
	u, err := p.url(path, "/@v/list")
	if err != nil {
		return nil, err
	}
	body, err := p.f.get(ctx, u, "")
	if err != nil {
		return nil, fmt.Errorf("failed to list versions of %s: %w", path, err)
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if v := strings.Fields(l); len(v) > 0 && semver.IsValid(v[0]) {
			out = append(out, v[0])
		}
	}
	return out, nil
}

// Info returns $base/$module/@v/$version.info.
func (p *GoProxy) Info(ctx context.Context, path, version string) (*GoInfo, error) {
	u, err := p.versionURL(path, version, ".info")
	if err != nil {
		return nil, err
	}
	return p.info(ctx, u, path)
}

// Latest returns $base/$module/@latest.
func (p *GoProxy) Latest(ctx context.Context, path string) (*GoInfo, error) {
	u, err := p.url(path, "/@latest")
	if err != nil {
		return nil, err
	}
	return p.info(ctx, u, path)
}

func (p *GoProxy) info(ctx context.Context, u, path string) (*GoInfo, error) {
	body, err := p.f.get(ctx, u, "")
	if err != nil {
		return nil, fmt.Errorf("failed to get version info of %s: %w", path, err)
	}
	var in GoInfo
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("failed to decode version info of %s: %w", path, err)
	}
	if !semver.IsValid(in.Version) {
		return nil, fmt.Errorf("failed to decode version info of %s: invalid version %q", path, in.Version)
	}
	return &in, nil
}

// Mod returns the go.mod file of path@version ($base/$module/@v/$version.mod).
func (p *GoProxy) Mod(ctx context.Context, path, version string) ([]byte, error) {
	u, err := p.versionURL(path, version, ".mod")
	if err != nil {
		return nil, err
	}
	body, err := p.f.get(ctx, u, "")
	if err != nil {
		return nil, fmt.Errorf("failed to get go.mod of %s@%s: %w", path, version, err)
	}
	return body, nil
}

// Zip returns the module zip of path@version ($base/$module/@v/$version.zip).
// Zips are cached like any response; callers hashing many should expect the
// memory that costs.
func (p *GoProxy) Zip(ctx context.Context, path, version string) ([]byte, error) {
	u, err := p.versionURL(path, version, ".zip")
	if err != nil {
		return nil, err
	}
	body, err := p.f.get(ctx, u, "")
	if err != nil {
		return nil, fmt.Errorf("failed to get zip of %s@%s: %w", path, version, err)
	}
	return body, nil
}

// Releases returns the module's tagged versions, sorted ascending by
// semver, with pre-releases marked and the versions retracted by the go.mod
// of the latest version marked Retracted (as the go command reads
// retractions: https://go.dev/ref/mod#go-mod-file-retract). A module with no
// tags yields its @latest (usually a pseudo-version, marked Prerelease).
func (p *GoProxy) Releases(ctx context.Context, path string) ([]Release, error) {
	versions, err := p.List(ctx, path)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		in, err := p.Latest(ctx, path)
		if err != nil {
			return nil, err
		}
		versions = []string{in.Version}
	}
	semver.Sort(versions)
	versions = compactVersions(versions)
	retracts, err := p.retractions(ctx, path, latestGo(versions))
	if err != nil {
		return nil, err
	}
	out := make([]Release, 0, len(versions))
	for _, v := range versions {
		r := Release{Version: v, Prerelease: semver.Prerelease(v) != "" || module.IsPseudoVersion(v)}
		for _, rt := range retracts {
			if semver.Compare(rt.Low, v) <= 0 && semver.Compare(v, rt.High) <= 0 {
				r.Retracted = true
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// latestGo is the version whose go.mod the go command reads retractions
// from: the highest release, else the highest pre-release.
func latestGo(sorted []string) string {
	for i := len(sorted) - 1; i >= 0; i-- {
		if semver.Prerelease(sorted[i]) == "" {
			return sorted[i]
		}
	}
	return sorted[len(sorted)-1]
}

// retractions parses the retract directives of path@version's go.mod.
func (p *GoProxy) retractions(ctx context.Context, path, version string) ([]modfile.VersionInterval, error) {
	body, err := p.Mod(ctx, path, version)
	if err != nil {
		return nil, err
	}
	f, err := modfile.ParseLax(path+"@"+version+"/go.mod", body, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to parse go.mod of %s@%s: %w", path, version, err)
	}
	out := make([]modfile.VersionInterval, 0, len(f.Retract))
	for _, r := range f.Retract {
		out = append(out, r.VersionInterval)
	}
	return out, nil
}

// compactVersions drops adjacent duplicates (by exact string) from a sorted list.
func compactVersions(vs []string) []string {
	out := vs[:0]
	for i, v := range vs {
		if i == 0 || v != vs[i-1] {
			out = append(out, v)
		}
	}
	return out
}
