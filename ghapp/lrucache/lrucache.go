// Package lrucache is a size-bounded, least-recently-used implementation of httpcache.Cache for
// the GitHub clients' HTTP cache, whose values live on disk. Unlike httpcache.NewMemoryCache it
// never holds more than its byte limit, whatever the number of distinct GETs a long-running
// server makes; and unlike an LRU of byte slices, a full cache does not keep the limit's worth of
// response bodies in the Go heap: the heap holds only the index (each key, its size and its place
// in the LRU order), and each value is a file in the cache's directory. So the server's idle RSS
// stays small after a load, while the OS page cache keeps the hot entries in memory outside the
// process (and gives them back when memory is short).
package lrucache

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gregjones/httpcache"
	"github.com/rcrowley/go-metrics"
)

// DefaultLimit is the default byte budget (GITHUB_HTTP_CACHE_BYTES).
const DefaultLimit = 32 << 20

// TempPattern is the name pattern (os.MkdirTemp) of the directory New makes when given none.
const TempPattern = "autonomous-http-cache-*"

// tempPrefix starts the name of a value being written, before it is renamed into place.
const tempPrefix = ".tmp-"

// Cache is an LRU cache of byte values bounded by the total size of its keys and values; the
// keys and the LRU order are in memory, each value is a file of the directory named by the hex
// SHA-256 of its key (salted with a random value of the Cache, so two processes given the same
// directory never read each other's values: their views' keys are alike). It is safe for
// concurrent use, and no file is read or written while the index is locked. The zero value is
// not usable; call New.
//
// Set writes the value to a temporary file and renames it into place, so a file in place is
// always a whole value: a Get racing with a Set, a Delete or an eviction of the same key reads
// the old value, the new one, or finds no file (a miss), never a mix.
type Cache struct {
	dir   string
	temp  bool // dir was made by New; Close removes it
	limit int64
	salt  [16]byte

	// stripes serialise the writers of one key (Set's rename and index update, Delete, a Get
	// dropping an entry whose file it cannot read), so the file in place is the one the index
	// counts. Lock order: a stripe, then mu.
	stripes [64]sync.Mutex

	mu     sync.Mutex
	size   int64
	order  list.List // of *entry, most recently used at the front
	items  map[string]*list.Element
	gen    uint64 // counts Sets, so a Get knows whether the entry it read is still the same
	closed atomic.Bool

	hits, misses, evictions, errors atomic.Int64

	views atomic.Uint64
}

type entry struct {
	key  string
	sum  [sha256.Size]byte // of key: the file's name
	size int64             // len(key) + len(value)
	gen  uint64            // the Set that wrote it
}

var _ httpcache.Cache = (*Cache)(nil)

// New returns a cache holding at most limit bytes of keys plus values (a limit of zero or less
// stores nothing), whose values are files in dir. An empty dir is a new directory under the OS
// temp dir (TempPattern), removed by Close. A dir that is set is created if missing (mode 0700:
// the responses are private) and emptied of the files a previous process left there, since the
// index is not kept: the names this package writes, nothing else.
func New(dir string, limit int64) (*Cache, error) {
	c := &Cache{dir: dir, limit: limit, items: make(map[string]*list.Element)}
	_, _ = rand.Read(c.salt[:]) // never fails (crypto/rand)
	if dir == "" {
		d, err := os.MkdirTemp("", TempPattern)
		if err != nil {
			return nil, fmt.Errorf("failed to create the HTTP cache directory: %w", err)
		}
		c.dir, c.temp = d, true
		return c, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the HTTP cache directory: %w", err)
	}
	if err := removeValues(dir); err != nil {
		return nil, fmt.Errorf("failed to empty the HTTP cache directory: %w", err)
	}
	return c, nil
}

// Dir is the directory holding the values.
func (c *Cache) Dir() string { return c.dir }

// Close empties the cache and removes its files: the whole directory when New made it, the files
// it wrote otherwise. Later calls store nothing.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed.Swap(true) {
		c.mu.Unlock()
		return nil
	}
	c.items = make(map[string]*list.Element)
	c.order.Init()
	c.size = 0
	c.mu.Unlock()
	if c.temp {
		return os.RemoveAll(c.dir)
	}
	return removeValues(c.dir)
}

// removeValues removes the files of dir this package names: values and temporary files.
func removeValues(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.Type().IsRegular() && isValueName(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func isValueName(name string) bool {
	if strings.HasPrefix(name, tempPrefix) {
		return true
	}
	if len(name) != 2*sha256.Size {
		return false
	}
	for _, r := range name {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// sum is the hash naming key's file.
func (c *Cache) sum(key string) [sha256.Size]byte {
	h := sha256.New()
	h.Write(c.salt[:])
	_, _ = io.WriteString(h, key)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func (c *Cache) path(sum *[sha256.Size]byte) string {
	return filepath.Join(c.dir, hex.EncodeToString(sum[:]))
}

func (c *Cache) stripe(sum *[sha256.Size]byte) *sync.Mutex {
	return &c.stripes[int(sum[0])%len(c.stripes)]
}

// Get returns the value stored under key, read from its file, and marks it most recently used.
// A file that cannot be read (removed behind the cache's back, or by an eviction racing with a
// newer Set) is a miss, and its entry is dropped.
func (c *Cache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	el, ok := c.items[key]
	var e *entry
	var gen uint64
	if ok {
		e = el.Value.(*entry)
		gen = e.gen
		c.order.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	value, err := os.ReadFile(c.path(&e.sum))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			c.errors.Add(1)
		}
		c.misses.Add(1)
		// Drop the entry unless a Set has replaced it since; under the stripe no Set is between
		// its rename and its index update, so the file removed is this entry's, if any.
		stripe := c.stripe(&e.sum)
		stripe.Lock()
		defer stripe.Unlock()
		c.mu.Lock()
		same := c.items[key] == el && e.gen == gen
		if same {
			c.remove(el)
		}
		c.mu.Unlock()
		if same {
			_ = os.Remove(c.path(&e.sum))
		}
		return nil, false
	}
	c.hits.Add(1)
	return value, true
}

// Set stores value under key (replacing any previous value) and evicts the least recently used
// entries until the cache fits its limit again, removing their files. A key and value larger than
// the whole limit are not stored, and any previous value of key is dropped; so is it when the
// value cannot be written (counted in Stats.Errors), so a failed Set never leaves a stale value.
func (c *Cache) Set(key string, value []byte) {
	if c.closed.Load() {
		return
	}
	n := int64(len(key) + len(value))
	if n > c.limit {
		c.Delete(key)
		return
	}
	tmp, err := c.writeTemp(value)
	if err != nil {
		c.errors.Add(1)
		c.Delete(key)
		return
	}
	sum := c.sum(key)
	path := c.path(&sum)
	stripe := c.stripe(&sum)
	stripe.Lock()
	if err := os.Rename(tmp, path); err != nil {
		stripe.Unlock()
		_ = os.Remove(tmp)
		c.errors.Add(1)
		c.Delete(key)
		return
	}
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		_ = os.Remove(path)
		stripe.Unlock()
		return
	}
	c.gen++
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry)
		c.size += n - e.size
		e.size, e.gen = n, c.gen
		c.order.MoveToFront(el)
	} else {
		c.items[key] = c.order.PushFront(&entry{key: key, sum: sum, size: n, gen: c.gen})
		c.size += n
	}
	var evicted []*entry
	for c.size > c.limit {
		evicted = append(evicted, c.remove(c.order.Back()))
	}
	c.mu.Unlock()
	stripe.Unlock()
	c.evictions.Add(int64(len(evicted)))
	// Outside the evicted keys' stripes: should a Set of one of them rename its new file in
	// place before this removal, that entry's file is gone and its next Get a miss.
	for _, e := range evicted {
		_ = os.Remove(c.path(&e.sum))
	}
}

// writeTemp writes value to a new temporary file of the directory and returns its path.
func (c *Cache) writeTemp(value []byte) (string, error) {
	f, err := os.CreateTemp(c.dir, tempPrefix+"*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Delete removes key's value, if any, and its file.
func (c *Cache) Delete(key string) {
	sum := c.sum(key)
	stripe := c.stripe(&sum)
	stripe.Lock()
	defer stripe.Unlock()
	c.mu.Lock()
	el, ok := c.items[key]
	if ok {
		c.remove(el)
	}
	c.mu.Unlock()
	if ok {
		_ = os.Remove(c.path(&sum))
	}
}

// remove unlinks el from the index and returns its entry; c.mu must be held. The caller removes
// the file, after unlocking.
func (c *Cache) remove(el *list.Element) *entry {
	e := c.order.Remove(el).(*entry)
	delete(c.items, e.key)
	c.size -= e.size
	return e
}

// Stats are the cache's counters since New.
type Stats struct {
	Hits, Misses, Evictions int64
	// Errors counts the values that could not be written or read (a full disk, a directory
	// removed or made read-only): each is a miss, or a Set that stored nothing.
	Errors int64
	// Bytes is the current size of the keys and values; Entries their number.
	Bytes, Entries, Limit int64
}

// Stats returns the current counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		Errors: c.errors.Load(), Bytes: c.size, Entries: int64(len(c.items)), Limit: c.limit}
}

// View returns an httpcache.Cache whose keys live in a namespace of their own inside c: every
// view shares c's byte limit and LRU order, but a view never sees another view's entries. The
// GitHub clients each get a view, so one bounded cache serves all installations while a response
// cached for one installation's token is never offered to another's.
func (c *Cache) View() httpcache.Cache {
	return view{c: c, prefix: strconv.FormatUint(c.views.Add(1), 36) + " "}
}

type view struct {
	c      *Cache
	prefix string
}

func (v view) Get(key string) ([]byte, bool) { return v.c.Get(v.prefix + key) }
func (v view) Set(key string, value []byte)  { v.c.Set(v.prefix+key, value) }
func (v view) Delete(key string)             { v.c.Delete(v.prefix + key) }

// RegisterMetrics publishes the counters in registry as gauges named prefix + ".hits",
// ".misses", ".evictions", ".errors", ".bytes" and ".entries".
func (c *Cache) RegisterMetrics(registry metrics.Registry, prefix string) {
	for name, read := range map[string]func(Stats) int64{
		"hits": func(s Stats) int64 { return s.Hits }, "misses": func(s Stats) int64 { return s.Misses },
		"evictions": func(s Stats) int64 { return s.Evictions }, "errors": func(s Stats) int64 { return s.Errors },
		"bytes": func(s Stats) int64 { return s.Bytes }, "entries": func(s Stats) int64 { return s.Entries },
	} {
		_ = registry.Register(prefix+"."+name, metrics.NewFunctionalGauge(func() int64 { return read(c.Stats()) }))
	}
}
