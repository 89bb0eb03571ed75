package lrucache_test

import (
	"strconv"
	"testing"

	"github.com/contexten/autonomous/ghapp/lrucache"
)

// BenchmarkCache measures a mix of 3 gets to 1 set (over 2,500 distinct keys) of 8 KB values in
// a 16 MiB cache (so sets evict), from parallel goroutines:
//
//	go test -run '^$' -bench Cache -benchmem ./ghapp/lrucache
func BenchmarkCache(b *testing.B) {
	c := lrucache.New(16 << 20)
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = "https://api.github.com/repos/octo/app/actions/runs/" + strconv.Itoa(1e9+i)
	}
	value := make([]byte, 8192)
	b.ReportAllocs()
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
	s := c.Stats()
	b.ReportMetric(float64(s.Bytes)/(1<<20), "MiB-held")
}
