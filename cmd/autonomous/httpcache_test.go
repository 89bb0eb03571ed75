package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rcrowley/go-metrics"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/ghapp/ghapptest"
)

// cachingGitHub is the fake GitHub answering installation tokens, and any repository GET with
// a 2 KB body, an ETag and max-age=60 (as GitHub does), or 304 to a conditional request.
func cachingGitHub(t *testing.T) *ghapptest.Server {
	fake := ghapptest.New(t)
	fake.HandleFunc("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, http.StatusCreated, map[string]any{"token": "token-" + r.PathValue("id"), "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	})
	fake.HandleFunc("GET /repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if ghapptest.Cacheable(w, r, r.URL.Path, time.Minute) {
			return
		}
		fmt.Fprintf(w, `{"id":1,"name":"app","description":%q}`, strings.Repeat("x", 2048))
	})
	return fake
}

// TestClientCreatorHTTPCacheIsBounded drives the configured client creator through many
// distinct GETs of two installations: the cache serves repeats, never across installations, and
// never holds more than GITHUB_HTTP_CACHE_BYTES (httpcache.NewMemoryCache grew without bound).
func TestClientCreatorHTTPCacheIsBounded(t *testing.T) {
	t.Parallel()
	fake := cachingGitHub(t)
	cfg := testConfig(t, fake.URL(), "")
	cfg.GitHubHTTPCacheBytes = 64 << 10
	registry := metrics.NewRegistry()
	creator, err := ghapp.NewClientCreator(cfg, version, registry)
	require.NoError(t, err)
	gauge := func(name string) int64 {
		g, ok := registry.Get("github.http_cache." + name).(metrics.Gauge)
		require.True(t, ok, name)
		return g.Snapshot().Value()
	}
	ctx := context.Background()
	a, err := creator.NewInstallationClient(1)
	require.NoError(t, err)
	b, err := creator.NewInstallationClient(2)
	require.NoError(t, err)

	// The same GET twice: the second is served from the cache (max-age=60), no request.
	for range 2 {
		_, _, err := a.Repositories.Get(ctx, "octo", "app")
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), gauge("hits"))
	require.Len(t, fake.Calls("GET /repos/octo/app"), 1)
	// Another installation asking the same URL gets its own response, not A's.
	_, _, err = b.Repositories.Get(ctx, "octo", "app")
	require.NoError(t, err)
	require.Equal(t, int64(1), gauge("hits"))
	require.Len(t, fake.Calls("GET /repos/octo/app"), 2)

	// 500 distinct GETs of ~2.5 KB responses (1.2 MB in all) stay within 64 KiB.
	for i := range 500 {
		_, _, err := a.Repositories.Get(ctx, "octo", fmt.Sprint("repo-", i))
		require.NoError(t, err)
	}
	require.LessOrEqual(t, gauge("bytes"), int64(64<<10))
	require.Positive(t, gauge("evictions"))
	require.Positive(t, gauge("entries"))
}

// TestClientCreatorHTTPCacheDisabled: GITHUB_HTTP_CACHE_BYTES=0 builds clients without a cache.
func TestClientCreatorHTTPCacheDisabled(t *testing.T) {
	t.Parallel()
	fake := cachingGitHub(t)
	cfg := testConfig(t, fake.URL(), "")
	cfg.GitHubHTTPCacheBytes = 0
	registry := metrics.NewRegistry()
	creator, err := ghapp.NewClientCreator(cfg, version, registry)
	require.NoError(t, err)
	client, err := creator.NewInstallationClient(1)
	require.NoError(t, err)
	for range 2 {
		_, resp, err := client.Repositories.Get(context.Background(), "octo", "app")
		require.NoError(t, err)
		require.Empty(t, resp.Header.Get("X-From-Cache"))
	}
	require.Len(t, fake.Calls("GET /repos/octo/app"), 2)
	require.Nil(t, registry.Get("github.http_cache.bytes"))
}
