package lrucache_test

import (
	"bytes"
	"container/list"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/lrucache"
)

// valueOf is key's i-th value, size bytes long at least: "key i size:" then a run of one byte, so
// that a torn, shifted or mixed-up value shows.
func valueOf(key string, i, size int) []byte {
	head := fmt.Sprintf("%s %d %d:", key, i, size)
	return append([]byte(head), bytes.Repeat([]byte{byte('a' + i%26)}, max(0, size-len(head)))...)
}

// checkValue fails t unless v is a value valueOf made for key.
func checkValue(t *testing.T, key string, v []byte) {
	var k string
	var i, size int
	if _, err := fmt.Sscanf(string(v), "%s %d %d:", &k, &i, &size); err != nil || k != key || !bytes.Equal(v, valueOf(key, i, size)) {
		t.Errorf("Get(%q) = %.40q… (%d bytes), not a value set for it", key, v, len(v))
	}
}

// model is the LRU the cache must behave as: the same hits, values, bytes and evictions.
type model struct {
	limit, size, evictions int64
	order                  list.List // of *modelEntry, most recently used at the front
	items                  map[string]*list.Element
}

type modelEntry struct {
	key   string
	value []byte
}

func (m *model) remove(el *list.Element) {
	e := m.order.Remove(el).(*modelEntry)
	delete(m.items, e.key)
	m.size -= int64(len(e.key) + len(e.value))
}

func (m *model) get(key string) ([]byte, bool) {
	el, ok := m.items[key]
	if !ok {
		return nil, false
	}
	m.order.MoveToFront(el)
	return el.Value.(*modelEntry).value, true
}

func (m *model) set(key string, value []byte) {
	if el, ok := m.items[key]; ok {
		m.remove(el)
	}
	n := int64(len(key) + len(value))
	if n > m.limit {
		return
	}
	m.items[key] = m.order.PushFront(&modelEntry{key: key, value: value})
	m.size += n
	for m.size > m.limit {
		m.remove(m.order.Back())
		m.evictions++
	}
}

func (m *model) delete(key string) {
	if el, ok := m.items[key]; ok {
		m.remove(el)
	}
}

// TestMatchesAnLRUModel drives the cache and a model LRU with the same random Sets, Gets and
// Deletes, through dozens of compactions running beside them: every Get answers as the model
// does, with the same bytes, and the entries, bytes and evictions agree after every step (the
// LRU order is exact, and compaction loses nothing).
func TestMatchesAnLRUModel(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	c, dir := newCache(t, limit)
	m := &model{limit: limit, items: make(map[string]*list.Element)}
	rng := rand.New(rand.NewPCG(1, 2))
	files := map[string]bool{}
	for i := range 20000 {
		key := fmt.Sprint("k", rng.IntN(120))
		switch op := rng.IntN(10); {
		case op < 5:
			v := valueOf(key, i, 1+rng.IntN(6000))
			if rng.IntN(200) == 0 {
				v = valueOf(key, i, limit) // too large: not stored, and the old value dropped
			}
			c.Set(key, v)
			m.set(key, v)
			files[c.DataFile()] = true
		case op < 9:
			got, ok := c.Get(key)
			want, wantOK := m.get(key)
			require.Equal(t, wantOK, ok, "Get(%q) at step %d", key, i)
			require.Equal(t, want, got, "Get(%q) at step %d", key, i)
		default:
			c.Delete(key)
			m.delete(key)
		}
		s := c.Stats()
		require.Equal(t, int64(len(m.items)), s.Entries, "step %d", i)
		require.Equal(t, m.size, s.Bytes, "step %d", i)
		require.Equal(t, m.evictions, s.Evictions, "step %d", i)
	}
	require.Zero(t, c.Stats().Errors)
	require.Greater(t, len(files), 5, "compactions started new data files")
	requireBounded(t, c, dir)
	for key, el := range m.items {
		got, ok := c.Get(key)
		require.True(t, ok, key)
		require.Equal(t, el.Value.(*modelEntry).value, got, key)
	}
}

// TestCompactionBoundsTheFile: through many overwrites and evictions (values up to a few times
// compaction's copy buffer when the limit allows) every value read is the last one set for its
// key, and once each compaction is done the directory holds one data file within about twice
// the limit, whatever was written in all.
func TestCompactionBoundsTheFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit   int64
		largest int
	}{{256 << 10, 20 << 10}, {4 << 20, 700 << 10}} {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			t.Parallel()
			c, dir := newCache(t, tc.limit)
			rng := rand.New(rand.NewPCG(3, uint64(tc.limit)))
			last := map[string][]byte{}
			var written int64
			files := map[string]bool{}
			for i := 0; written < 40*tc.limit; i++ {
				key := fmt.Sprint("https://api.github.com/repos/o/r/", rng.IntN(300))
				size := 100 + rng.IntN(8<<10)
				if rng.IntN(50) == 0 {
					size = tc.largest
				}
				v := valueOf(key, i, size)
				c.Set(key, v)
				last[key] = v
				written += int64(len(v))
				files[c.DataFile()] = true
				probe := fmt.Sprint("https://api.github.com/repos/o/r/", rng.IntN(300))
				if got, ok := c.Get(probe); ok {
					require.Equal(t, last[probe], got, "Get(%q) after set %d", probe, i)
				}
				if i%50 == 0 {
					requireBounded(t, c, dir, "after set %d", i)
				}
			}
			requireBounded(t, c, dir)
			require.Greater(t, len(files), 10, "compactions started new data files")
			s := c.Stats()
			require.Zero(t, s.Errors)
			require.Positive(t, s.Evictions)
			for key, v := range last {
				if got, ok := c.Get(key); ok {
					require.Equal(t, v, got, key)
				}
			}
		})
	}
}

// TestConcurrentCompaction runs Sets (some larger than compaction's copy buffer), Gets and
// Deletes of shared keys from several goroutines on a cache small enough to compact all the
// time (go test -race): every value read is whole and one that was set for its key, nothing is
// counted as an error, and once quiet the data file is bounded and every entry is served.
func TestConcurrentCompaction(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	c, dir := newCache(t, limit)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 5))
			for i := range 2500 {
				key := fmt.Sprint("k", rng.IntN(150))
				switch op := rng.IntN(10); {
				case op == 0:
					c.Delete(key)
				case op < 5:
					if got, ok := c.Get(key); ok {
						checkValue(t, key, got)
					}
				default:
					size := 50 + rng.IntN(12<<10)
					if rng.IntN(100) == 0 {
						size = 300 << 10
					}
					c.Set(key, valueOf(key, i, size))
				}
			}
		})
	}
	wg.Wait()
	s := c.Stats()
	require.Zero(t, s.Errors)
	require.LessOrEqual(t, s.Bytes, int64(limit))
	requireBounded(t, c, dir)
	var entries int64
	for i := range 150 {
		key := fmt.Sprint("k", i)
		if got, ok := c.Get(key); ok {
			checkValue(t, key, got)
			entries++
		}
	}
	require.Equal(t, c.Stats().Entries, entries)
}

// TestRemovedDataFile: a data file removed behind the cache's back still serves what it held
// until a Set notices (the next one here; in general one within a tenth of a second): then its values are dropped (one error, misses after) and the
// cache goes on in a new data file.
func TestRemovedDataFile(t *testing.T) {
	t.Parallel()
	c, dir := newCache(t, 100)
	c.CheckLinksAlways() // rather than within a tenth of a second
	c.Set("a", []byte("1"))
	c.Set("b", []byte("2"))
	name, _ := dataFile(t, dir)
	require.NoError(t, os.Remove(filepath.Join(dir, name)))
	v, ok := c.Get("a")
	require.True(t, ok, "read from the file the cache holds open")
	require.Equal(t, "1", string(v))

	c.Set("c", []byte("3"))
	require.Equal(t, lrucache.Stats{Hits: 1, Errors: 1, Bytes: 2, Entries: 1, Limit: 100}, c.Stats())
	for _, k := range []string{"a", "b"} {
		_, ok := c.Get(k)
		require.False(t, ok, k)
	}
	v, ok = c.Get("c")
	require.True(t, ok)
	require.Equal(t, "3", string(v))
	again, size := dataFile(t, dir)
	require.NotEqual(t, name, again, "a new data file")
	require.Equal(t, int64(1), size)
}

// TestUnwritableDataFile: a data file that cannot be written (here one opened read-only) makes
// every Set fail, counted, without leaving the key's previous value to be served; one that
// cannot be read (opened write-only) makes every Get a counted miss that drops its entry. No
// panic either way.
func TestUnwritableDataFile(t *testing.T) {
	t.Parallel()
	c, dir := newCache(t, 100)
	c.CheckLinksAlways()
	c.Set("a", []byte("old"))
	var flag atomic.Int64
	flag.Store(int64(os.O_RDONLY))
	c.SetCreate(func(path string) (*os.File, error) {
		return os.OpenFile(path, int(flag.Load())|os.O_CREATE|os.O_EXCL, 0o600)
	})
	removeDataFile := func() {
		t.Helper()
		name, _ := dataFile(t, dir)
		require.NoError(t, os.Remove(filepath.Join(dir, name)))
	}
	removeDataFile()
	c.Set("a", []byte("new")) // notices the loss (one error), then cannot write in the new file
	c.Set("b", []byte("value"))
	for _, k := range []string{"a", "b"} {
		_, ok := c.Get(k)
		require.False(t, ok, k)
	}
	require.Equal(t, lrucache.Stats{Misses: 2, Errors: 2, Limit: 100}, c.Stats())

	flag.Store(int64(os.O_WRONLY))
	removeDataFile()
	c.Set("c", []byte("written")) // the loss is an error; the write in the new file succeeds
	require.Equal(t, int64(1), c.Stats().Entries)
	_, ok := c.Get("c")
	require.False(t, ok)
	require.Equal(t, lrucache.Stats{Misses: 3, Errors: 4, Limit: 100}, c.Stats(), "the read failed: counted, dropped")
}

// TestCompactionWithoutANewFile: when compaction cannot create its new data file the old one is
// dropped with its values (one error), rather than grow without bound; Sets then fail, counted,
// until a file can be created again.
func TestCompactionWithoutANewFile(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	c, dir := newCache(t, limit)
	var fail atomic.Bool
	c.SetCreate(func(path string) (*os.File, error) {
		if fail.Load() {
			return nil, errors.New("no space left on device")
		}
		return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	})
	c.Set("first", []byte("1"))
	fail.Store(true)
	for i := 0; c.Stats().Errors == 0; i++ {
		require.Less(t, i, 1000, "no compaction started")
		c.Set(fmt.Sprint("k", i%20), make([]byte, 8<<10))
		c.WaitCompaction()
	}
	require.Equal(t, lrucache.Stats{Hits: 0, Evictions: c.Stats().Evictions, Errors: 1, Limit: limit}, c.Stats())
	require.Empty(t, files(t, dir), "the old data file is removed")
	c.Set("a", []byte("1"))
	_, ok := c.Get("a")
	require.False(t, ok)
	require.Equal(t, int64(2), c.Stats().Errors)

	fail.Store(false)
	c.Set("a", []byte("1"))
	v, ok := c.Get("a")
	require.True(t, ok)
	require.Equal(t, "1", string(v))
}

// TestCloseWhileBusy closes caches while goroutines Set, Get and Delete, and compactions run:
// Close returns once no file of the cache is left (nor its temporary directory), the racing
// calls miss or store nothing, and none creates a file afterwards.
func TestCloseWhileBusy(t *testing.T) {
	for _, temp := range []bool{false, true} {
		t.Run(fmt.Sprint("temp=", temp), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			if temp {
				t.Setenv("TMPDIR", t.TempDir())
				dir = ""
			}
			c, err := lrucache.New(dir, 256<<10)
			require.NoError(t, err)
			var stop atomic.Bool
			var ops atomic.Int64
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 7))
					for i := 0; !stop.Load(); i++ {
						key := fmt.Sprint("k", rng.IntN(100))
						switch rng.IntN(4) {
						case 0:
							c.Delete(key)
						case 1:
							if got, ok := c.Get(key); ok {
								checkValue(t, key, got)
							}
						default:
							c.Set(key, valueOf(key, i, 100+rng.IntN(16<<10)))
						}
						ops.Add(1)
					}
				})
			}
			for ops.Load() < 2000 {
				time.Sleep(time.Millisecond)
			}
			require.NoError(t, c.Close())
			after := ops.Load()
			for ops.Load() < after+500 {
				time.Sleep(time.Millisecond)
			}
			stop.Store(true)
			wg.Wait()
			if temp {
				require.NoDirExists(t, c.Dir())
			} else {
				require.Empty(t, files(t, dir))
			}
			s := c.Stats()
			require.Zero(t, s.Entries)
			require.Zero(t, s.Bytes)
			require.Zero(t, s.Errors)
			_, ok := c.Get("k1")
			require.False(t, ok)
			require.NoError(t, c.Close())
		})
	}
}

// TestGetsDuringCompactionHit: with nothing to evict (the same keys overwritten with values of
// the same sizes), hundreds of compactions moving the values from file to file cost a Get
// nothing: each one hits, reading its value from the file it was in or, once that one is
// closed, from the new one.
func TestGetsDuringCompactionHit(t *testing.T) {
	t.Parallel()
	c, dir := newCache(t, 1<<20)
	for i := range 10 {
		key := fmt.Sprint("hot", i)
		c.Set(key, valueOf(key, i, 1<<10))
	}
	files := map[string]bool{}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer stop.Store(true)
		for i := range 12000 {
			key := fmt.Sprint("s", i%50)
			c.Set(key, valueOf(key, i, 8<<10))
			if i%64 == 0 {
				files[c.DataFile()] = true
			}
		}
	})
	var gets int64
	for i := 0; !stop.Load(); i++ {
		key := fmt.Sprint("hot", i%10)
		got, ok := c.Get(key)
		require.True(t, ok, "Get(%q) %d", key, i)
		checkValue(t, key, got)
		gets++
	}
	wg.Wait()
	s := c.Stats()
	require.Zero(t, s.Evictions)
	require.Zero(t, s.Errors)
	require.GreaterOrEqual(t, s.Hits, gets)
	require.Greater(t, len(files), 10, "compactions")
	requireBounded(t, c, dir)
}

// TestRemovedDataFileNoticed: with the default interval between looks at the data file, a
// removed one is noticed by a Set within a tenth of a second.
func TestRemovedDataFileNoticed(t *testing.T) {
	t.Parallel()
	c, dir := newCache(t, 100)
	c.Set("a", []byte("1"))
	name, _ := dataFile(t, dir)
	require.NoError(t, os.Remove(filepath.Join(dir, name)))
	require.Eventually(t, func() bool {
		c.Set("b", []byte("2"))
		return c.Stats().Errors == 1
	}, 5*time.Second, 10*time.Millisecond)
	_, ok := c.Get("a")
	require.False(t, ok)
	v, ok := c.Get("b")
	require.True(t, ok)
	require.Equal(t, "2", string(v))
	dataFile(t, dir)
}

// TestCompactionCopiesEveryShape: empty values, values larger than compaction's copy buffer and
// runs of small ones next to each other in the file all survive a compaction, whole.
func TestCompactionCopiesEveryShape(t *testing.T) {
	t.Parallel()
	const limit = 4 << 20
	c, dir := newCache(t, limit)
	want := map[string][]byte{}
	set := func(key string, v []byte) {
		c.Set(key, v)
		want[key] = v
	}
	for i := range 20 {
		set(fmt.Sprint("empty", i), []byte{})
	}
	set("large", valueOf("large", 1, 600<<10))
	for i := range 200 {
		key := fmt.Sprint("small", i)
		set(key, valueOf(key, i, 10+i))
	}
	set("empty-after", nil)
	set("large-after", valueOf("large-after", 2, 300<<10))
	before := c.DataFile()
	// Overwrite one key until compaction starts a new file: all the above is copied.
	for i := 0; c.DataFile() == before; i++ {
		require.Less(t, i, 10000, "no compaction")
		c.Set("churn", valueOf("churn", i, 64<<10))
		c.WaitCompaction()
	}
	requireBounded(t, c, dir)
	for key, v := range want {
		got, ok := c.Get(key)
		require.True(t, ok, key)
		require.Equal(t, len(v), len(got), key)
		require.True(t, bytes.Equal(v, got), key)
	}
	require.Zero(t, c.Stats().Errors)
}
