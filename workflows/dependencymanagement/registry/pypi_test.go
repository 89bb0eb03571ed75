package registry

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

const pypiDoc = `{
 "info": {"name": "Foo_Bar", "version": "1.1"},
 "releases": {
  "1.0": [{"filename": "foo-1.0.tar.gz", "yanked": false, "upload_time_iso_8601": "2023-01-01T00:00:00.000000Z"}],
  "1.0.1": [{"filename": "a.whl", "yanked": true}, {"filename": "a.tar.gz", "yanked": true}],
  "1.0.2": [{"filename": "b.whl", "yanked": true}, {"filename": "b.tar.gz", "yanked": false}],
  "1.0.3": [],
  "1.1rc1": [{"filename": "c.tar.gz"}],
  "1.1": [{"filename": "d.tar.gz"}],
  "1.2.dev3": [{"filename": "e.tar.gz"}],
  "2.0": [{"filename": "f.tar.gz"}],
  "not a version": [{"filename": "g.tar.gz"}]
 }
}`

func TestPyPIReleasesSkipYankedAndPrereleases(t *testing.T) {
	t.Parallel()
	fake, srv := newFake(t, map[string]fakeResponse{"/pypi/foo-bar/json": ok(pypiDoc)})
	c := NewPyPI(srv.URL, srv.Client(), 0)
	rs, err := c.Releases(context.Background(), "Foo_Bar")
	require.NoError(t, err)
	require.Equal(t, []string{"/pypi/foo-bar/json"}, fake.seen()) // PEP 503 name
	var names []string
	flags := map[string]Release{}
	for _, r := range rs {
		names = append(names, r.Version)
		flags[r.Version] = r
	}
	require.Equal(t, []string{"1.0", "1.0.1", "1.0.2", "1.1rc1", "1.1", "1.2.dev3", "2.0"}, names)
	require.True(t, flags["1.0.1"].Yanked)
	require.False(t, flags["1.0.2"].Yanked) // one file still available
	require.True(t, flags["1.1rc1"].Prerelease)
	require.True(t, flags["1.2.dev3"].Prerelease)
	require.False(t, flags["1.0"].Published.IsZero())

	for _, tc := range []struct {
		s    Strategy
		from string
		want string
	}{
		{Conservative, "1.0", "1.0.2"},
		{Conservative, "1.0.2", ""},
		{Smart, "1.0", "1.1"},
		{Aggressive, "1.0", "2.0"},
	} {
		c, found, err := Select("PyPI", tc.from, rs, tc.s)
		require.NoError(t, err)
		require.Equal(t, tc.want != "", found)
		require.Equal(t, tc.want, c.Version, "%s from %s", tc.s, tc.from)
	}
}

func TestPyPIErrors(t *testing.T) {
	t.Parallel()
	fake, srv := newFake(t, map[string]fakeResponse{
		"/pypi/busy/json": {status: http.StatusServiceUnavailable, header: map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}},
	})
	c := NewPyPI(srv.URL, srv.Client(), 0)
	_, err := c.Project(context.Background(), "missing")
	var he *HTTPError
	require.True(t, errors.As(err, &he))
	require.True(t, he.NotFound())
	_, err = c.Project(context.Background(), "busy")
	require.True(t, errors.As(err, &he))
	require.True(t, he.Retryable())
	require.Zero(t, he.RetryAfter) // a date in the past
	_, err = c.Project(context.Background(), "../../admin")
	require.Error(t, err)
	require.Len(t, fake.seen(), 2)
}

func TestSatisfiesPEP440(t *testing.T) {
	t.Parallel()
	got, err := SatisfiesPEP440(">=1.2,<2", "1.10")
	require.NoError(t, err)
	require.True(t, got)
	got, err = SatisfiesPEP440("~=1.4.2", "1.5.0")
	require.NoError(t, err)
	require.False(t, got)
	_, err = SatisfiesPEP440("=>>1", "1.0")
	require.Error(t, err)
}
