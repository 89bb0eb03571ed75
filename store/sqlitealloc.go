package store

import (
	"runtime/debug"
	"sync"
)

// vettedLibc is the modernc.org/libc version whose allocator TrimSQLiteAllocator reaches into
// (sqlitealloc_libc.go). Another version may have moved or retyped the two variables it links
// to, which the linker would not notice: TrimSQLiteAllocator then does nothing, and
// TestTrimSQLiteAllocatorIsVetted fails until the new version's libc_musl.go and mem_musl.go
// were read again and this constant moved.
const vettedLibc = "v1.80.1"

// libcVetted reports whether the modernc.org/libc built in is vettedLibc, as far as the build
// says: a binary lists its modules' versions (a replaced libc counts as another version); a test
// binary lists none, and TestTrimSQLiteAllocatorIsVetted checks go.mod's instead.
var libcVetted = sync.OnceValue(func() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, dep := range info.Deps {
		if dep.Path == "modernc.org/libc" {
			return dep.Replace == nil && dep.Version == vettedLibc
		}
	}
	return len(info.Deps) == 0
})

// TrimSQLiteAllocator hands back to the OS the memory that SQLite freed but its C allocator
// keeps for reuse, and reports whether it could. SQLite (modernc.org/sqlite) allocates through
// modernc.org/libc, whose allocator (modernc.org/memory) keeps empty regions mapped and up to
// 4 MiB of them resident per region size, without a time limit. After a load that pool was
// about 7 MB of an idle server's RSS, more than SQLite still used (measured: 4 MB in use,
// 21 MB at the peak), and nothing else gives it back: libc does not export its allocator, and
// closing SQLite's connections only fills the pool. Call it when the server is idle, after
// SQLite freed what it could (ReleaseMemory); the next allocations map fresh regions.
//
// It is a no-op (false) where libc uses another allocator and when the binary's libc is not
// vettedLibc.
func TrimSQLiteAllocator() (bool, error) {
	if !libcAllocatorLinked || !libcVetted() {
		return false, nil
	}
	return true, trimLibcAllocator()
}
