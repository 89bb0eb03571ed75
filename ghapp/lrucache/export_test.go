package lrucache

import (
	"os"
	"strings"
	"time"
)

// MinCompactBytes is the size below which a data file is never compacted.
const MinCompactBytes = minCompactBytes

// IsDataFile reports whether name is that of a data file.
func IsDataFile(name string) bool { return strings.HasPrefix(name, dataPrefix) && isValueName(name) }

// WaitCompaction returns once no compaction runs (call it while no Set runs).
func (c *Cache) WaitCompaction() {
	for {
		c.mu.Lock()
		busy := c.compacting
		c.mu.Unlock()
		if !busy {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// CheckLinksAlways makes every Set of c look whether its data file was removed (call it before c
// is used concurrently).
func (c *Cache) CheckLinksAlways() { c.linkCheckEvery = 0 }

// SetCreate replaces how c opens its new data files (call it before c is used concurrently).
func (c *Cache) SetCreate(create func(path string) (*os.File, error)) {
	c.openMu.Lock()
	defer c.openMu.Unlock()
	c.create = create
}

// DataFile is the path of c's current data file, or "" while it has none.
func (c *Cache) DataFile() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return ""
	}
	return c.cur.path
}
