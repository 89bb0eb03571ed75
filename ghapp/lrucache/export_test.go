package lrucache

import "encoding/hex"

// FileName is the name of key's file in c's directory.
func (c *Cache) FileName(key string) string {
	sum := c.sum(key)
	return hex.EncodeToString(sum[:])
}
