package gomod

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/module"

	"github.com/contexten/autonomous/workflows/dependencymanagement/gomod/gomodtest"
)

// diamond builds: b requires a v1.0.0 and c v1.1.0; a v1.1.0 requires
// c v1.2.0 and the new module d (and imports it); c v1.0.0 (reached only
// through a v1.0.0) requires e.
func diamond(t *testing.T) *gomodtest.Proxy {
	p := &gomodtest.Proxy{}
	p.AddMod(t, "example.com/a", "v1.0.0", "example.com/c@v1.0.0")
	p.Add(t, "example.com/a", "v1.1.0",
		"module example.com/a\n\ngo 1.21\n\nrequire (\n\texample.com/c v1.2.0\n\texample.com/d v1.0.0\n)\n",
		map[string]string{"a.go": "package a\n\nimport \"example.com/d\"\n\nconst V = d.V\n"})
	p.AddMod(t, "example.com/b", "v1.0.0", "example.com/a@v1.0.0", "example.com/c@v1.1.0")
	p.AddMod(t, "example.com/c", "v1.0.0", "example.com/e@v1.0.0")
	p.AddMod(t, "example.com/c", "v1.1.0")
	p.AddMod(t, "example.com/c", "v1.2.0")
	p.AddMod(t, "example.com/d", "v1.0.0")
	p.AddMod(t, "example.com/e", "v1.0.0")
	p.AddMod(t, "example.com/dfork", "v1.0.1", "example.com/e@v1.0.0")
	return p
}

const mainGoMod = `module example.com/main

go 1.21

// Direct dependencies; comments and spacing must survive.
require (
	example.com/a   v1.0.0 // pinned by hand
	example.com/b v1.0.0
)

require example.com/c v1.1.0 // indirect
`

const mainGo = "package main\n\nimport (\n\t\"example.com/a\"\n\t\"example.com/b\"\n)\n\nfunc main() { println(a.V, b.V) }\n"

func TestResolveDiamondMatchesGoCommand(t *testing.T) {
	t.Parallel()
	p := diamond(t)
	srv := p.Start(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mainGoMod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainGo), 0o644))
	// The starting go.sum is what the real go command writes.
	out, err := goCommand(t, srv.URL, dir, "-mod=mod")("mod", "download", "all")
	require.NoError(t, err, out)
	out, err = goCommand(t, srv.URL, dir, "-mod=mod")("build", "./...")
	require.NoError(t, err, out)
	goSum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	require.NoError(t, err)
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	require.Equal(t, mainGoMod, string(goMod))

	res, err := Resolve(context.Background(), registry.NewGoProxy(srv.URL, srv.Client(), 0), goMod, goSum,
		[]module.Version{{Path: "example.com/a", Version: "v1.1.0"}})
	require.NoError(t, err)
	require.Equal(t, []module.Version{
		{Path: "example.com/a", Version: "v1.1.0"}, {Path: "example.com/b", Version: "v1.0.0"},
		{Path: "example.com/c", Version: "v1.2.0"}, {Path: "example.com/d", Version: "v1.0.0"},
	}, res.BuildList) // e only hangs off c v1.0.0, which is not selected
	require.Equal(t, []Change{{"example.com/a", "v1.0.0", "v1.1.0"}, {"example.com/c", "v1.1.0", "v1.2.0"}}, res.Changed)
	require.Equal(t, []module.Version{{Path: "example.com/d", Version: "v1.0.0"}}, res.Added)
	want := strings.NewReplacer("a   v1.0.0", "a   v1.1.0", "c v1.1.0", "c v1.2.0").Replace(mainGoMod)
	// d goes after the last line of the last require block.
	want = strings.Replace(want, "\texample.com/b v1.0.0\n", "\texample.com/b v1.0.0\n\texample.com/d v1.0.0 // indirect\n", 1)
	require.Equal(t, want, string(res.GoMod))
	require.Greater(t, len(res.GoSum), len(goSum))
	for _, l := range strings.Split(strings.TrimSpace(string(goSum)), "\n") {
		require.Contains(t, string(res.GoSum), l+"\n") // nothing removed
	}

	// The real go command accepts the result without changing it.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), res.GoMod, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), res.GoSum, 0o644))
	run := goCommand(t, srv.URL, dir, "-mod=readonly")
	out, err = run("build", "./...")
	require.NoError(t, err, out)
	out, err = run("mod", "verify")
	require.NoError(t, err, out)
	out, err = run("list", "-m", "all")
	require.NoError(t, err, out)
	require.Equal(t, "example.com/main\nexample.com/a v1.1.0\nexample.com/b v1.0.0\nexample.com/c v1.2.0\nexample.com/d v1.0.0\n", out)
	after, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	require.NoError(t, err)
	require.Equal(t, string(res.GoSum), string(after))
}

func TestResolveReplaceExcludeAndErrors(t *testing.T) {
	t.Parallel()
	p := diamond(t)
	srv := p.Start(t)
	gp := registry.NewGoProxy(srv.URL, srv.Client(), 0)
	ctx := context.Background()
	up := []module.Version{{Path: "example.com/a", Version: "v1.1.0"}}

	// Excluding c v1.2.0 drops a v1.1.0's requirement on it; d is replaced
	// by a fork whose go.mod (and hashes) are used instead.
	goMod := mainGoMod + "\nexclude example.com/c v1.2.0\n\nreplace example.com/d => example.com/dfork v1.0.1\n"
	res, err := Resolve(ctx, gp, []byte(goMod), nil, up)
	require.NoError(t, err)
	require.Equal(t, []module.Version{
		{Path: "example.com/a", Version: "v1.1.0"}, {Path: "example.com/b", Version: "v1.0.0"},
		{Path: "example.com/c", Version: "v1.1.0"}, {Path: "example.com/d", Version: "v1.0.0"},
		{Path: "example.com/e", Version: "v1.0.0"},
	}, res.BuildList)
	var lines []string
	for _, l := range res.NewSums {
		lines = append(lines, l.Path+" "+l.Version+map[bool]string{true: "/go.mod"}[l.GoMod])
	}
	require.Contains(t, lines, "example.com/dfork v1.0.1/go.mod")
	require.Contains(t, lines, "example.com/dfork v1.0.1")
	require.NotContains(t, lines, "example.com/d v1.0.0")
	require.NotContains(t, lines, "example.com/c v1.2.0/go.mod")
	require.NotContains(t, p.Requests(), "/example.com/c/@v/v1.2.0.mod")

	// A local replacement is not followed and is reported.
	res, err = Resolve(ctx, gp, []byte(mainGoMod+"\nreplace example.com/b => ../b\n"), nil, up)
	require.NoError(t, err)
	require.Equal(t, []module.Version{{Path: "example.com/b", Version: "v1.0.0"}}, res.Unresolved)

	_, err = Resolve(ctx, gp, []byte(mainGoMod), nil, []module.Version{{Path: "example.com/a", Version: "v0.9.0"}})
	require.ErrorIs(t, err, ErrDowngrade)
	_, err = Resolve(ctx, gp, []byte(mainGoMod+"exclude example.com/a v1.1.0\n"), nil, up)
	require.ErrorIs(t, err, ErrExcluded)
	_, err = Resolve(ctx, gp, []byte(mainGoMod), nil, []module.Version{{Path: "example.com/a", Version: "v1.9.0"}})
	var he *registry.HTTPError
	require.True(t, errors.As(err, &he))
	require.True(t, he.NotFound())
	_, err = Resolve(ctx, gp, []byte(mainGoMod), nil, []module.Version{{Path: "example.com/a", Version: "v2.0.0"}})
	require.Error(t, err) // v2 needs the /v2 path
	require.False(t, errors.As(err, &he))
	_, err = Resolve(ctx, gp, []byte("module x\nrequire (\n"), nil, up)
	require.Error(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Resolve(cctx, registry.NewGoProxy(srv.URL, srv.Client(), 0), []byte(mainGoMod), nil, up)
	require.ErrorIs(t, err, context.Canceled)
}
