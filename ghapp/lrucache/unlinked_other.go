//go:build !unix

package lrucache

import "os"

// unlinked says no where the link count is not known: a data file removed behind the cache's
// back is then noticed only when its directory is (a compaction that cannot create a file).
func unlinked(*os.File) bool { return false }
