//go:build libc.membrk || libc.memgrind || !linux || !(amd64 || arm64 || loong64 || ppc64le || s390x || riscv64 || 386 || arm)

package store

// libc uses another allocator here (sqlitealloc_libc.go): there is nothing to trim.
const libcAllocatorLinked = false

func trimLibcAllocator() error { return nil }
