// Package lrucache is a size-bounded, least-recently-used implementation of httpcache.Cache for
// the GitHub clients' HTTP cache: unlike httpcache.NewMemoryCache it never holds more than its
// byte limit, whatever the number of distinct GETs a long-running server makes.
package lrucache

import (
	"container/list"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gregjones/httpcache"
	"github.com/rcrowley/go-metrics"
)

// DefaultLimit is the default byte budget (GITHUB_HTTP_CACHE_BYTES).
const DefaultLimit = 32 << 20

// Cache is an LRU cache of byte values bounded by the total size of its keys and values. Every
// operation is O(1) and safe for concurrent use. The zero value is not usable; call New.
type Cache struct {
	limit int64

	mu        sync.Mutex
	size      int64
	order     list.List // of *entry, most recently used at the front
	items     map[string]*list.Element
	hits      int64
	misses    int64
	evictions int64

	views atomic.Uint64
}

type entry struct {
	key   string
	value []byte
}

var _ httpcache.Cache = (*Cache)(nil)

// New returns a cache holding at most limit bytes of keys plus values. A limit of zero or less
// stores nothing.
func New(limit int64) *Cache {
	return &Cache{limit: limit, items: make(map[string]*list.Element)}
}

// Get returns the value stored under key and marks it most recently used. The returned slice is
// the stored one: callers must not modify it (httpcache only reads it).
func (c *Cache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.order.MoveToFront(el)
	return el.Value.(*entry).value, true
}

// Set stores value under key (replacing any previous value) and evicts the least recently used
// entries until the cache fits its limit again. A key and value larger than the whole limit are
// not stored, and any previous value of key is dropped. The cache keeps value without copying it.
func (c *Cache) Set(key string, value []byte) {
	n := int64(len(key) + len(value))
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.limit {
		if el, ok := c.items[key]; ok {
			c.remove(el)
		}
		return
	}
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry)
		c.size += int64(len(value) - len(e.value))
		e.value = value
		c.order.MoveToFront(el)
	} else {
		c.items[key] = c.order.PushFront(&entry{key: key, value: value})
		c.size += n
	}
	for c.size > c.limit {
		c.remove(c.order.Back())
		c.evictions++
	}
}

// Delete removes key's value, if any.
func (c *Cache) Delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
}

// remove unlinks el; c.mu must be held.
func (c *Cache) remove(el *list.Element) {
	e := c.order.Remove(el).(*entry)
	delete(c.items, e.key)
	c.size -= int64(len(e.key) + len(e.value))
}

// Stats are the cache's counters since New.
type Stats struct {
	Hits, Misses, Evictions int64
	// Bytes is the current size of the keys and values; Entries their number.
	Bytes, Entries, Limit int64
}

// Stats returns the current counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Hits: c.hits, Misses: c.misses, Evictions: c.evictions,
		Bytes: c.size, Entries: int64(len(c.items)), Limit: c.limit}
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
// ".misses", ".evictions", ".bytes" and ".entries".
func (c *Cache) RegisterMetrics(registry metrics.Registry, prefix string) {
	for name, read := range map[string]func(Stats) int64{
		"hits": func(s Stats) int64 { return s.Hits }, "misses": func(s Stats) int64 { return s.Misses },
		"evictions": func(s Stats) int64 { return s.Evictions }, "bytes": func(s Stats) int64 { return s.Bytes },
		"entries": func(s Stats) int64 { return s.Entries },
	} {
		_ = registry.Register(prefix+"."+name, metrics.NewFunctionalGauge(func() int64 { return read(c.Stats()) }))
	}
}
