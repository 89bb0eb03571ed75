package registry

import (
	"testing"

	"github.com/contexten/autonomous/integrations/osv"
	"github.com/stretchr/testify/require"
)

func TestBumpOfAndStrategyTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		eco, from, to string
		bump          Bump
		cons, smart   bool
	}{
		{"Go", "v1.2.3", "v1.2.4", Patch, true, true},
		{"Go", "v1.2.3", "v1.3.0", Minor, false, true},
		{"Go", "v1.2.3", "v2.0.0+incompatible", Major, false, false},
		{"Go", "v0.3.1", "v0.4.0", Minor, false, true},
		{"npm", "1.2.3", "1.2.10", Patch, true, true},
		{"npm", "1.2.3", "1.10.0", Minor, false, true},
		{"npm", "1.2.3", "3.0.0", Major, false, false},
		{"PyPI", "1.2", "1.2.1", Patch, true, true},
		{"PyPI", "1.2.post1", "1.3", Minor, false, true},
		{"PyPI", "2.9", "1!1.0", Major, false, false},
		{"GitHub Actions", "v4", "v4.1.0", Minor, false, true},
		{"GitHub Actions", "3.1.0", "v4.0.0", Major, false, false},
		{"Go", "v1.2.3", "v1.2.3", NoBump, true, true},
	} {
		b, err := BumpOf(tc.eco, tc.from, tc.to)
		require.NoError(t, err)
		require.Equal(t, tc.bump, b, "%s %s→%s", tc.eco, tc.from, tc.to)
		require.Equal(t, tc.cons, Conservative.Allows(b))
		require.Equal(t, tc.smart, Smart.Allows(b))
		require.True(t, Aggressive.Allows(b))
	}
	_, err := BumpOf("Go", "1.2.3", "v1.2.4") // Go versions need the v
	require.Error(t, err)
	_, err = BumpOf("cargo", "1", "2")
	require.Error(t, err)
	_, _, err = Select("npm", "not-a-version", nil, Smart)
	require.Error(t, err)
}

func releases(vs ...string) []Release {
	out := make([]Release, len(vs))
	for i, v := range vs {
		out[i] = Release{Version: v}
	}
	return out
}

func TestSmallestFix(t *testing.T) {
	t.Parallel()
	rs := releases("v1.2.3", "v1.2.4", "v1.2.5", "v1.2.7", "v1.3.0", "v1.3.1", "v1.3.2", "v1.4.0", "v2.0.0", "v2.0.1")
	rs[2].Retracted = true // v1.2.5
	adv := func(id string, fixed ...string) osv.Advisory { return osv.Advisory{ID: id, Fixed: fixed} }

	for _, tc := range []struct {
		name    string
		current string
		advs    []osv.Advisory
		s       Strategy
		want    string
		major   bool
		found   bool
		unfix   []string
	}{
		{"patch fix, retracted skipped", "v1.2.3", []osv.Advisory{adv("A", "v1.2.5")}, Conservative, "v1.2.7", false, true, nil},
		{"every advisory", "v1.2.3", []osv.Advisory{adv("A", "v1.2.4"), adv("B", "v1.3.1")}, Smart, "v1.3.1", false, true, nil},
		{"beyond conservative", "v1.2.3", []osv.Advisory{adv("B", "v1.3.1")}, Conservative, "v1.3.1", true, true, nil},
		{"backport line", "v1.2.3", []osv.Advisory{adv("A", "v1.2.4", "v1.3.2"), adv("B", "v1.3.0")}, Smart, "v1.3.2", false, true, nil},
		{"backport satisfied in own line", "v1.2.3", []osv.Advisory{adv("A", "v1.2.4", "v1.3.2")}, Smart, "v1.2.4", false, true, nil},
		{"major needed", "v1.4.0", []osv.Advisory{adv("C", "v2.0.1")}, Smart, "v2.0.1", true, true, nil},
		{"no fix at all", "v1.2.3", []osv.Advisory{adv("D")}, Aggressive, "", false, false, []string{"D"}},
		{"fix not published", "v1.2.3", []osv.Advisory{adv("E", "v3.0.0")}, Aggressive, "", false, false, nil},
		{"unfixable alongside fixable", "v1.2.3", []osv.Advisory{adv("D"), adv("A", "v1.2.4")}, Smart, "v1.2.4", false, true, []string{"D"}},
	} {
		fix, found, err := SmallestFix("Go", tc.current, rs, tc.advs, tc.s)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.found, found, tc.name)
		require.Equal(t, tc.want, fix.Version, tc.name)
		require.Equal(t, tc.major, fix.MajorNeeded, tc.name)
		require.Equal(t, tc.unfix, fix.Unfixable, tc.name)
	}

	npm := releases("4.17.20", "4.17.21", "5.0.0-beta.1", "5.0.0")
	npm[1].Deprecated = true
	fix, found, err := SmallestFix("npm", "4.17.19", npm, []osv.Advisory{{ID: "GHSA-x", Fixed: []string{"4.17.21"}}}, Smart)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "5.0.0", fix.Version) // the fix is deprecated, the beta a pre-release
	require.True(t, fix.MajorNeeded)
	require.Equal(t, Major, fix.Bump)
}
