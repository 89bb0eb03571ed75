// Package lrucache is a size-bounded, least-recently-used implementation of httpcache.Cache for
// the GitHub clients' HTTP cache, whose values live on disk. Unlike httpcache.NewMemoryCache it
// never holds more than its byte limit, whatever the number of distinct GETs a long-running
// server makes; and unlike an LRU of byte slices, a full cache does not keep the limit's worth of
// response bodies in the Go heap: the heap holds only the index (each key, its size, its place in
// the LRU order and where its value is), and the values are appended to a data file of the
// cache's directory, opened once. So the server's idle RSS stays small after a load, while the OS
// page cache keeps the hot entries in memory outside the process (and gives them back when memory
// is short); and a Set costs one write, not a file's creation, rename and removal.
package lrucache

import (
	"cmp"
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gregjones/httpcache"
	"github.com/rcrowley/go-metrics"
)

// DefaultLimit is the default byte budget (GITHUB_HTTP_CACHE_BYTES).
const DefaultLimit = 32 << 20

// TempPattern is the name pattern (os.MkdirTemp) of the directory New makes when given none.
const TempPattern = "autonomous-http-cache-*"

// dataPrefix starts the name of a data file, followed by 16 random hex digits.
const dataPrefix = "values-"

// legacyTempPrefix started the name of a value being written by the versions that kept a file
// per value (named by the hex SHA-256 of its key); New and Close still remove those names.
const legacyTempPrefix = ".tmp-"

// minCompactBytes is the size below which a data file is never compacted, whatever the limit:
// a small cache would otherwise start a new file every few Sets.
const minCompactBytes = 1 << 20

// copyBufferBytes is the size of the buffer compaction copies the live values through.
const copyBufferBytes = 256 << 10

// attempts bounds the tries of a Get or a Set whose data file is retired under it.
const attempts = 3

// linkCheckInterval is how often a Set looks whether the data file has been removed behind the
// cache's back. Not at every Set: a stat costs a syscall, and on Linux 6.13 and later it makes the
// next write update the file's times finely (multigrain timestamps), a journal entry.
const linkCheckInterval = 100 * time.Millisecond

// errClosed is what reserving space in a closed cache returns.
var errClosed = errors.New("lrucache: closed")

// Cache is an LRU cache of byte values bounded by the total size of its keys and values. The keys
// and the LRU order are in memory; each value is a run of bytes of a data file of the directory,
// which only this Cache opens (its name is random, so two processes given the same directory
// never read each other's values). It is safe for concurrent use, and no file is read or written
// while the index is locked. The zero value is not usable; call New.
//
// A Set reserves the bytes at the end of the current data file under the lock, writes them
// outside it, and only then points the index at them: the bytes of a value are never written
// again, so a Get racing with a Set, a Delete or an eviction of the same key reads the old value
// or the new one, never a mix. Replaced and evicted values are left in the file as dead bytes.
// Once the file is larger than the limit (and a MiB) and holds more dead bytes than live ones, a
// background compaction copies the live values into a new data file, which the Sets append to
// meanwhile, then closes and removes the old one; so the file stays within about twice the limit,
// and compaction copies fewer bytes than the Sets wrote. A Get that was reading the old file when
// it closed looks the key up again.
type Cache struct {
	dir    string
	temp   bool // dir was made by New; Close removes it
	limit  int64
	create func(path string) (*os.File, error) // opens a new data file; tests replace it

	// openMu serialises the creation of data files with Close, so none is made once Close has
	// begun removing them. Lock order: openMu, then mu.
	openMu sync.Mutex

	mu         sync.Mutex
	size       int64
	order      list.List // of *entry, most recently used at the front
	items      map[string]*list.Element
	cur        *segment // the data file Sets append to; nil before the first Set or once lost
	compacting bool     // a compaction goroutine runs
	closed     atomic.Bool

	// epoch starts the monotonic clock of lastLinkCheck, the time (since epoch) a Set last
	// looked at the data file's link count, at most once every linkCheckEvery.
	epoch          time.Time
	lastLinkCheck  atomic.Int64
	linkCheckEvery time.Duration

	compactions sync.WaitGroup

	hits, misses, evictions, errors atomic.Int64

	views atomic.Uint64
}

// segment is one data file.
type segment struct {
	f    *os.File
	path string
	tail int64 // bytes reserved: the next value goes there (c.mu)
	dead int64 // bytes of values no longer in the index (c.mu)
}

type entry struct {
	key  string
	size int64    // len(key) + len(value)
	seg  *segment // the data file holding the value; nil once the entry has left the index
	off  int64    // the value's offset in seg
}

func (e *entry) valueLen() int64 { return e.size - int64(len(e.key)) }

var _ httpcache.Cache = (*Cache)(nil)

// New returns a cache holding at most limit bytes of keys plus values (a limit of zero or less
// stores nothing), whose values are kept in a data file of dir, made by the first Set. An empty
// dir is a new directory under the OS temp dir (TempPattern), removed by Close. A dir that is set
// is created if missing (mode 0700: the responses are private) and emptied of the files a
// previous process left there, since the index is not kept: the names this package writes (or
// an earlier version of it wrote), nothing else.
func New(dir string, limit int64) (*Cache, error) {
	c := &Cache{dir: dir, limit: limit, items: make(map[string]*list.Element), create: createFile,
		epoch: time.Now(), linkCheckEvery: linkCheckInterval}
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

func createFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// Dir is the directory holding the values.
func (c *Cache) Dir() string { return c.dir }

// Close empties the cache and removes its files: the whole directory when New made it, the files
// this package names otherwise. It waits for a running compaction to stop; Gets and Sets racing
// with it miss and store nothing, and later calls store nothing.
func (c *Cache) Close() error {
	// Under openMu: no data file is being created, and none will be once closed is set.
	c.openMu.Lock()
	c.mu.Lock()
	if c.closed.Swap(true) {
		c.mu.Unlock()
		c.openMu.Unlock()
		return nil
	}
	cur := c.cur
	c.cur = nil
	c.items = make(map[string]*list.Element)
	c.order.Init()
	c.size = 0
	c.mu.Unlock()
	c.openMu.Unlock()
	c.compactions.Wait()
	if cur != nil {
		_ = cur.f.Close()
	}
	if c.temp {
		return os.RemoveAll(c.dir)
	}
	return removeValues(c.dir)
}

// removeValues removes the files of dir this package names: data files, and the values and
// temporary files of the versions that kept a file per value.
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
	switch {
	case strings.HasPrefix(name, legacyTempPrefix):
		return true
	case strings.HasPrefix(name, dataPrefix):
		return len(name) == len(dataPrefix)+16 && isHex(name[len(dataPrefix):])
	default:
		return len(name) == 2*sha256.Size && isHex(name)
	}
}

func isHex(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// newSegment creates a data file under a new random name.
func (c *Cache) newSegment() (*segment, error) {
	var random [8]byte
	_, _ = rand.Read(random[:]) // never fails (crypto/rand)
	path := filepath.Join(c.dir, dataPrefix+hex.EncodeToString(random[:]))
	f, err := c.create(path)
	if err != nil {
		return nil, err
	}
	return &segment{f: f, path: path}, nil
}

// discard closes and removes s, a data file no Get or Set can reach any more.
func (s *segment) discard() {
	_ = s.f.Close()
	_ = os.Remove(s.path)
}

// Get returns the value stored under key, read from its data file, and marks it most recently
// used. A value that cannot be read whole (an I/O error, or a file truncated behind the cache's
// back) is a miss counted in Stats.Errors, and its entry is dropped.
func (c *Cache) Get(key string) ([]byte, bool) {
	var value []byte
	for range attempts {
		c.mu.Lock()
		el, ok := c.items[key]
		if !ok {
			c.mu.Unlock()
			break
		}
		e := el.Value.(*entry)
		seg, off, n := e.seg, e.off, e.valueLen()
		c.order.MoveToFront(el)
		c.mu.Unlock()
		if int64(cap(value)) < n {
			value = make([]byte, n)
		}
		value = value[:n]
		_, err := seg.f.ReadAt(value, off)
		if err == nil {
			c.hits.Add(1)
			return value, true
		}
		if errors.Is(err, os.ErrClosed) {
			continue // the file was retired since (compacted, lost or closed): look again
		}
		c.errors.Add(1)
		c.mu.Lock()
		if c.items[key] == el && e.seg == seg && e.off == off { // not replaced since
			c.remove(el)
		}
		c.mu.Unlock()
		break
	}
	c.misses.Add(1)
	return nil, false
}

// Set stores value under key (replacing any previous value) and evicts the least recently used
// entries until the cache fits its limit again. A key and value larger than the whole limit are
// not stored, and any previous value of key is dropped; so is it when the value cannot be written
// (counted in Stats.Errors), so a failed Set never leaves a stale value. A data file removed behind
// the cache's back (by a second process starting on the same directory, or an operator) keeps
// serving the values it holds until a Set notices, within linkCheckInterval: its values are then
// dropped, counted as one error, and the Set starts a new file.
func (c *Cache) Set(key string, value []byte) {
	if c.closed.Load() {
		return
	}
	if int64(len(key)+len(value)) > c.limit {
		c.Delete(key)
		return
	}
	counted := false
	for range attempts {
		switch c.trySet(key, value) {
		case setDone:
			return
		case setFailed:
			if !counted {
				c.errors.Add(1)
			}
			c.Delete(key)
			return
		case setLost:
			if !counted {
				c.errors.Add(1)
				counted = true
			}
		case setRetry:
		}
	}
	c.Delete(key) // the files kept being retired under it: store nothing rather than leave a stale value
}

type setOutcome int

const (
	setDone   setOutcome = iota // stored, or the cache is closed
	setRetry                    // the data file was retired meanwhile: try again in the current one
	setLost                     // the data file was removed behind the cache's back; now retired
	setFailed                   // the value could not be written
)

// trySet writes value at the end of the current data file and points key's entry at it.
func (c *Cache) trySet(key string, value []byte) setOutcome {
	seg, off, err := c.reserve(int64(len(value)))
	if errors.Is(err, errClosed) {
		return setDone
	} else if err != nil {
		return setFailed
	}
	_, err = seg.f.WriteAt(value, off)
	lost := c.checkLinks() && unlinked(seg.f)
	c.mu.Lock()
	switch {
	case c.closed.Load():
		c.mu.Unlock()
		return setDone
	case seg != c.cur:
		c.mu.Unlock()
		return setRetry
	case lost:
		c.retire(seg)
		c.mu.Unlock()
		_ = seg.f.Close() // the name is gone already
		return setLost
	case err != nil:
		seg.dead += int64(len(value)) // counted, so that failing writes lead to a compaction
		if el, ok := c.items[key]; ok {
			c.remove(el)
		}
		c.mu.Unlock()
		return setFailed
	}
	n := int64(len(key) + len(value))
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry)
		if e.seg != nil {
			e.seg.dead += e.valueLen()
		}
		c.size += n - e.size
		e.size, e.seg, e.off = n, seg, off
		c.order.MoveToFront(el)
	} else {
		c.items[key] = c.order.PushFront(&entry{key: key, size: n, seg: seg, off: off})
		c.size += n
	}
	var evicted int64
	for c.size > c.limit {
		c.remove(c.order.Back())
		evicted++
	}
	if !c.compacting && c.needsCompaction(seg) {
		c.compacting = true
		c.compactions.Add(1)
		go c.compact()
	}
	c.mu.Unlock()
	c.evictions.Add(evicted)
	return setDone
}

// checkLinks reports whether this Set is the one to look at the data file's link count: none
// has in the last linkCheckEvery.
func (c *Cache) checkLinks() bool {
	now := int64(time.Since(c.epoch))
	last := c.lastLinkCheck.Load()
	return now-last >= int64(c.linkCheckEvery) && c.lastLinkCheck.CompareAndSwap(last, now)
}

// reserve returns the current data file, creating one if there is none, and the offset of n
// bytes reserved at its end.
func (c *Cache) reserve(n int64) (*segment, int64, error) {
	for i := 0; ; i++ {
		c.mu.Lock()
		if c.closed.Load() {
			c.mu.Unlock()
			return nil, 0, errClosed
		}
		if seg := c.cur; seg != nil {
			off := seg.tail
			seg.tail += n
			c.mu.Unlock()
			return seg, off, nil
		}
		c.mu.Unlock()
		if i > 0 {
			return nil, 0, errors.New("lrucache: the data file was lost as soon as it was created")
		}
		if err := c.open(); err != nil {
			return nil, 0, err
		}
	}
}

// open makes a new data file the current one, unless there is one already.
func (c *Cache) open() error {
	c.openMu.Lock()
	defer c.openMu.Unlock()
	c.mu.Lock()
	closed, has := c.closed.Load(), c.cur != nil
	c.mu.Unlock()
	if closed {
		return errClosed
	} else if has {
		return nil
	}
	seg, err := c.newSegment()
	if err != nil {
		return err
	}
	c.mu.Lock()
	closed = c.closed.Load()
	if !closed {
		c.cur = seg
	}
	c.mu.Unlock()
	if closed {
		seg.discard()
		return errClosed
	}
	return nil
}

// needsCompaction reports whether seg holds more dead bytes than live ones and is larger than
// the limit (and than minCompactBytes); c.mu must be held. Since the live bytes are at most the
// limit, the file then never grows past about twice the limit before it is compacted.
func (c *Cache) needsCompaction(seg *segment) bool {
	return seg.tail > max(c.limit, minCompactBytes) && 2*seg.dead > seg.tail
}

// Delete removes key's value, if any. Its bytes stay in the data file until a compaction.
func (c *Cache) Delete(key string) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	c.mu.Unlock()
}

// remove unlinks el from the index and counts its value's bytes dead; c.mu must be held.
func (c *Cache) remove(el *list.Element) {
	e := c.order.Remove(el).(*entry)
	delete(c.items, e.key)
	c.size -= e.size
	if e.seg != nil {
		e.seg.dead += e.valueLen()
	}
	e.seg = nil
}

// retire drops every entry whose value is in seg and, if seg is the current data file, leaves
// none (the next Set creates one); c.mu must be held. The caller closes seg's file.
func (c *Cache) retire(seg *segment) {
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*entry).seg == seg {
			c.remove(el)
		}
		el = next
	}
	if c.cur == seg {
		c.cur = nil
	}
}

// compact runs compactions until the current data file needs none, then clears c.compacting.
func (c *Cache) compact() {
	defer c.compactions.Done()
	for {
		c.compactOnce()
		c.mu.Lock()
		if c.closed.Load() || c.cur == nil || !c.needsCompaction(c.cur) {
			c.compacting = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// moved is a live value compaction copies: from its offset in the old file to one in the new.
type moved struct {
	e        *entry
	from, to int64
	n        int64
}

// compactOnce makes a new data file the current one, copies the live values of the old one into
// it in batches (each reserved, then copied outside the lock, then pointed at if the entry still
// holds the old value; else its copy is dead bytes), then closes and removes the old file. A value
// it could not copy (an I/O error, or Close) is dropped, and an I/O error is counted. When no new
// file can be created the old one is dropped with its values, so the disk use stays bounded.
func (c *Cache) compactOnce() {
	c.openMu.Lock()
	if c.closed.Load() {
		c.openMu.Unlock()
		return
	}
	next, err := c.newSegment()
	if err != nil {
		c.openMu.Unlock()
		c.errors.Add(1)
		c.mu.Lock()
		old := c.cur
		if old != nil {
			c.retire(old)
		}
		c.mu.Unlock()
		if old != nil {
			old.discard()
		}
		return
	}
	c.mu.Lock()
	old := c.cur
	if c.closed.Load() || old == nil {
		c.mu.Unlock()
		c.openMu.Unlock()
		next.discard()
		return
	}
	c.cur = next
	live := make([]moved, 0, len(c.items))
	for el := c.order.Front(); el != nil; el = el.Next() {
		if e := el.Value.(*entry); e.seg == old {
			live = append(live, moved{e: e, from: e.off, n: e.valueLen()})
		}
	}
	c.mu.Unlock()
	c.openMu.Unlock()

	// In the old file's order, so that neighbours are read together.
	slices.SortFunc(live, func(a, b moved) int { return cmp.Compare(a.from, b.from) })
	buf := make([]byte, copyBufferBytes)
	var batch []moved
	for i := 0; i < len(live); {
		batch = batch[:0]
		var total int64
		c.mu.Lock()
		if c.closed.Load() || c.cur != next {
			c.mu.Unlock()
			break
		}
		for ; i < len(live) && (len(batch) == 0 || total+live[i].n <= copyBufferBytes); i++ {
			if m := live[i]; m.e.seg == old {
				m.to = next.tail
				next.tail += m.n
				total += m.n
				batch = append(batch, m)
			}
		}
		c.mu.Unlock()
		err := copyValues(old, next, batch, buf)
		c.mu.Lock()
		for _, m := range batch {
			if err == nil && m.e.seg == old && c.cur == next {
				m.e.seg, m.e.off = next, m.to
			} else {
				next.dead += m.n
			}
		}
		c.mu.Unlock()
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				c.errors.Add(1)
			}
			break
		}
	}
	c.mu.Lock()
	for _, m := range live {
		if m.e.seg == old {
			if el, ok := c.items[m.e.key]; ok && el.Value == m.e {
				c.remove(el)
			}
		}
	}
	c.mu.Unlock()
	old.discard()
}

// copyValues copies batch's values from old to next, where they are reserved one after the other
// from batch[0].to: through buf, reading neighbouring values at once, or in pieces for a value
// larger than buf (then alone in its batch).
func copyValues(old, next *segment, batch []moved, buf []byte) error {
	if len(batch) == 0 {
		return nil
	}
	if len(batch) == 1 && batch[0].n > int64(len(buf)) {
		m := batch[0]
		for done := int64(0); done < m.n; {
			chunk := buf[:min(int64(len(buf)), m.n-done)]
			if _, err := old.f.ReadAt(chunk, m.from+done); err != nil {
				return err
			}
			if _, err := next.f.WriteAt(chunk, m.to+done); err != nil {
				return err
			}
			done += int64(len(chunk))
		}
		return nil
	}
	var filled int64
	for j := 0; j < len(batch); {
		start, end := batch[j].from, batch[j].from+batch[j].n
		for j++; j < len(batch) && batch[j].from == end; j++ {
			end += batch[j].n
		}
		if _, err := old.f.ReadAt(buf[filled:filled+end-start], start); err != nil {
			return err
		}
		filled += end - start
	}
	_, err := next.f.WriteAt(buf[:filled], batch[0].to)
	return err
}

// Stats are the cache's counters since New.
type Stats struct {
	Hits, Misses, Evictions int64
	// Errors counts the values that could not be written or read (a full disk, a data file
	// truncated, removed or made unwritable): each is a miss, or a Set that stored nothing, or a
	// data file lost with its values.
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
