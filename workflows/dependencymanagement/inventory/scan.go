package inventory

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Manifest kinds recognised by Kind.
const (
	KindGoMod        = "go.mod"
	KindGoSum        = "go.sum"
	KindPackageJSON  = "package.json"
	KindPackageLock  = "package-lock.json"
	KindRequirements = "requirements.txt"
	KindPyProject    = "pyproject.toml"
	KindWorkflow     = "workflow"
	KindAction       = "action.yml"
)

// skippedDirs are directories whose manifests belong to vendored or
// installed code, not to the repository.
var skippedDirs = map[string]bool{"node_modules": true, "vendor": true, ".git": true}

// Kind returns the manifest kind of a repository path ("" for none):
// go.mod, go.sum, package.json, package-lock.json, requirements*.txt,
// pyproject.toml at any depth, .github/workflows/*.yml|yaml, and
// action.yml|yaml. Paths under node_modules/, vendor/ or .git/ are none.
func Kind(p string) string {
	dir, base := path.Split(p)
	for _, d := range strings.Split(strings.Trim(dir, "/"), "/") {
		if skippedDirs[d] {
			return ""
		}
	}
	switch {
	case base == "go.mod", base == "go.sum", base == "package.json", base == "package-lock.json", base == "pyproject.toml":
		return base
	case strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt"):
		return KindRequirements
	case base == "action.yml" || base == "action.yaml":
		return KindAction
	case (dir == ".github/workflows/" || strings.HasSuffix(dir, "/.github/workflows/")) &&
		(strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml")):
		return KindWorkflow
	}
	return ""
}

// Result is the inventory of a set of files.
type Result struct {
	Dependencies []Dependency
	GoSums       map[string][]GoSumEntry // by go.sum path
	GoMods       map[string]*GoMod       // by go.mod path
	Includes     []Include               // requirements "-r"/"-c" lines
	Errors       []*ParseError           // one per file that failed; the rest still scanned
}

// Scan parses every manifest among files (path -> content); files that are
// not manifests are ignored. A file that fails to parse adds a ParseError
// and the scan goes on. package.json ranges get their exact Version from
// the nearest package-lock.json above them that lists the package.
// Dependencies are sorted by manifest, line and column.
func Scan(files map[string][]byte) *Result {
	r := &Result{GoSums: map[string][]GoSumEntry{}, GoMods: map[string]*GoMod{}}
	locks := map[string][]Dependency{} // lock dir -> entries
	for p, src := range files {
		var deps []Dependency
		var err error
		switch Kind(p) {
		case KindGoMod:
			var m *GoMod
			if m, err = ParseGoMod(p, src); err == nil {
				r.GoMods[p], deps = m, m.Dependencies
			}
		case KindGoSum:
			var s []GoSumEntry
			if s, err = ParseGoSum(p, src); err == nil {
				r.GoSums[p] = s
			}
		case KindPackageJSON:
			deps, err = ParsePackageJSON(p, src)
		case KindPackageLock:
			if deps, err = ParsePackageLock(p, src); err == nil {
				locks[path.Dir(p)] = deps
			}
		case KindRequirements:
			var incs []Include
			deps, incs = ParseRequirements(p, src)
			r.Includes = append(r.Includes, incs...)
		case KindPyProject:
			deps, err = ParsePyProject(p, src)
		case KindWorkflow, KindAction:
			deps, err = ParseWorkflow(p, src)
		}
		if err != nil {
			r.Errors = append(r.Errors, asParseError(p, err))
			continue
		}
		r.Dependencies = append(r.Dependencies, deps...)
	}
	r.followIncludes(files)
	for i := range r.Dependencies {
		d := &r.Dependencies[i]
		if d.Ecosystem == EcosystemNPM && d.Version == "" && Kind(d.Manifest) == KindPackageJSON {
			d.Version = lockedVersion(locks, path.Dir(d.Manifest), d.Name)
		}
	}
	sort.SliceStable(r.Dependencies, func(i, j int) bool {
		a, b := r.Dependencies[i], r.Dependencies[j]
		if a.Manifest != b.Manifest {
			return a.Manifest < b.Manifest
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	sort.Slice(r.Errors, func(i, j int) bool { return r.Errors[i].Path < r.Errors[j].Path })
	sort.SliceStable(r.Includes, func(i, j int) bool { return r.Includes[i].Manifest < r.Includes[j].Manifest })
	return r
}

// followIncludes parses the files that requirements "-r"/"-c" lines name
// when they are among files but not named like requirements*.txt
// ("-r base.txt"), transitively and once each.
func (r *Result) followIncludes(files map[string][]byte) {
	done := map[string]bool{}
	for i := 0; i < len(r.Includes); i++ {
		t := IncludePath(r.Includes[i])
		src, ok := files[t]
		if !ok || done[t] || Kind(t) == KindRequirements {
			continue
		}
		done[t] = true
		deps, incs := ParseRequirements(t, src)
		r.Dependencies = append(r.Dependencies, deps...)
		r.Includes = append(r.Includes, incs...)
	}
}

// IncludePath is the repository path an include names, relative to its
// manifest's directory.
func IncludePath(inc Include) string {
	return path.Join(path.Dir(inc.Manifest), inc.Target)
}

func asParseError(p string, err error) *ParseError {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe
	}
	return &ParseError{Path: p, Err: err}
}

// lockedVersion looks for name in the nearest package-lock.json at or above
// dir: first at the workspace's own node_modules, then hoisted to the root.
func lockedVersion(locks map[string][]Dependency, dir, name string) string {
	for lockDir := dir; ; lockDir = path.Dir(lockDir) {
		if entries, ok := locks[lockDir]; ok {
			rel := strings.TrimPrefix(strings.TrimPrefix(dir, lockDir), "/")
			want := []string{"node_modules/" + name}
			if rel != "" && lockDir != dir {
				want = []string{rel + "/node_modules/" + name, "node_modules/" + name}
			}
			for _, w := range want {
				for _, e := range entries {
					if e.Group == w {
						return e.Version
					}
				}
			}
			return ""
		}
		if lockDir == "." || lockDir == "/" {
			return ""
		}
	}
}

// Fetcher reads one file of the scanned tree.
type Fetcher interface {
	Fetch(ctx context.Context, path string) ([]byte, error)
}

// ScanTree fetches every manifest among paths (a tree listing) through f and
// scans them. A fetch failure is a ParseError for that path; the context's
// own error stops the scan.
func ScanTree(ctx context.Context, paths []string, f Fetcher) (*Result, error) {
	files := map[string][]byte{}
	listed := map[string]bool{}
	var fetchErrs []*ParseError
	fetch := func(p string) error {
		src, err := f.Fetch(ctx, p)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("failed to fetch manifests: %w", ctxErr)
		}
		if err != nil {
			fetchErrs = append(fetchErrs, &ParseError{Path: p, Err: fmt.Errorf("failed to fetch manifest: %w", err)})
		} else {
			files[p] = src
		}
		return nil
	}
	for _, p := range paths {
		listed[p] = true
		if Kind(p) != "" {
			if err := fetch(p); err != nil {
				return nil, err
			}
		}
	}
	r := Scan(files)
	// Fetch included requirement files with other names, then scan again.
	for more := true; more; {
		more = false
		for _, inc := range r.Includes {
			if t := IncludePath(inc); listed[t] && files[t] == nil {
				if err := fetch(t); err != nil {
					return nil, err
				}
				listed[t], more = false, true
			}
		}
		if more {
			r = Scan(files)
		}
	}
	r.Errors = append(r.Errors, fetchErrs...)
	sort.Slice(r.Errors, func(i, j int) bool { return r.Errors[i].Path < r.Errors[j].Path })
	return r, nil
}
