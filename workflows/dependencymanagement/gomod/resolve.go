package gomod

import (
	"context"
	"errors"
	"fmt"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Change is one require of the main go.mod whose version the update moves.
type Change struct {
	Path, Old, New string
}

// Result is the outcome of Resolve.
type Result struct {
	// BuildList is the selected version of every module in the build, by
	// path, without the main module.
	BuildList []module.Version
	// Changed are the main go.mod's requires that move (the upgrades and
	// any requirement raised by them).
	Changed []Change
	// Added are build-list modules the main go.mod did not require; for a
	// main module at go ≥ 1.17 they are written as "// indirect" requires.
	Added []module.Version
	// Unresolved are modules replaced by a local directory, whose
	// requirements were not followed.
	Unresolved []module.Version
	// GoMod and GoSum are the edited files.
	GoMod, GoSum []byte
	// NewSums are the lines added to go.sum.
	NewSums []SumLine
}

// ErrDowngrade is returned for an "upgrade" below the required version.
var ErrDowngrade = errors.New("version below the current requirement")

// ErrExcluded is returned for an upgrade to a version the main go.mod excludes.
var ErrExcluded = errors.New("version excluded by the main go.mod")

// Resolve raises the main module's requirements to upgrades, resolves the
// build list by MVS over the proxy's .mod files (see graph for the
// limits), and returns the edited go.mod and go.sum.
//
// go.mod: only the version strings of moved requires change (byte-for-byte
// elsewhere, through inventory.ReplaceAt); Added modules are appended to
// the last require block at go ≥ 1.17. go.sum: existing lines are kept;
// added are the "/go.mod" hashes of every module version whose go.mod the
// resolution read, and — approximating "modules that provide packages",
// which needs the import graph — zip hashes of every build-list module
// whose version changed or that was added. Lines go.sum already has are not
// recomputed.
func Resolve(ctx context.Context, p Proxy, goMod, goSum []byte, upgrades []module.Version) (*Result, error) {
	main, err := inventory.ParseGoMod("go.mod", goMod)
	if err != nil {
		return nil, err
	}
	sums, err := inventory.ParseGoSum("go.sum", goSum)
	if err != nil {
		return nil, err
	}
	roots, err := applyUpgrades(main, upgrades)
	if err != nil {
		return nil, err
	}
	g := &graph{proxy: p, main: main, reqs: map[module.Version][]module.Version{}}
	list, visited, err := g.buildList(ctx, roots)
	if err != nil {
		return nil, err
	}
	res := &Result{BuildList: list, Unresolved: g.unresolved}
	old := map[string]string{}
	for _, d := range main.Dependencies {
		old[d.Name] = d.Version
	}
	var changedOrAdded []module.Version
	for _, m := range list {
		v, ok := old[m.Path]
		switch {
		case !ok:
			res.Added = append(res.Added, m)
			changedOrAdded = append(changedOrAdded, m)
		case v != m.Version:
			res.Changed = append(res.Changed, Change{Path: m.Path, Old: v, New: m.Version})
			changedOrAdded = append(changedOrAdded, m)
		}
	}
	if res.GoMod, err = editGoMod(goMod, main, list, res.Added); err != nil {
		return nil, err
	}
	if res.NewSums, err = missingSums(ctx, g, sums, visited, changedOrAdded); err != nil {
		return nil, err
	}
	res.GoSum = mergeGoSum(goSum, res.NewSums)
	return res, nil
}

// applyUpgrades returns the main module's requirements with upgrades
// applied (and added when not required yet).
func applyUpgrades(main *inventory.GoMod, upgrades []module.Version) ([]module.Version, error) {
	var roots []module.Version
	idx := map[string]int{}
	for _, d := range main.Dependencies {
		if i, ok := idx[d.Name]; ok { // a duplicate require: the higher counts
			if semver.Compare(d.Version, roots[i].Version) > 0 {
				roots[i].Version = d.Version
			}
			continue
		}
		idx[d.Name] = len(roots)
		roots = append(roots, module.Version{Path: d.Name, Version: d.Version})
	}
	for _, u := range upgrades {
		if err := module.Check(u.Path, u.Version); err != nil {
			return nil, fmt.Errorf("failed to upgrade %s: %w", u.Path, err)
		}
		if main.Excluded(u.Path, u.Version) {
			return nil, fmt.Errorf("failed to upgrade %s to %s: %w", u.Path, u.Version, ErrExcluded)
		}
		i, ok := idx[u.Path]
		if !ok {
			idx[u.Path] = len(roots)
			roots = append(roots, u)
			continue
		}
		if semver.Compare(u.Version, roots[i].Version) < 0 {
			return nil, fmt.Errorf("failed to upgrade %s from %s to %s: %w", u.Path, roots[i].Version, u.Version, ErrDowngrade)
		}
		roots[i].Version = u.Version
	}
	return roots, nil
}

// missingSums computes the go.sum lines that sums lacks: go.mod hashes of
// visited module versions, zip hashes of zips (replacements resolved;
// local directories have none).
func missingSums(ctx context.Context, g *graph, sums []inventory.GoSumEntry, visited, zips []module.Version) ([]SumLine, error) {
	have := map[SumLine]bool{}
	for _, e := range sums {
		have[SumLine{Path: e.Module, Version: e.Version, GoMod: e.GoMod}] = true
	}
	var out []SumLine
	add := func(m module.Version, gomod bool) error {
		t, local := g.target(m)
		key := SumLine{Path: t.Path, Version: t.Version, GoMod: gomod}
		if local || have[key] {
			return nil
		}
		have[key] = true
		var l SumLine
		var err error
		if gomod {
			l, err = ModSum(ctx, g.proxy, t.Path, t.Version)
		} else {
			l, err = ZipSum(ctx, g.proxy, t.Path, t.Version)
		}
		if err != nil {
			return fmt.Errorf("failed to compute go.sum line: %w", err)
		}
		out = append(out, l)
		return nil
	}
	for _, m := range visited {
		if err := add(m, true); err != nil {
			return nil, err
		}
	}
	for _, m := range zips {
		if err := add(m, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}
