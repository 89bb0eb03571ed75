package registry

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	pep440 "github.com/aquasecurity/go-pep440-version"
	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	gosemver "golang.org/x/mod/semver"
)

// scheme compares one ecosystem's version strings.
type scheme interface {
	// compare orders two versions; an invalid one is an error.
	compare(a, b string) (int, error)
	// lines returns the version's first release numbers (major, minor),
	// with a PEP 440 epoch folded into major.
	lines(v string) (major, minor uint64, err error)
	// prerelease reports a pre-release (or dev, or pseudo-) version.
	prerelease(v string) bool
}

// schemeFor returns the comparison for an inventory ecosystem: Go and
// GitHub Actions with golang.org/x/mod/semver (a missing "v" added for
// actions), npm with Masterminds semver, PyPI with PEP 440.
func schemeFor(ecosystem string) (scheme, error) {
	switch ecosystem {
	case inventory.EcosystemGo:
		return goScheme{}, nil
	case inventory.EcosystemGitHubActions:
		return goScheme{addV: true}, nil
	case inventory.EcosystemNPM:
		return npmScheme{}, nil
	case inventory.EcosystemPyPI:
		return pepScheme{}, nil
	}
	return nil, fmt.Errorf("failed to compare versions: unsupported ecosystem %q", ecosystem)
}

type goScheme struct{ addV bool }

func (s goScheme) canon(v string) (string, error) {
	if s.addV && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if !gosemver.IsValid(v) {
		return "", fmt.Errorf("failed to parse version %q: not semver", v)
	}
	return v, nil
}

func (s goScheme) compare(a, b string) (int, error) {
	ca, err := s.canon(a)
	if err != nil {
		return 0, err
	}
	cb, err := s.canon(b)
	if err != nil {
		return 0, err
	}
	return gosemver.Compare(ca, cb), nil
}

func (s goScheme) lines(v string) (uint64, uint64, error) {
	c, err := s.canon(v)
	if err != nil {
		return 0, 0, err
	}
	mm := strings.Split(strings.TrimPrefix(gosemver.MajorMinor(c), "v"), ".")
	maj, _ := strconv.ParseUint(mm[0], 10, 64)
	var mnr uint64
	if len(mm) > 1 {
		mnr, _ = strconv.ParseUint(mm[1], 10, 64)
	}
	return maj, mnr, nil
}

func (s goScheme) prerelease(v string) bool {
	c, err := s.canon(v)
	return err != nil || gosemver.Prerelease(c) != ""
}

type npmScheme struct{}

func (npmScheme) prerelease(v string) bool {
	sv, err := semver.NewVersion(v)
	return err != nil || sv.Prerelease() != ""
}

func (npmScheme) compare(a, b string) (int, error) {
	va, err := semver.NewVersion(a)
	if err != nil {
		return 0, fmt.Errorf("failed to parse version %q: %w", a, err)
	}
	vb, err := semver.NewVersion(b)
	if err != nil {
		return 0, fmt.Errorf("failed to parse version %q: %w", b, err)
	}
	return va.Compare(vb), nil
}

func (npmScheme) lines(v string) (uint64, uint64, error) {
	sv, err := semver.NewVersion(v)
	if err != nil {
		return 0, 0, fmt.Errorf("failed to parse version %q: %w", v, err)
	}
	return sv.Major(), sv.Minor(), nil
}

type pepScheme struct{}

func (pepScheme) prerelease(v string) bool {
	pv, err := pep440.Parse(v)
	return err != nil || pv.IsPreRelease()
}

func (pepScheme) compare(a, b string) (int, error) {
	va, err := pep440.Parse(a)
	if err != nil {
		return 0, fmt.Errorf("failed to parse version %q: %w", a, err)
	}
	vb, err := pep440.Parse(b)
	if err != nil {
		return 0, fmt.Errorf("failed to parse version %q: %w", b, err)
	}
	return va.Compare(vb), nil
}

// lines reads the release segment of BaseVersion ("[N!]X.Y.Z"); an epoch
// N > 0 is treated as a major above every release without one.
func (pepScheme) lines(v string) (uint64, uint64, error) {
	pv, err := pep440.Parse(v)
	if err != nil {
		return 0, 0, fmt.Errorf("failed to parse version %q: %w", v, err)
	}
	base := pv.BaseVersion()
	var epoch uint64
	if e, rest, ok := strings.Cut(base, "!"); ok {
		epoch, _ = strconv.ParseUint(e, 10, 64)
		base = rest
	}
	seg := strings.Split(base, ".")
	maj, _ := strconv.ParseUint(seg[0], 10, 64)
	var mnr uint64
	if len(seg) > 1 {
		mnr, _ = strconv.ParseUint(seg[1], 10, 64)
	}
	return epoch<<32 | maj, mnr, nil
}
