//go:build unix

package lrucache

import (
	"os"
	"syscall"
)

// unlinked reports whether f's file has no name left: removed behind the cache's back (an error
// to stat it, such as f closed meanwhile, says no).
func unlinked(f *os.File) bool {
	info, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
