package lrucache_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gregjones/httpcache"
	"github.com/rcrowley/go-metrics"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/lrucache"
)

func TestSetGetDelete(t *testing.T) {
	t.Parallel()
	c := lrucache.New(100)
	_, ok := c.Get("a")
	require.False(t, ok)
	c.Set("a", []byte("12345"))
	v, ok := c.Get("a")
	require.True(t, ok)
	require.Equal(t, "12345", string(v))
	c.Set("a", []byte("1234567890")) // replacing re-counts the value
	require.Equal(t, lrucache.Stats{Hits: 1, Misses: 1, Bytes: 11, Entries: 1, Limit: 100}, c.Stats())
	c.Delete("a")
	c.Delete("never set")
	_, ok = c.Get("a")
	require.False(t, ok)
	require.Equal(t, lrucache.Stats{Hits: 1, Misses: 2, Limit: 100}, c.Stats())
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := lrucache.New(30) // three entries of 1+9 bytes
	for _, k := range []string{"a", "b", "c"} {
		c.Set(k, []byte("123456789"))
	}
	_, ok := c.Get("a") // a is now the most recently used; b the least
	require.True(t, ok)
	c.Set("d", []byte("123456789"))
	_, ok = c.Get("b")
	require.False(t, ok, "the least recently used entry is evicted")
	for _, k := range []string{"a", "c", "d"} {
		_, ok := c.Get(k)
		require.True(t, ok, k)
	}
	s := c.Stats()
	require.Equal(t, int64(1), s.Evictions)
	require.Equal(t, int64(30), s.Bytes)

	// Growing a value in place evicts others, never the entry just written.
	c.Set("c", make([]byte, 25))
	_, ok = c.Get("c")
	require.True(t, ok)
	require.LessOrEqual(t, c.Stats().Bytes, int64(30))
	require.Equal(t, int64(1), c.Stats().Entries)
}

func TestOversizedValueIsNotStored(t *testing.T) {
	t.Parallel()
	c := lrucache.New(10)
	c.Set("k", []byte("small"))
	c.Set("other", []byte("x"))
	c.Set("k", make([]byte, 10)) // 1+10 > 10
	_, ok := c.Get("k")
	require.False(t, ok, "neither the oversized value nor the stale one is served")
	_, ok = c.Get("other")
	require.True(t, ok, "an oversized value evicts nothing")
	require.Equal(t, int64(6), c.Stats().Bytes)

	zero := lrucache.New(0)
	zero.Set("", nil) // even an empty entry fits a zero limit
	zero.Set("k", []byte("v"))
	_, ok = zero.Get("k")
	require.False(t, ok)
}

func TestViewsShareTheBudgetNotTheEntries(t *testing.T) {
	t.Parallel()
	c := lrucache.New(1000)
	a, b := c.View(), c.View()
	a.Set("https://api.github.com/installation/repositories", []byte("installation A"))
	_, ok := b.Get("https://api.github.com/installation/repositories")
	require.False(t, ok, "one client's response is never offered to another")
	v, ok := a.Get("https://api.github.com/installation/repositories")
	require.True(t, ok)
	require.Equal(t, "installation A", string(v))
	for i := range 100 {
		b.Set(fmt.Sprint("key-", i), make([]byte, 50))
	}
	require.LessOrEqual(t, c.Stats().Bytes, int64(1000), "all views together stay within the limit")
	_, ok = a.Get("https://api.github.com/installation/repositories")
	require.False(t, ok, "the other view's traffic evicted the old entry")
	a.Set("x", []byte("y"))
	a.Delete("x")
	_, ok = a.Get("x")
	require.False(t, ok)
}

func TestConcurrentUseStaysWithinLimit(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	c := lrucache.New(limit)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := c.View()
			for i := range 5000 {
				key := fmt.Sprint(g, "-", i%300)
				switch i % 5 {
				case 0:
					v.Delete(key)
				case 1, 2:
					v.Get(key)
				default:
					v.Set(key, make([]byte, 100+i%900))
				}
			}
		}()
	}
	wg.Wait()
	s := c.Stats()
	require.LessOrEqual(t, s.Bytes, int64(limit))
	require.Positive(t, s.Evictions)
	require.Equal(t, int64(8*5000*2/5), s.Hits+s.Misses)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	c := lrucache.New(20)
	registry := metrics.NewRegistry()
	c.RegisterMetrics(registry, "github.http_cache")
	c.Set("a", make([]byte, 9))
	c.Set("b", make([]byte, 9))
	c.Set("c", make([]byte, 9))
	c.Get("c")
	c.Get("a")
	gauge := func(name string) int64 {
		return registry.Get("github.http_cache." + name).(metrics.Gauge).Snapshot().Value()
	}
	require.Equal(t, int64(1), gauge("hits"))
	require.Equal(t, int64(1), gauge("misses"))
	require.Equal(t, int64(1), gauge("evictions"))
	require.Equal(t, int64(20), gauge("bytes"))
	require.Equal(t, int64(2), gauge("entries"))
}

// TestWithHTTPCache runs the cache under httpcache.Transport as go-githubapp does: a response
// with an ETag is revalidated and served from the cache on 304.
func TestWithHTTPCache(t *testing.T) {
	t.Parallel()
	var full, notModified atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Cache-Control", "private, max-age=0")
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		_, _ = io.WriteString(w, `{"id":1,"`+strings.Repeat("x", 1000)+`":true}`)
	}))
	defer srv.Close()
	c := lrucache.New(1 << 20)
	client := &http.Client{Transport: &httpcache.Transport{Transport: http.DefaultTransport, Cache: c.View(), MarkCachedResponses: true}}
	for i := range 3 {
		resp, err := client.Get(srv.URL + "/repos/o/r")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, string(body), `"id":1`)
		require.Equal(t, i > 0, resp.Header.Get(httpcache.XFromCache) == "1", "request %d", i)
	}
	require.Equal(t, int64(1), full.Load())
	require.Equal(t, int64(2), notModified.Load())
	require.Equal(t, int64(1), c.Stats().Entries)
}
