package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

const scopedDoc = `{
 "name": "@scope/pkg",
 "dist-tags": {"latest": "1.2.0", "next": "2.1.0-beta.1"},
 "versions": {
  "1.0.0": {"version": "1.0.0", "dist": {"tarball": "https://r.example/@scope/pkg/-/pkg-1.0.0.tgz", "integrity": "sha512-AAA="}},
  "1.0.1": {"version": "1.0.1", "deprecated": "use 1.2.0", "dist": {"tarball": "t", "integrity": "sha512-BBB="}},
  "1.1.0-beta.1": {"version": "1.1.0-beta.1", "dist": {"tarball": "t"}},
  "1.2.0": {"version": "1.2.0", "deprecated": "", "dist": {"tarball": "https://r.example/@scope/pkg/-/pkg-1.2.0.tgz", "integrity": "sha512-CCC="},
            "dependencies": {"left-pad": "^1.3.0"}},
  "2.0.0": {"version": "2.0.0", "dist": {"tarball": "t"}},
  "2.1.0-beta.1": {"version": "2.1.0-beta.1", "dist": {"tarball": "t"}},
  "not-semver": {"version": "not-semver"}
 },
 "time": {"1.2.0": "2024-02-03T04:05:06.000Z"}
}`

func TestNPMScopedPackage(t *testing.T) {
	t.Parallel()
	fake, srv := newFake(t, map[string]fakeResponse{"/@scope%2fpkg": ok(scopedDoc)})
	c := NewNPM(srv.URL, srv.Client(), 0)
	ctx := context.Background()

	doc, err := c.Package(ctx, "@scope/pkg")
	require.NoError(t, err)
	require.Equal(t, "1.2.0", doc.Latest())
	v := doc.Versions["1.2.0"]
	require.Equal(t, "https://r.example/@scope/pkg/-/pkg-1.2.0.tgz", v.Dist.Tarball)
	require.Equal(t, "sha512-CCC=", v.Dist.Integrity)
	require.Equal(t, map[string]string{"left-pad": "^1.3.0"}, v.Dependencies)
	require.False(t, v.Deprecated())
	require.True(t, doc.Versions["1.0.1"].Deprecated())
	require.Contains(t, fake.accepts[0], "application/vnd.npm.install-v1+json")

	rs, err := c.Releases(ctx, "@scope/pkg")
	require.NoError(t, err)
	var names []string
	for _, r := range rs {
		names = append(names, r.Version)
	}
	require.Equal(t, []string{"1.0.0", "1.0.1", "1.1.0-beta.1", "1.2.0", "2.0.0", "2.1.0-beta.1"}, names)
	require.False(t, rs[3].Published.IsZero())
	require.Equal(t, []string{"/@scope%2fpkg"}, fake.seen()) // cached

	for _, tc := range []struct {
		s     Strategy
		want  string
		found bool
	}{
		{Conservative, "", false}, // 1.0.1 is deprecated
		{Smart, "1.2.0", true},    // not the beta
		{Aggressive, "2.0.0", true},
	} {
		c, found, err := Select("npm", "1.0.0", rs, tc.s)
		require.NoError(t, err)
		require.Equal(t, tc.found, found, tc.s)
		require.Equal(t, tc.want, c.Version, tc.s)
	}
}

func TestNPMUnknownAndInvalidNames(t *testing.T) {
	t.Parallel()
	fake, srv := newFake(t, map[string]fakeResponse{})
	c := NewNPM(srv.URL, srv.Client(), 0)
	_, err := c.Package(context.Background(), "no-such-package")
	var he *HTTPError
	require.True(t, errors.As(err, &he))
	require.True(t, he.NotFound())
	require.Equal(t, []string{"/no-such-package"}, fake.seen())

	for _, name := range []string{"", "@scope", "@/x", "@s/a/b", "a/b", "../etc", "a?b", "a%2fb", "a b"} {
		_, err := c.Package(context.Background(), name)
		require.Error(t, err, name)
	}
	require.Len(t, fake.seen(), 1)
}

func TestNPMSatisfies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rng, v string
		want   bool
	}{
		{"^1.2.0", "1.9.3", true},
		{"^1.2.0", "2.0.0", false},
		{"~1.2.0", "1.2.9", true},
		{"~1.2.0", "1.3.0", false},
		{">=1.0.0 <2.0.0", "1.5.0", true},
		{"1.x", "1.4.0", true},
		{"^0.2.3", "0.3.0", false},
		{"1.2.3", "1.2.4", false},
		{"^1.0.0 || ^2.0.0", "2.1.0", true},
	} {
		got, err := Satisfies(tc.rng, tc.v)
		require.NoError(t, err, tc.rng)
		require.Equal(t, tc.want, got, "%s vs %s", tc.rng, tc.v)
	}
	_, err := Satisfies("git+https://x", "1.0.0")
	require.Error(t, err)
}
