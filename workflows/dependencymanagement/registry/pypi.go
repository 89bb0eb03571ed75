package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	pep440 "github.com/aquasecurity/go-pep440-version"
)

// PyPI is a client for PyPI's JSON API
// (https://docs.pypi.org/api/json/). It is safe for concurrent use.
type PyPI struct {
	base string
	f    *fetcher
}

// NewPyPI returns a client for baseURL (DefaultPyPI when empty).
func NewPyPI(baseURL string, hc *http.Client, ttl time.Duration) *PyPI {
	return &PyPI{base: baseOrDefault(baseURL, DefaultPyPI), f: newFetcher(hc, ttl)}
}

// PyPIProject is the part of /pypi/<name>/json this package reads.
type PyPIProject struct {
	Info struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"info"`
	Releases map[string][]PyPIFile `json:"releases"`
}

// PyPIFile is one distribution file of a release.
type PyPIFile struct {
	Filename   string    `json:"filename"`
	Yanked     bool      `json:"yanked"`
	UploadTime time.Time `json:"upload_time_iso_8601"`
}

var pep503Runs = regexp.MustCompile(`[-_.]+`)

// NormalizeName is a project name normalised as PEP 503 says.
func NormalizeName(name string) string {
	return pep503Runs.ReplaceAllString(strings.ToLower(name), "-")
}

var pypiName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)

// Project returns /pypi/<name>/json.
func (c *PyPI) Project(ctx context.Context, name string) (*PyPIProject, error) {
	if !pypiName.MatchString(name) {
		return nil, fmt.Errorf("failed to get PyPI project: invalid name %q", name)
	}
	body, err := c.f.get(ctx, c.base+"/pypi/"+NormalizeName(name)+"/json", "application/json")
	if err != nil {
		return nil, fmt.Errorf("failed to get PyPI project %s: %w", name, err)
	}
	var p PyPIProject
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("failed to decode PyPI project %s: %w", name, err)
	}
	return &p, nil
}

// Releases returns the project's releases sorted ascending by PEP 440, with
// pre-releases (and dev releases) marked, and a release Yanked when every
// file of it is yanked (PEP 592). Releases without files and versions that
// are not PEP 440 are left out.
func (c *PyPI) Releases(ctx context.Context, name string) ([]Release, error) {
	p, err := c.Project(ctx, name)
	if err != nil {
		return nil, err
	}
	var all []versioned[pep440.Version]
	for key, files := range p.Releases {
		v, err := pep440.Parse(key)
		if err != nil || len(files) == 0 {
			continue
		}
		r := Release{Version: key, Prerelease: v.IsPreRelease(), Yanked: true}
		for _, f := range files {
			r.Yanked = r.Yanked && f.Yanked
			if r.Published.IsZero() || f.UploadTime.Before(r.Published) {
				r.Published = f.UploadTime
			}
		}
		all = append(all, versioned[pep440.Version]{v, r})
	}
	return inOrder(all), nil
}

// SatisfiesPEP440 reports whether version meets a PEP 440 specifier set
// (for example ">=1.2,<2", "~=1.4").
func SatisfiesPEP440(specifiers, version string) (bool, error) {
	s, err := pep440.NewSpecifiers(specifiers)
	if err != nil {
		return false, fmt.Errorf("failed to parse PEP 440 specifiers %q: %w", specifiers, err)
	}
	v, err := pep440.Parse(version)
	if err != nil {
		return false, fmt.Errorf("failed to parse PEP 440 version %q: %w", version, err)
	}
	return s.Check(v), nil
}
