//go:build !libc.membrk && !libc.memgrind && linux && (amd64 || arm64 || loong64 || ppc64le || s390x || riscv64 || 386 || arm)

package store

import (
	"os"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
	"golang.org/x/sys/unix"
	"modernc.org/libc"
)

// TestTrimSQLiteAllocatorIsVetted: the libc built in is the version TrimSQLiteAllocator was
// read against (go.mod names it), so the trim is on. A bump of modernc.org/libc fails here
// until sqlitealloc_libc.go is checked against the new version and vettedLibc follows.
func TestTrimSQLiteAllocatorIsVetted(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	f, err := modfile.Parse("go.mod", mod, nil)
	require.NoError(t, err)
	var version string
	for _, r := range f.Require {
		if r.Mod.Path == "modernc.org/libc" {
			version = r.Mod.Version
		}
	}
	for _, r := range f.Replace {
		require.NotEqual(t, "modernc.org/libc", r.Old.Path, "a replaced libc is not the vetted one")
	}
	require.Equal(t, vettedLibc, version, "go.mod's modernc.org/libc")
	ok, err := TrimSQLiteAllocator()
	require.NoError(t, err)
	require.True(t, ok)
}

// TestTrimSQLiteAllocatorUnmapsFreedRegions: a large block SQLite's malloc handed out and took
// back stays mapped and resident in libc's pool; after the trim its pages are gone (mincore
// finds the range unmapped). Not parallel: another test's malloc of the same size could take
// the block out of the pool in between.
func TestTrimSQLiteAllocatorUnmapsFreedRegions(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()
	const size = 3 << 20 // a region of its own (above the allocator's 16 KiB slots), 4 MiB
	p := libc.Xmalloc(tls, size)
	require.NotZero(t, p)
	libc.Xmemset(tls, p, 1, size) // resident
	start := p &^ uintptr(os.Getpagesize()-1)
	pages := func() (resident int, err error) {
		vec := make([]byte, (size+os.Getpagesize())/os.Getpagesize())
		if _, _, e := unix.Syscall(unix.SYS_MINCORE, start, uintptr(len(vec)*os.Getpagesize()), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
			err = e
		}
		for _, v := range vec {
			resident += int(v & 1)
		}
		return resident, err
	}
	libc.Xfree(tls, p)
	before, err := pages()
	require.NoError(t, err, "the freed block is still mapped, in the pool")
	require.Greater(t, before, size/os.Getpagesize()/2, "the freed block is still resident")

	ok, err := TrimSQLiteAllocator()
	require.NoError(t, err)
	require.True(t, ok)

	_, err = pages()
	require.ErrorIs(t, err, unix.ENOMEM, "the trimmed block is unmapped")
}
