package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcrowley/go-metrics"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/ghapp/lrucache"
	"github.com/contexten/autonomous/workflows/workflowstest"
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
// never holds more than GITHUB_HTTP_CACHE_BYTES (httpcache.NewMemoryCache grew without bound),
// in files of GITHUB_HTTP_CACHE_DIR that closing the cache removes.
func TestClientCreatorHTTPCacheIsBounded(t *testing.T) {
	t.Parallel()
	fake := cachingGitHub(t)
	cfg := testConfig(t, fake.URL(), "")
	cfg.GitHubHTTPCacheBytes = 64 << 10
	cfg.GitHubHTTPCacheDir = filepath.Join(t.TempDir(), "http-cache")
	registry := metrics.NewRegistry()
	creator, closeCache, err := ghapp.NewClientCreator(cfg, version, registry)
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
	entries, err := os.ReadDir(cfg.GitHubHTTPCacheDir)
	require.NoError(t, err)
	// The responses are appended to a data file; a second one exists while the first is compacted.
	require.NotEmpty(t, entries)
	require.LessOrEqual(t, len(entries), 2, "a data file, not a file per response")
	var onDisk int64
	for _, e := range entries {
		require.True(t, strings.HasPrefix(e.Name(), "values-"), e.Name())
		info, err := e.Info()
		require.NoError(t, err)
		onDisk += info.Size()
	}
	require.Greater(t, onDisk, int64(2048))

	require.NoError(t, closeCache())
	entries, err = os.ReadDir(cfg.GitHubHTTPCacheDir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

// TestClientCreatorHTTPCacheDir: without GITHUB_HTTP_CACHE_DIR the cache is a new directory
// under the OS temp dir, which closing it removes; a directory that cannot be created fails the
// creator, naming the setting.
func TestClientCreatorHTTPCacheDir(t *testing.T) {
	fake := cachingGitHub(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cfg := testConfig(t, fake.URL(), "")
	cfg.GitHubHTTPCacheDir = ""
	_, closeCache, err := ghapp.NewClientCreator(cfg, version, nil)
	require.NoError(t, err)
	dirs, err := filepath.Glob(filepath.Join(tmp, lrucache.TempPattern))
	require.NoError(t, err)
	require.Len(t, dirs, 1)
	require.NoError(t, closeCache())
	require.NoDirExists(t, dirs[0])

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	cfg.GitHubHTTPCacheDir = filepath.Join(file, "cache")
	_, _, err = ghapp.NewClientCreator(cfg, version, nil)
	require.ErrorContains(t, err, `GITHUB_HTTP_CACHE_DIR "`+cfg.GitHubHTTPCacheDir+`": failed to create the HTTP cache directory`)
}

// TestClientCreatorHTTPCacheDisabled: GITHUB_HTTP_CACHE_BYTES=0 builds clients without a cache.
func TestClientCreatorHTTPCacheDisabled(t *testing.T) {
	t.Parallel()
	fake := cachingGitHub(t)
	cfg := testConfig(t, fake.URL(), "")
	cfg.GitHubHTTPCacheBytes = 0
	cfg.GitHubHTTPCacheDir = filepath.Join(t.TempDir(), "http-cache")
	registry := metrics.NewRegistry()
	creator, closeCache, err := ghapp.NewClientCreator(cfg, version, registry)
	require.NoError(t, err)
	defer func() { require.NoError(t, closeCache()) }()
	require.NoDirExists(t, cfg.GitHubHTTPCacheDir, "no cache, no directory")
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

// TestServerRemovesItsHTTPCache: the server's default cache directory, under the OS temp dir,
// is gone once it has stopped, or failed to start.
func TestServerRemovesItsHTTPCache(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.GitHubHTTPCacheDir = ""
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cacheDir := func() string {
		dirs, err := filepath.Glob(filepath.Join(tmp, lrucache.TempPattern))
		require.NoError(t, err)
		require.Len(t, dirs, 1)
		return dirs[0]
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	app, err := buildApp(ctx, cfg, appOptions{Addr: taken.Addr().String()})
	require.NoError(t, err)
	dir := cacheDir()
	require.ErrorContains(t, app.Run(ctx), "failed to listen")
	require.NoDirExists(t, dir)
	require.NoError(t, app.inboxStore.Close())
	require.NoError(t, app.store.Close())

	app, err = buildApp(ctx, cfg, appOptions{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	dir = cacheDir()
	require.NoError(t, app.Listen())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	require.Eventually(t, app.engine.Running, 10*time.Second, 5*time.Millisecond)
	require.DirExists(t, dir)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	require.NoDirExists(t, dir)
}
