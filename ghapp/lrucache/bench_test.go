package lrucache_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/contexten/autonomous/ghapp/lrucache"
)

// BenchmarkCache measures a mix of 3 gets to 1 set of 8 KB values in a 16 MiB cache (so sets
// evict), from parallel goroutines; the sets go to 2,500 distinct keys and the gets to the 7,500
// others, so every get is a miss (hit% says so): it measures the sets. The values are in a data
// file of a temporary directory (the test machine's disk, through the page cache):
//
//	go test -run '^$' -bench Cache -benchmem ./ghapp/lrucache
//
// cpu-ns/op is the process's CPU time (user and system, compactions and GC included) per
// operation: on a shared machine it moves less than ns/op, which counts the waits for a CPU.
func BenchmarkCache(b *testing.B) {
	c := newBenchCache(b)
	keys := benchKeys(10000)
	value := make([]byte, 8192)
	b.ReportAllocs()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			key := keys[(i*7919)%len(keys)]
			if i%4 == 0 {
				c.Set(key, value)
			} else {
				c.Get(key)
			}
		}
	})
	reportStats(b, c, start)
}

// BenchmarkCacheSet measures sets alone of 8 KB values to 2,500 keys in a 16 MiB cache (so they
// evict, and the data file is compacted), from parallel goroutines.
func BenchmarkCacheSet(b *testing.B) {
	c := newBenchCache(b)
	keys := benchKeys(2500)
	value := make([]byte, 8192)
	b.ReportAllocs()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			c.Set(keys[(i*7919)%len(keys)], value)
		}
	})
	reportStats(b, c, start)
}

// BenchmarkCacheGetHit measures gets of 8 KB values that are all in the cache (1,000 keys, 8 MB
// in a 16 MiB cache), from parallel goroutines.
func BenchmarkCacheGetHit(b *testing.B) {
	c := newBenchCache(b)
	keys := benchKeys(1000)
	value := make([]byte, 8192)
	for _, key := range keys {
		c.Set(key, value)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, ok := c.Get(keys[(i*7919)%len(keys)]); !ok {
				b.Error("miss")
				return
			}
		}
	})
	reportStats(b, c, start)
}

func newBenchCache(b *testing.B) *lrucache.Cache {
	c, err := lrucache.New(b.TempDir(), 16<<20)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "https://api.github.com/repos/octo/app/actions/runs/" + strconv.Itoa(1e9+i)
	}
	return keys
}

func reportStats(b *testing.B, c *lrucache.Cache, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	s := c.Stats()
	b.ReportMetric(float64(s.Bytes)/(1<<20), "MiB-held")
	if s.Hits+s.Misses > 0 {
		b.ReportMetric(100*float64(s.Hits)/float64(s.Hits+s.Misses), "hit%")
	}
}
