package gomod

import (
	"context"
	"fmt"
	"sort"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// graph loads module requirements through the proxy with the main
// module's replace and exclude directives applied. cmd/go's own MVS
// (cmd/go/internal/mvs) is not importable, so this is Algorithm 1 of
// https://research.swtch.com/vgo-mvs over the unpruned graph.
//
// Limits: graph pruning (go ≥ 1.17 modules' go.mod files standing in for
// their dependencies' requirements) is not applied, so every reachable
// go.mod is read and the selection can be higher than cmd/go's pruned
// one — never lower; Resolve then writes the selection into the main
// go.mod, which makes cmd/go agree. Local-directory replacements are not
// followed (their requirements are unknown here) and are reported.
type graph struct {
	proxy      Proxy
	main       *inventory.GoMod
	reqs       map[module.Version][]module.Version
	unresolved []module.Version
}

// target is the module version whose go.mod and zip stand for m: its
// replacement if a replace directive applies (version-specific first), else
// m. local reports a directory replacement.
func (g *graph) target(m module.Version) (t module.Version, local bool) {
	var use *inventory.GoReplace
	for i := range g.main.Replaces {
		r := &g.main.Replaces[i]
		if r.OldPath != m.Path {
			continue
		}
		if r.OldVersion == m.Version {
			use = r
			break
		}
		if r.OldVersion == "" {
			use = r
		}
	}
	if use == nil {
		return m, false
	}
	if use.New.Version == "" {
		return module.Version{Path: use.New.Path}, true
	}
	return module.Version{Path: use.New.Path, Version: use.New.Version}, false
}

// required returns m's requirements from its (replacement's) go.mod,
// without those the main module excludes.
func (g *graph) required(ctx context.Context, m module.Version) ([]module.Version, error) {
	if r, ok := g.reqs[m]; ok {
		return r, nil
	}
	t, local := g.target(m)
	if local {
		g.unresolved = append(g.unresolved, m)
		g.reqs[m] = nil
		return nil, nil
	}
	b, err := g.proxy.Mod(ctx, t.Path, t.Version)
	if err != nil {
		return nil, err
	}
	f, err := modfile.ParseLax(t.Path+"@"+t.Version+"/go.mod", b, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to parse go.mod of %s@%s: %w", t.Path, t.Version, err)
	}
	var out []module.Version
	for _, r := range f.Require {
		if !g.main.Excluded(r.Mod.Path, r.Mod.Version) { // ignored since Go 1.16
			out = append(out, r.Mod)
		}
	}
	g.reqs[m] = out
	return out, nil
}

// buildList runs MVS from the main module's requirements roots: it walks
// every reachable module version, selects the highest version of each
// path, then keeps the paths reachable through selected versions only
// (as cmd/go's mvs.BuildList does). It returns the build list sorted by
// path and every module version whose go.mod was read.
func (g *graph) buildList(ctx context.Context, roots []module.Version) ([]module.Version, []module.Version, error) {
	sel := map[string]string{}
	seen := map[module.Version]bool{}
	var visited []module.Version
	queue := append([]module.Version(nil), roots...)
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		if seen[m] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("failed to resolve module graph: %w", err)
		}
		seen[m] = true
		visited = append(visited, m)
		if v, ok := sel[m.Path]; !ok || semver.Compare(m.Version, v) > 0 {
			sel[m.Path] = m.Version
		}
		reqs, err := g.required(ctx, m)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to resolve module graph: %w", err)
		}
		queue = append(queue, reqs...)
	}
	reached := map[string]bool{}
	var walk []string
	for _, r := range roots {
		walk = append(walk, r.Path)
	}
	for len(walk) > 0 {
		p := walk[0]
		walk = walk[1:]
		if reached[p] {
			continue
		}
		reached[p] = true
		for _, r := range g.reqs[module.Version{Path: p, Version: sel[p]}] {
			walk = append(walk, r.Path)
		}
	}
	list := make([]module.Version, 0, len(reached))
	for p := range reached {
		list = append(list, module.Version{Path: p, Version: sel[p]})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	return list, visited, nil
}
