// Package gomod computes the go.mod and go.sum changes of a Go dependency
// update from the module proxy alone: go.sum h1: hashes of module zips and
// go.mod files (as the go command computes them), and the build list after
// the bump by minimal version selection over the proxy's .mod files.
package gomod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// Proxy is what this package needs from a module proxy;
// *registry.GoProxy provides it.
type Proxy interface {
	// Mod returns the go.mod file of path@version.
	Mod(ctx context.Context, path, version string) ([]byte, error)
	// Zip returns the module zip of path@version.
	Zip(ctx context.Context, path, version string) ([]byte, error)
}

// ModHash is the h1: hash of a go.mod file as go.sum records it on a
// "<module> <version>/go.mod" line: dirhash.Hash1 over the single file
// "go.mod" (what cmd/go's modfetch does).
func ModHash(gomod []byte) (string, error) {
	h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gomod)), nil
	})
	if err != nil {
		return "", fmt.Errorf("failed to hash go.mod: %w", err)
	}
	return h, nil
}

// ZipHash checks a module zip as the go command does before extracting it
// (file names under "<module>@<version>/", sizes, case collisions; see
// golang.org/x/mod/zip.CheckZip) and returns its h1: hash
// (dirhash.HashZip), the "<module> <version>" line of go.sum.
func ZipHash(m module.Version, data []byte) (string, error) {
	f, err := os.CreateTemp("", "gomod-*.zip")
	if err != nil {
		return "", fmt.Errorf("failed to create temporary zip: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		return "", fmt.Errorf("failed to write temporary zip: %w", errors.Join(werr, cerr))
	}
	if _, err := zip.CheckZip(m, f.Name()); err != nil {
		return "", fmt.Errorf("failed to check zip of %s@%s: %w", m.Path, m.Version, err)
	}
	h, err := dirhash.HashZip(f.Name(), dirhash.Hash1)
	if err != nil {
		return "", fmt.Errorf("failed to hash zip of %s@%s: %w", m.Path, m.Version, err)
	}
	return h, nil
}

// SumLine is one go.sum line.
type SumLine struct {
	Path, Version string
	GoMod         bool // the "/go.mod" line
	Hash          string
}

// String is the line as go.sum writes it, without the newline.
func (l SumLine) String() string {
	v := l.Version
	if l.GoMod {
		v += "/go.mod"
	}
	return l.Path + " " + v + " " + l.Hash
}

// ModSum fetches path@version's go.mod from the proxy and returns its go.sum line.
func ModSum(ctx context.Context, p Proxy, path, version string) (SumLine, error) {
	b, err := p.Mod(ctx, path, version)
	if err != nil {
		return SumLine{}, err
	}
	h, err := ModHash(b)
	if err != nil {
		return SumLine{}, err
	}
	return SumLine{Path: path, Version: version, GoMod: true, Hash: h}, nil
}

// ZipSum fetches path@version's zip from the proxy and returns its go.sum line.
func ZipSum(ctx context.Context, p Proxy, path, version string) (SumLine, error) {
	b, err := p.Zip(ctx, path, version)
	if err != nil {
		return SumLine{}, err
	}
	h, err := ZipHash(module.Version{Path: path, Version: version}, b)
	if err != nil {
		return SumLine{}, err
	}
	return SumLine{Path: path, Version: version, Hash: h}, nil
}
