package registry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func goRoutes() map[string]fakeResponse {
	return map[string]fakeResponse{
		"/github.com/!acme/lib/@v/list": ok("v1.0.0\nv1.0.1\nv1.0.2\nv1.1.0\nv1.2.0-rc.1\nv1.1.1\n"),
		"/github.com/!acme/lib/@v/v1.1.1.mod": ok("module github.com/Acme/lib\n\ngo 1.21\n\n" +
			"retract v1.0.2 // broken build\nretract [v1.1.0, v1.1.0]\n"),
		"/github.com/!acme/lib/@v/v1.1.1.info": ok(`{"Version":"v1.1.1","Time":"2024-05-01T10:00:00Z"}`),
		"/github.com/!acme/lib/@latest":        ok(`{"Version":"v1.1.1","Time":"2024-05-01T10:00:00Z"}`),
		"/example.com/busy/@v/list": {status: http.StatusTooManyRequests, body: "slow down",
			header: map[string]string{"Retry-After": "7"}},
		"/example.com/notags/@v/list":                                   ok(""),
		"/example.com/notags/@latest":                                   ok(`{"Version":"v0.0.0-20240101000000-abcdefabcdef"}`),
		"/example.com/notags/@v/v0.0.0-20240101000000-abcdefabcdef.mod": ok("module example.com/notags\n"),
	}
}

func TestGoProxyReleasesSkipRetractedAndPrereleases(t *testing.T) {
	t.Parallel()
	fake, srv := newFake(t, goRoutes())
	p := NewGoProxy(srv.URL+"/", srv.Client(), time.Minute)
	ctx := context.Background()

	rs, err := p.Releases(ctx, "github.com/Acme/lib")
	require.NoError(t, err)
	got := map[string]Release{}
	var order []string
	for _, r := range rs {
		got[r.Version] = r
		order = append(order, r.Version)
	}
	require.Equal(t, []string{"v1.0.0", "v1.0.1", "v1.0.2", "v1.1.0", "v1.1.1", "v1.2.0-rc.1"}, order)
	require.True(t, got["v1.0.2"].Retracted)
	require.True(t, got["v1.1.0"].Retracted)
	require.False(t, got["v1.1.1"].Retracted)
	require.True(t, got["v1.2.0-rc.1"].Prerelease)
	// Retractions come from the latest release's go.mod, escaped path.
	require.Equal(t, []string{"/github.com/!acme/lib/@v/list", "/github.com/!acme/lib/@v/v1.1.1.mod"}, fake.seen())

	c, found, err := Select("Go", "v1.0.0", rs, Conservative)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "v1.0.1", c.Version) // v1.0.2 is retracted
	c, found, err = Select("Go", "v1.0.0", rs, Smart)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "v1.1.1", c.Version) // not the rc, not retracted v1.1.0
	require.Equal(t, Minor, c.Bump)

	// Cached: a second call sends nothing.
	_, err = p.Releases(ctx, "github.com/Acme/lib")
	require.NoError(t, err)
	require.Len(t, fake.seen(), 2)

	in, err := p.Info(ctx, "github.com/Acme/lib", "v1.1.1")
	require.NoError(t, err)
	require.Equal(t, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), in.Time)
	in, err = p.Latest(ctx, "github.com/Acme/lib")
	require.NoError(t, err)
	require.Equal(t, "v1.1.1", in.Version)
}

func TestGoProxyNoTagsUsesLatestPseudoVersion(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, goRoutes())
	rs, err := NewGoProxy(srv.URL, srv.Client(), 0).Releases(context.Background(), "example.com/notags")
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.True(t, rs[0].Prerelease)
	_, found, err := Select("Go", "v0.0.0-20230101000000-abcdefabcdef", rs, Aggressive)
	require.NoError(t, err)
	require.False(t, found)
}

func TestGoProxyErrors(t *testing.T) {
	t.Parallel()
	fake, srv := newFake(t, goRoutes())
	p := NewGoProxy(srv.URL, srv.Client(), 0)
	ctx := context.Background()

	_, err := p.Releases(ctx, "example.com/busy")
	var he *HTTPError
	require.True(t, errors.As(err, &he))
	require.Equal(t, http.StatusTooManyRequests, he.StatusCode)
	require.Equal(t, 7*time.Second, he.RetryAfter)
	require.True(t, he.Retryable())
	// Errors are not cached.
	_, err = p.Releases(ctx, "example.com/busy")
	require.Error(t, err)
	require.Len(t, fake.seen(), 2)

	_, err = p.Mod(ctx, "example.com/unknown", "v1.0.0")
	require.True(t, errors.As(err, &he))
	require.True(t, he.NotFound())
	require.False(t, he.Retryable())

	before := len(fake.seen())
	_, err = p.List(ctx, "Bad Path!")
	require.Error(t, err)
	require.False(t, errors.As(err, &he))
	require.Len(t, fake.seen(), before)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = p.Zip(cctx, "github.com/Acme/lib", "v1.1.1")
	require.ErrorIs(t, err, context.Canceled)
}

func TestFetcherCacheExpires(t *testing.T) {
	t.Parallel()
	fake, srv := newFake(t, goRoutes())
	p := NewGoProxy(srv.URL, srv.Client(), time.Minute)
	now := time.Now()
	p.f.now = func() time.Time { return now }
	ctx := context.Background()
	_, err := p.List(ctx, "github.com/Acme/lib")
	require.NoError(t, err)
	_, err = p.List(ctx, "github.com/Acme/lib")
	require.NoError(t, err)
	require.Len(t, fake.seen(), 1)
	now = now.Add(2 * time.Minute)
	_, err = p.List(ctx, "github.com/Acme/lib")
	require.NoError(t, err)
	require.Len(t, fake.seen(), 2)
}
