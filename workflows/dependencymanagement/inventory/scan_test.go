package inventory_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

func loadTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	require.NoError(t, err)
	return files
}

func find(t *testing.T, deps []inventory.Dependency, manifest, name string) inventory.Dependency {
	t.Helper()
	for _, d := range deps {
		if d.Manifest == manifest && d.Name == name {
			return d
		}
	}
	t.Fatalf("no dependency %s in %s", name, manifest)
	return inventory.Dependency{}
}

func TestScanMonorepo(t *testing.T) {
	t.Parallel()
	files := loadTree(t, "testdata/monorepo")
	r := inventory.Scan(files)

	var broken []string
	for _, e := range r.Errors {
		broken = append(broken, e.Path)
	}
	require.Equal(t, []string{"broken/go.mod", "broken/package.json", "broken/pyproject.toml"}, broken)

	count := map[string]int{}
	for _, d := range r.Dependencies {
		count[d.Manifest]++
		require.NotContains(t, d.Manifest, "node_modules/")
		require.NotContains(t, d.Manifest, "vendor/")
		// Every position points at the version string as written.
		if d.Column > 0 {
			got, err := inventory.ReplaceAt(files[d.Manifest], d.Line, d.Column, d.Written(), d.Written())
			require.NoError(t, err, "%s %s at %d:%d", d.Manifest, d.Name, d.Line, d.Column)
			require.Equal(t, files[d.Manifest], got)
		}
	}
	require.Equal(t, map[string]int{
		".github/workflows/ci.yml":       5,
		"actions/setup/action.yml":       1,
		"services/api/go.mod":            6,
		"tools/go.mod":                   2,
		"tools/py/pyproject.toml":        10,
		"tools/py/requirements.txt":      5,
		"tools/py/requirements-base.txt": 2,
		"web/package.json":               6,
		"web/package-lock.json":          9,
		"web/packages/ui/package.json":   2,
	}, count)

	// package.json ranges get the version the lock resolved.
	require.Equal(t, "18.2.0", find(t, r.Dependencies, "web/package.json", "react").Version)
	require.Equal(t, "4.17.21", find(t, r.Dependencies, "web/packages/ui/package.json", "lodash").Version)
	// A workspace dependency the lock hoisted to the root resolves there.
	require.Equal(t, "18.2.0", find(t, r.Dependencies, "web/packages/ui/package.json", "react").Version)
	require.Len(t, r.GoSums["services/api/go.sum"], 5)
	require.True(t, r.GoMods["services/api/go.mod"].Retracted("v1.1.3"))
	require.Equal(t, []inventory.Include{
		{Manifest: "tools/py/requirements.txt", Line: 2, Target: "requirements-base.txt"},
		{Manifest: "tools/py/requirements.txt", Line: 4, Target: "constraints.txt", Constraint: true},
	}, r.Includes)
}

type mapFetcher struct {
	files   map[string][]byte
	fetched []string
}

var errNotFound = errors.New("not found")

func (m *mapFetcher) Fetch(_ context.Context, p string) ([]byte, error) {
	m.fetched = append(m.fetched, p)
	b, ok := m.files[p]
	if !ok {
		return nil, errNotFound
	}
	return b, nil
}

func TestScanTreeFetchesOnlyManifests(t *testing.T) {
	t.Parallel()
	f := &mapFetcher{files: map[string][]byte{
		"go.mod":    []byte("module m\n\nrequire example.com/a v1.0.0\n"),
		"README.md": []byte("# hi"),
	}}
	r, err := inventory.ScanTree(context.Background(),
		[]string{"README.md", "go.mod", "node_modules/x/package.json", "missing/package.json", "main.go"}, f)
	require.NoError(t, err)
	require.Equal(t, []string{"go.mod", "missing/package.json"}, f.fetched)
	require.Len(t, r.Dependencies, 1)
	require.Len(t, r.Errors, 1)
	require.Equal(t, "missing/package.json", r.Errors[0].Path)
	require.ErrorIs(t, r.Errors[0], errNotFound)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = inventory.ScanTree(ctx, []string{"go.mod"}, f)
	require.ErrorIs(t, err, context.Canceled)
}

func TestKind(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]string{
		"go.mod":                          inventory.KindGoMod,
		"a/b/go.sum":                      inventory.KindGoSum,
		"requirements-dev.txt":            inventory.KindRequirements,
		"requirements/base.txt":           "",
		"svc/pyproject.toml":              inventory.KindPyProject,
		".github/workflows/ci.yaml":       inventory.KindWorkflow,
		".github/workflows/sub/ci.yml":    "",
		".github/actions/x/action.yaml":   inventory.KindAction,
		"web/node_modules/a/package.json": "",
		"vendor/github.com/a/go.mod":      "",
		"web/package-lock.json":           inventory.KindPackageLock,
		"docs/workflows/ci.yml":           "",
		"x.github/workflows/ci.yml":       "",
		"svc/.github/workflows/ci.yml":    inventory.KindWorkflow,
	} {
		require.Equal(t, want, inventory.Kind(p), p)
	}
}

func TestScanFollowsIncludes(t *testing.T) {
	t.Parallel()
	f := &mapFetcher{files: map[string][]byte{
		"py/requirements.txt":  []byte("-r ../common/base.txt\nflask==3.0.0\n"),
		"common/base.txt":      []byte("-c pins.txt\nidna==3.6\n"),
		"common/pins.txt":      []byte("urllib3==2.1.0\n-r base.txt\n"),
		"common/unrelated.txt": []byte("nope==1.0\n"),
	}}
	paths := []string{"py/requirements.txt", "common/base.txt", "common/pins.txt", "common/unrelated.txt"}
	r, err := inventory.ScanTree(context.Background(), paths, f)
	require.NoError(t, err)
	var got []string
	for _, d := range r.Dependencies {
		got = append(got, d.Manifest+" "+d.Name+" "+d.Version)
	}
	require.Equal(t, []string{"common/base.txt idna 3.6", "common/pins.txt urllib3 2.1.0", "py/requirements.txt flask 3.0.0"}, got)
	require.Empty(t, r.Errors)
	require.Len(t, f.fetched, 3, "each file fetched once, unrelated.txt never")
}
