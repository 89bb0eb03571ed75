package registry

import (
	"fmt"
	"slices"

	"github.com/contexten/autonomous/integrations/osv"
)

// Strategy is the dependency_management update_strategy parameter.
type Strategy string

// Strategies: conservative opens patch updates, smart (the default) minor
// and patch, aggressive majors too.
const (
	Conservative Strategy = "conservative"
	Smart        Strategy = "smart"
	Aggressive   Strategy = "aggressive"
)

// Bump is how far an update moves: by the first release number that
// changes (0.x versions included: 0.3 → 0.4 is a minor bump).
type Bump int

// Bump sizes, ordered.
const (
	NoBump Bump = iota
	Patch
	Minor
	Major
)

func (b Bump) String() string {
	return [...]string{"none", "patch", "minor", "major"}[b]
}

// Allows reports whether the strategy opens an update of size b; an unknown
// strategy is treated as Smart.
func (s Strategy) Allows(b Bump) bool {
	switch s {
	case Conservative:
		return b <= Patch
	case Aggressive:
		return true
	}
	return b <= Minor
}

// BumpOf classifies the update from → to in an ecosystem.
func BumpOf(ecosystem, from, to string) (Bump, error) {
	sc, err := schemeFor(ecosystem)
	if err != nil {
		return NoBump, err
	}
	return bumpOf(sc, from, to)
}

func bumpOf(sc scheme, from, to string) (Bump, error) {
	c, err := sc.compare(from, to)
	if err != nil || c == 0 {
		return NoBump, err
	}
	fa, fi, err := sc.lines(from)
	if err != nil {
		return NoBump, err
	}
	ta, ti, err := sc.lines(to)
	if err != nil {
		return NoBump, err
	}
	switch {
	case fa != ta:
		return Major, nil
	case fi != ti:
		return Minor, nil
	}
	return Patch, nil
}

// Candidate is a release an update may move to and the size of the move.
type Candidate struct {
	Release
	Bump Bump
}

// Select returns the highest usable release above current that the
// strategy allows (ok false when there is none). Releases that do not
// parse in the ecosystem's scheme are ignored; an unparsable current
// version is an error.
func Select(ecosystem, current string, releases []Release, s Strategy) (Candidate, bool, error) {
	sc, err := schemeFor(ecosystem)
	if err != nil {
		return Candidate{}, false, err
	}
	if _, err := sc.compare(current, current); err != nil {
		return Candidate{}, false, err
	}
	var best Candidate
	found := false
	for _, r := range releases {
		b, err := bumpOf(sc, current, r.Version)
		if err != nil || b == NoBump || !usable(sc, r) || !s.Allows(b) {
			continue
		}
		if c, _ := sc.compare(current, r.Version); c >= 0 {
			continue
		}
		if found {
			if c, _ := sc.compare(best.Version, r.Version); c >= 0 {
				continue
			}
		}
		best, found = Candidate{Release: r, Bump: b}, true
	}
	return best, found, nil
}

// usable is Release.Usable, with the version's own pre-release form
// checked too (a caller-built Release need not set the flag).
func usable(sc scheme, r Release) bool {
	return r.Usable() && !sc.prerelease(r.Version)
}

// Fix is the smallest update that fixes a set of advisories.
type Fix struct {
	Candidate
	// MajorNeeded is set when no usable release within the strategy fixes
	// every advisory; Candidate is then the smallest fixing release of any
	// size (Bump says how big).
	MajorNeeded bool
	// Unfixable lists advisories with no fixed version above current; they
	// do not constrain the choice.
	Unfixable []string
}

// SmallestFix returns the smallest usable release above current that
// fixes every advisory, preferring one the strategy allows (ok false when
// no release fixes them all, or none has a fixed version).
//
// A release v fixes an advisory when v ≥ the smallest of its fixed
// versions above current, and no larger fixed version of the advisory sits
// in v's own major.minor line above v (v would then be in a later affected
// range, as with fixes 1.2.5 and 1.3.2: 1.3.0 is not fixed, 1.2.7 is). OSV
// introduced events are not consulted; this errs towards larger versions.
func SmallestFix(ecosystem, current string, releases []Release, advisories []osv.Advisory, s Strategy) (Fix, bool, error) {
	sc, err := schemeFor(ecosystem)
	if err != nil {
		return Fix{}, false, err
	}
	if _, err := sc.compare(current, current); err != nil {
		return Fix{}, false, err
	}
	var fix Fix
	var needs []need
	for _, a := range advisories {
		n, ok := neededFix(sc, current, a)
		if !ok {
			fix.Unfixable = append(fix.Unfixable, a.ID)
			continue
		}
		needs = append(needs, n)
	}
	if len(needs) == 0 {
		return fix, false, nil
	}
	sorted, err := sortReleases(sc, releases)
	if err != nil {
		return fix, false, err
	}
	var overall *Candidate
	for _, r := range sorted {
		if c, _ := sc.compare(current, r.Version); c >= 0 || !usable(sc, r) || !fixesAll(sc, r.Version, needs) {
			continue
		}
		b, _ := bumpOf(sc, current, r.Version)
		if s.Allows(b) {
			fix.Candidate = Candidate{Release: r, Bump: b}
			return fix, true, nil
		}
		if overall == nil {
			overall = &Candidate{Release: r, Bump: b}
		}
	}
	if overall == nil {
		return fix, false, nil
	}
	fix.Candidate, fix.MajorNeeded = *overall, true
	return fix, true, nil
}

// need is one advisory's smallest fixed version above current and all its
// fixed versions.
type need struct {
	min   string
	fixed []string
}

func neededFix(sc scheme, current string, a osv.Advisory) (need, bool) {
	n := need{}
	for _, f := range a.Fixed {
		c, err := sc.compare(current, f)
		if err != nil {
			continue
		}
		n.fixed = append(n.fixed, f)
		if c < 0 {
			if n.min == "" {
				n.min = f
			} else if m, _ := sc.compare(f, n.min); m < 0 {
				n.min = f
			}
		}
	}
	return n, n.min != ""
}

func fixesAll(sc scheme, v string, needs []need) bool {
	va, vi, err := sc.lines(v)
	if err != nil {
		return false
	}
	for _, n := range needs {
		if c, _ := sc.compare(v, n.min); c < 0 {
			return false
		}
		for _, f := range n.fixed {
			fa, fi, _ := sc.lines(f)
			if c, _ := sc.compare(f, v); c > 0 && fa == va && fi == vi {
				return false
			}
		}
	}
	return true
}

// sortReleases returns the parsable releases in ascending order.
func sortReleases(sc scheme, rs []Release) ([]Release, error) {
	out := make([]Release, 0, len(rs))
	for _, r := range rs {
		if _, err := sc.compare(r.Version, r.Version); err == nil {
			out = append(out, r)
		}
	}
	var sortErr error
	slices.SortStableFunc(out, func(a, b Release) int {
		c, err := sc.compare(a.Version, b.Version)
		if err != nil && sortErr == nil {
			sortErr = fmt.Errorf("failed to sort releases: %w", err)
		}
		return c
	})
	return out, sortErr
}
