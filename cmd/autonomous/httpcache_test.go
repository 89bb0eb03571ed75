package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rcrowley/go-metrics"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp"
)

// cachingGitHub answers installation tokens, and any GET with a 2 KB body, an ETag and
// max-age=60 (as GitHub does), or 304 to a conditional request.
func cachingGitHub(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/app/installations/") {
		id := strings.Split(r.URL.Path, "/")[3]
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":"token-%s","expires_at":%q}`, id, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		return
	}
	w.Header().Set("ETag", `"`+r.URL.Path+`"`)
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("If-None-Match") != "" {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	fmt.Fprintf(w, `{"id":1,"name":"app","description":%q}`, strings.Repeat("x", 2048))
}

// TestClientCreatorHTTPCacheIsBounded drives the configured client creator through many
// distinct GETs of two installations: the cache serves repeats, never across installations, and
// never holds more than GITHUB_HTTP_CACHE_BYTES (httpcache.NewMemoryCache grew without bound).
func TestClientCreatorHTTPCacheIsBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(cachingGitHub))
	t.Cleanup(srv.Close)
	cfg := testConfig(t, srv.URL, "")
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
	// Another installation asking the same URL gets its own response, not A's.
	_, _, err = b.Repositories.Get(ctx, "octo", "app")
	require.NoError(t, err)
	require.Equal(t, int64(1), gauge("hits"))

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
	srv := httptest.NewServer(http.HandlerFunc(cachingGitHub))
	t.Cleanup(srv.Close)
	cfg := testConfig(t, srv.URL, "")
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
	require.Nil(t, registry.Get("github.http_cache.bytes"))
}
