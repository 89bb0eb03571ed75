//go:build !libc.membrk && !libc.memgrind && linux && (amd64 || arm64 || loong64 || ppc64le || s390x || riscv64 || 386 || arm)

package store

import (
	"fmt"
	"sync"
	_ "unsafe" // go:linkname

	"modernc.org/memory"
)

// The build constraint is mem_musl.go's in modernc.org/libc: on these platforms libc's malloc
// and free are memory.Allocator methods on the package variable allocator, each under the
// mutex allocatorMu (libc_musl.go). libc exports neither, so they are linked by name here;
// vettedLibc names the version this was read against.

//go:linkname libcAllocator modernc.org/libc.allocator
var libcAllocator memory.Allocator

//go:linkname libcAllocatorMu modernc.org/libc.allocatorMu
var libcAllocatorMu sync.Mutex

const libcAllocatorLinked = true

// trimLibcAllocator unmaps the empty regions libc's allocator keeps (memory.Allocator.Trim),
// holding the lock its malloc and free take.
func trimLibcAllocator() error {
	libcAllocatorMu.Lock()
	defer libcAllocatorMu.Unlock()
	if err := libcAllocator.Trim(); err != nil {
		return fmt.Errorf("failed to trim SQLite's allocator: %w", err)
	}
	return nil
}
