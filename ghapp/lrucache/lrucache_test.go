package lrucache_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gregjones/httpcache"
	"github.com/rcrowley/go-metrics"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/lrucache"
)

// newCache is a cache of limit bytes whose data files are in a directory of the test.
func newCache(t *testing.T, limit int64) (*lrucache.Cache, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := lrucache.New(dir, limit)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c, dir
}

// files maps the name of every file of dir to its size.
func files(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := make(map[string]int64, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		out[e.Name()] = info.Size()
	}
	return out
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for name := range files(t, dir) {
		out = append(out, name)
	}
	return out
}

// dataFile is the name and size of dir's one file, which must be a data file.
func dataFile(t *testing.T, dir string) (string, int64) {
	t.Helper()
	sizes := files(t, dir)
	require.Len(t, sizes, 1, "one data file")
	for name, size := range sizes {
		require.True(t, lrucache.IsDataFile(name), name)
		return name, size
	}
	panic("unreachable")
}

// requireBounded checks, once no compaction runs, that dir holds c's one data file and that it
// is within twice the limit (or MinCompactBytes, for a small limit): a file is compacted once it
// is larger than both the limit and MinCompactBytes and more of it is dead than live, and the
// live bytes are at most the limit.
func requireBounded(t *testing.T, c *lrucache.Cache, dir string, msgAndArgs ...any) {
	t.Helper()
	c.WaitCompaction()
	limit := c.Stats().Limit
	_, size := dataFile(t, dir)
	require.LessOrEqual(t, size, max(2*limit, lrucache.MinCompactBytes), msgAndArgs...)
}

func TestSetGetDelete(t *testing.T) {
	t.Parallel()
	c, dir := newCache(t, 100)
	_, ok := c.Get("a")
	require.False(t, ok)
	c.Set("a", []byte("12345"))
	name, size := dataFile(t, dir)
	require.Equal(t, int64(5), size, "the value is appended to the data file")
	v, ok := c.Get("a")
	require.True(t, ok)
	require.Equal(t, "12345", string(v))
	v[0] = 'x' // the caller's copy
	value := []byte("1234567890")
	c.Set("a", value) // replacing re-counts the value
	value[0] = 'x'    // the cache wrote it: the caller may reuse the slice
	v, ok = c.Get("a")
	require.True(t, ok)
	require.Equal(t, "1234567890", string(v))
	require.Equal(t, lrucache.Stats{Hits: 2, Misses: 1, Bytes: 11, Entries: 1, Limit: 100}, c.Stats())
	c.Delete("a")
	c.Delete("never set")
	_, ok = c.Get("a")
	require.False(t, ok)
	again, size := dataFile(t, dir)
	require.Equal(t, name, again, "one data file for every value")
	require.Equal(t, int64(15), size, "replaced and deleted values are dead bytes until a compaction")
	require.Equal(t, lrucache.Stats{Hits: 2, Misses: 2, Limit: 100}, c.Stats())
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, 30) // three entries of 1+9 bytes
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

// TestEvictionKeepsTheDirectoryWithinTheLimit: through thousands of sets of varied sizes the
// entries never count more bytes than the limit, and the directory holds one data file within
// about twice the limit (or a compaction's threshold while the limit is small).
func TestEvictionKeepsTheDirectoryWithinTheLimit(t *testing.T) {
	t.Parallel()
	const limit = 20 << 10
	c, dir := newCache(t, limit)
	for i := range 2000 {
		c.Set(fmt.Sprint("https://api.github.com/repos/o/r/", i%700), make([]byte, 50+(i*37)%3000))
		if i%97 == 0 {
			require.LessOrEqual(t, c.Stats().Bytes, int64(limit), "after set %d", i)
			requireBounded(t, c, dir, "after set %d", i)
		}
	}
	s := c.Stats()
	require.Positive(t, s.Evictions)
	require.LessOrEqual(t, s.Bytes, int64(limit))
	requireBounded(t, c, dir)
}

func TestOversizedValueIsNotStored(t *testing.T) {
	t.Parallel()
	c, dir := newCache(t, 10)
	c.Set("k", []byte("small"))
	c.Set("other", []byte("x"))
	c.Set("k", make([]byte, 10)) // 1+10 > 10
	_, ok := c.Get("k")
	require.False(t, ok, "neither the oversized value nor the stale one is served")
	_, ok = c.Get("other")
	require.True(t, ok, "an oversized value evicts nothing")
	require.Equal(t, int64(6), c.Stats().Bytes)
	_, size := dataFile(t, dir)
	require.Equal(t, int64(5+1), size, "the oversized value is not written")

	zero, _ := newCache(t, 0)
	zero.Set("", nil) // even an empty entry fits a zero limit
	zero.Set("k", []byte("v"))
	_, ok = zero.Get("k")
	require.False(t, ok)
}

// TestTruncatedFileIsAMiss: a value whose bytes were cut from the data file behind the cache's
// back (a short read) is a miss counted as an error, and its entry is dropped from the index and
// the byte count; the others are still served.
func TestTruncatedFileIsAMiss(t *testing.T) {
	t.Parallel()
	c, dir := newCache(t, 100)
	c.Set("b", []byte("678"))
	c.Set("a", []byte("12345"))
	name, _ := dataFile(t, dir)
	require.NoError(t, os.Truncate(filepath.Join(dir, name), 3+2))
	_, ok := c.Get("a")
	require.False(t, ok)
	require.Equal(t, lrucache.Stats{Misses: 1, Errors: 1, Bytes: 4, Entries: 1, Limit: 100}, c.Stats())
	v, ok := c.Get("b")
	require.True(t, ok)
	require.Equal(t, "678", string(v))
	c.Set("a", []byte("again"))
	v, ok = c.Get("a")
	require.True(t, ok)
	require.Equal(t, "again", string(v))
}

// TestUnwritableDirectory: once the directory is gone (here replaced by a file, which even root
// cannot write into), a Set notices its data file removed and cannot create another: it stores
// nothing and is counted, and it drops the key's previous value rather than leaving it to be
// served as the current one.
func TestUnwritableDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := lrucache.New(dir, 100)
	require.NoError(t, err)
	c.CheckLinksAlways() // notice the removed data file at once
	c.Set("a", []byte("old"))
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.WriteFile(dir, []byte("not a directory"), 0o600))

	c.Set("a", []byte("new"))
	c.Set("b", []byte("value"))
	for _, k := range []string{"a", "b"} {
		_, ok := c.Get(k)
		require.False(t, ok, k)
	}
	s := c.Stats()
	require.Equal(t, int64(2), s.Errors)
	require.Zero(t, s.Entries)
	require.Zero(t, s.Bytes)
	content, err := os.ReadFile(dir)
	require.NoError(t, err)
	require.Equal(t, "not a directory", string(content))
	require.Error(t, c.Close(), "the directory cannot be listed")
}

// TestConcurrentUse runs Set, Get and Delete of shared keys from many goroutines (go test
// -race): the cache stays within its limit, every value read is one that was set for its key,
// whole, and once quiet the directory holds exactly the entries' files.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	c, dir := newCache(t, limit)
	// value is key's i-th value: "key i:" then a run of one byte, so a torn or mixed-up file shows.
	value := func(key string, i int) []byte {
		head := fmt.Sprintf("%s %d:", key, i)
		return append([]byte(head), bytes.Repeat([]byte{byte('a' + i%26)}, 100+i%900)...)
	}
	check := func(key string, v []byte) {
		var k string
		var i int
		if _, err := fmt.Sscanf(string(v), "%s %d:", &k, &i); err != nil || k != key || !bytes.Equal(v, value(key, i)) {
			t.Errorf("Get(%q) = %.40q…, not a value set for it", key, v)
		}
	}
	var wg sync.WaitGroup
	var gets atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := range 3000 {
				key := fmt.Sprint("k", (g*7+i)%200) // the 8 goroutines share the keys
				switch i % 5 {
				case 0:
					c.Delete(key)
				case 1, 2:
					gets.Add(1)
					if got, ok := c.Get(key); ok {
						check(key, got)
					}
				default:
					c.Set(key, value(key, i))
				}
			}
		})
	}
	wg.Wait()
	s := c.Stats()
	require.LessOrEqual(t, s.Bytes, int64(limit))
	require.Positive(t, s.Evictions)
	require.Positive(t, s.Hits)
	require.Zero(t, s.Errors)
	require.Equal(t, gets.Load(), s.Hits+s.Misses)
	requireBounded(t, c, dir)
	// Once quiet, every entry is served, whole.
	var entries int64
	for i := range 200 {
		key := fmt.Sprint("k", i)
		if got, ok := c.Get(key); ok {
			check(key, got)
			entries++
		}
	}
	s = c.Stats()
	require.Equal(t, s.Entries, entries)
	require.Zero(t, s.Errors)
}

func TestViewsShareTheBudgetNotTheEntries(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, 1000)
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

func TestMetrics(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, 20)
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
	require.Equal(t, int64(0), gauge("errors"))
	require.Equal(t, int64(20), gauge("bytes"))
	require.Equal(t, int64(2), gauge("entries"))
}

// TestDirectory: with no directory New makes one under the temp dir and Close removes it; a
// directory that is set is created, emptied of a previous process's values (and nothing else)
// and, on Close, of this one's; one that cannot be created is an error.
func TestDirectory(t *testing.T) {
	t.Run("temporary", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		c, err := lrucache.New("", 100)
		require.NoError(t, err)
		require.Equal(t, tmp, filepath.Dir(c.Dir()))
		matched, err := filepath.Match(lrucache.TempPattern, filepath.Base(c.Dir()))
		require.NoError(t, err)
		require.True(t, matched, c.Dir())
		info, err := os.Stat(c.Dir())
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), info.Mode().Perm())
		c.Set("a", []byte("1"))
		require.Len(t, files(t, c.Dir()), 1)
		require.NoError(t, c.Close())
		require.NoDirExists(t, c.Dir())
		require.NoError(t, c.Close(), "closing twice is harmless")
		c.Set("b", []byte("2"))
		_, ok := c.Get("b")
		require.False(t, ok, "a closed cache stores nothing")
	})
	t.Run("set", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "new", "cache")
		c, err := lrucache.New(dir, 100)
		require.NoError(t, err)
		require.DirExists(t, dir, "created if missing")
		c.Set("a", []byte("1"))
		// A second process on the same directory (the first one killed): the old values are
		// garbage without their index, other files are not the cache's to remove.
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("torn"), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep"), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "deadbeef"), []byte("keep"), 0o600))
		require.NoError(t, os.Mkdir(filepath.Join(dir, strings.Repeat("a", 64)), 0o700))
		again, err := lrucache.New(dir, 100)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"notes.txt", "deadbeef", strings.Repeat("a", 64)}, names(t, dir))
		again.Set("b", []byte("2"))
		require.Contains(t, names(t, dir), filepath.Base(again.DataFile()))
		require.NoError(t, again.Close())
		require.ElementsMatch(t, []string{"notes.txt", "deadbeef", strings.Repeat("a", 64)}, names(t, dir), "Close removes the values, not the directory")
		require.DirExists(t, dir)
		require.NoError(t, c.Close())
	})
	t.Run("cannot be created", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		_, err := lrucache.New(filepath.Join(file, "cache"), 100)
		require.ErrorContains(t, err, "failed to create the HTTP cache directory")
	})
}

// TestProcessesSharingADirectory: two caches given the same directory (two servers with one
// GITHUB_HTTP_CACHE_DIR) each write a data file of their own, so neither serves the other's value
// for a key they both use (their views' keys are alike); the second one's start removes the
// first one's file, which the first notices at its next Set: its values are lost (one error).
func TestProcessesSharingADirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const key = "1 https://api.github.com/installation/repositories"
	first, err := lrucache.New(dir, 100)
	require.NoError(t, err)
	first.CheckLinksAlways() // rather than within a tenth of a second
	first.Set(key, []byte("installation A"))
	first.Set("other", []byte("x"))
	second, err := lrucache.New(dir, 100)
	require.NoError(t, err)
	require.Empty(t, files(t, dir), "the second start removed the first one's file")
	v, ok := first.Get(key)
	require.True(t, ok, "the first still reads the file it holds open")
	require.Equal(t, "installation A", string(v))
	second.Set(key, []byte("installation B"))
	first.Set(key, []byte("installation A"))
	require.Equal(t, int64(1), first.Stats().Errors, "the first noticed its file gone")
	_, ok = first.Get("other")
	require.False(t, ok, "with the values it held")
	for c, want := range map[*lrucache.Cache]string{first: "installation A", second: "installation B"} {
		v, ok := c.Get(key)
		require.True(t, ok)
		require.Equal(t, want, string(v))
	}
	require.Len(t, files(t, dir), 2)
	require.NoError(t, first.Close())
	require.NoError(t, second.Close())
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
	c, _ := newCache(t, 1<<20)
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
