package dependencymanagement

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/mod/module"

	"github.com/contexten/autonomous/workflows/dependencymanagement/gomod"
	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
)

// NPMDocs reads npm package documents (*registry.NPM).
type NPMDocs interface {
	Package(ctx context.Context, name string) (*registry.NPMPackage, error)
}

// Editor computes the file changes of a group from a snapshot.
type Editor struct {
	Snap  *Snapshot
	Proxy gomod.Proxy // the Go module proxy (*registry.GoProxy)
	NPM   NPMDocs
}

// Changes are a group's new file contents and the updates that could not be written.
type Changes struct {
	Files   map[string][]byte
	Applied []Update
	Blocked []Skipped
	// GoSums are the go.sum lines added, by go.sum path.
	GoSums map[string][]gomod.SumLine
}

// BlockedError is an update that cannot be written correctly; Reason says why (for example
// "needs lock regeneration: ...").
type BlockedError struct{ Reason string }

func (e *BlockedError) Error() string { return e.Reason }

func blocked(format string, args ...any) error {
	return &BlockedError{Reason: fmt.Sprintf(format, args...)}
}

// NeedsLock is the reason prefix of an update whose lock file cannot be updated exactly.
const NeedsLock = "needs lock regeneration"

// Apply edits the files for every update of g. An update that cannot be written exactly is
// left out (Blocked) and its edits undone; other errors (a registry failure) are returned.
func (e *Editor) Apply(ctx context.Context, g Group) (*Changes, error) {
	ch := &Changes{Files: map[string][]byte{}, GoSums: map[string][]gomod.SumLine{}}
	read := func(p string) ([]byte, bool) {
		if b, ok := ch.Files[p]; ok {
			return b, true
		}
		return e.Snap.File(p)
	}
	// Go: one resolution per go.mod with every upgrade of the group it requires.
	goUps := map[string][]module.Version{}
	goUpdates := map[string][]Update{}
	for _, u := range g.Updates {
		if u.Ecosystem != inventory.EcosystemGo {
			continue
		}
		for _, s := range u.Sites {
			goUps[s.Manifest] = append(goUps[s.Manifest], module.Version{Path: u.Name, Version: u.To})
			goUpdates[s.Manifest] = append(goUpdates[s.Manifest], u)
		}
	}
	goMods := sortedKeys(goUps)
	goFailed := map[string]string{} // update key -> reason
	for _, modPath := range goMods {
		src, _ := read(modPath)
		sumPath := path.Join(path.Dir(modPath), "go.sum")
		sum, _ := read(sumPath)
		res, err := gomod.Resolve(ctx, e.Proxy, src, sum, goUps[modPath])
		if err != nil {
			var he *registry.HTTPError
			if errors.As(err, &he) && he.Retryable() || ctx.Err() != nil {
				return nil, err
			}
			for _, u := range goUpdates[modPath] {
				goFailed[u.Key()] = fmt.Sprintf("%s: %v", modPath, err)
			}
			continue
		}
		ch.Files[modPath], ch.Files[sumPath] = res.GoMod, res.GoSum
		ch.GoSums[sumPath] = res.NewSums
	}
	for _, u := range g.Updates {
		if u.Ecosystem == inventory.EcosystemGo {
			if r, bad := goFailed[u.Key()]; bad {
				ch.Blocked = append(ch.Blocked, Skipped{Update: u, Reason: r})
			} else {
				ch.Applied = append(ch.Applied, u)
			}
			continue
		}
		saved := maps.Clone(ch.Files)
		err := e.applyOne(ctx, u, read, ch.Files)
		var be *BlockedError
		switch {
		case errors.As(err, &be):
			ch.Files = saved
			ch.Blocked = append(ch.Blocked, Skipped{Update: u, Reason: be.Reason})
		case err != nil:
			return nil, err
		default:
			ch.Applied = append(ch.Applied, u)
		}
	}
	for p, b := range ch.Files {
		if orig, ok := e.Snap.File(p); ok && bytes.Equal(orig, b) {
			delete(ch.Files, p)
		}
	}
	return ch, nil
}

// applyOne writes one non-Go update at each of its sites.
func (e *Editor) applyOne(ctx context.Context, u Update, read func(string) ([]byte, bool), files map[string][]byte) error {
	sites := append([]inventory.Dependency(nil), u.Sites...)
	// Later positions first, so earlier ones stay valid within a line.
	sort.SliceStable(sites, func(i, j int) bool {
		if sites[i].Line != sites[j].Line {
			return sites[i].Line > sites[j].Line
		}
		return sites[i].Column > sites[j].Column
	})
	for _, s := range sites {
		src, ok := read(s.Manifest)
		if !ok {
			return blocked("%s was not read", s.Manifest)
		}
		var out []byte
		var err error
		switch u.Ecosystem {
		case inventory.EcosystemPyPI:
			out, err = editPython(e.Snap, s, u, src)
		case inventory.EcosystemGitHubActions:
			out, err = editAction(s, u, src)
		case inventory.EcosystemNPM:
			out, err = e.editNPM(ctx, s, u, src, read, files)
		default:
			err = blocked("unsupported ecosystem %s", u.Ecosystem)
		}
		if err != nil {
			return err
		}
		files[s.Manifest] = out
	}
	return nil
}

func editPython(snap *Snapshot, s inventory.Dependency, u Update, src []byte) ([]byte, error) {
	if len(s.Hashes) > 0 {
		return nil, blocked("%s: %s is pinned with --hash: %s", s.Manifest, u.Name, NeedsLock)
	}
	dir := path.Dir(s.Manifest)
	for _, lock := range []string{"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"} {
		if snap.Has(path.Join(dir, lock)) {
			return nil, blocked("%s: %s beside it pins %s: %s", s.Manifest, lock, u.Name, NeedsLock)
		}
	}
	out, err := inventory.ReplaceAt(src, s.Line, s.Column, u.From, u.To)
	if err != nil {
		return nil, blocked("%s: %v", s.Manifest, err)
	}
	return out, nil
}

func editAction(s inventory.Dependency, u Update, src []byte) ([]byte, error) {
	ref := s.Action
	if ref.RefKind != inventory.RefSHA {
		out, err := inventory.ReplaceAt(src, s.Line, s.Column, ref.Ref, u.To)
		if err != nil {
			return nil, blocked("%s: %v", s.Manifest, err)
		}
		return out, nil
	}
	// Pinned by SHA with a version comment: the release's commit and its tag in the comment.
	if u.Release.SHA == "" {
		return nil, blocked("%s: the commit of %s@%s is unknown", s.Manifest, u.Name, u.To)
	}
	out, err := inventory.ReplaceAt(src, s.Line, s.Column, ref.Ref, u.Release.SHA)
	if err != nil {
		return nil, blocked("%s: %v", s.Manifest, err)
	}
	lines := bytes.SplitAfter(out, []byte("\n"))
	line := lines[s.Line-1]
	hash := bytes.IndexByte(line[s.Column-1+len(u.Release.SHA):], '#')
	if hash < 0 {
		return nil, blocked("%s:%d: version comment not found", s.Manifest, s.Line)
	}
	at := s.Column - 1 + len(u.Release.SHA) + hash
	i := bytes.Index(line[at:], []byte(u.From))
	if i < 0 {
		return nil, blocked("%s:%d: version comment does not name %s", s.Manifest, s.Line, u.From)
	}
	return inventory.ReplaceAt(out, s.Line, at+i+1, u.From, u.To)
}

// simpleRange is an npm range this package rewrites: an optional operator and one version.
var simpleRange = regexp.MustCompile(`^(\^|~|>=|=)?(v?)(\d+\.\d+\.\d+)$`)

// newRange is the package.json range after an update to version to.
func newRange(constraint, to string) (string, error) {
	if m := simpleRange.FindStringSubmatch(constraint); m != nil {
		return m[1] + m[2] + to, nil
	}
	if ok, err := registry.Satisfies(constraint, to); err == nil && ok {
		return constraint, nil
	}
	return "", blocked("range %q cannot be rewritten for %s", constraint, to)
}

// editNPM rewrites a package.json range and the lock entry beside it (version, resolved,
// integrity) from the registry, when the new version's own dependencies are the old one's
// and every dependent in the lock accepts it; otherwise the update needs lock regeneration.
func (e *Editor) editNPM(ctx context.Context, s inventory.Dependency, u Update, src []byte, read func(string) ([]byte, bool), files map[string][]byte) ([]byte, error) {
	rng, err := newRange(s.Constraint, u.To)
	if err != nil {
		return nil, err
	}
	out := src
	if rng != s.Constraint {
		if out, err = inventory.ReplaceAt(src, s.Line, s.Column, s.Constraint, rng); err != nil {
			return nil, blocked("%s: %v", s.Manifest, err)
		}
	}
	dir := path.Dir(s.Manifest)
	lockPath, lockDir := "", ""
	for d := dir; ; d = path.Dir(d) {
		p := path.Join(d, "package-lock.json")
		if e.Snap.Has(p) {
			lockPath, lockDir = p, d
			break
		}
		if d == "." || d == "/" {
			break
		}
	}
	if lockPath == "" {
		return out, nil
	}
	lock, ok := read(lockPath)
	if !ok {
		return nil, blocked("%s was not read: %s", lockPath, NeedsLock)
	}
	edited, err := e.editLock(ctx, lock, lockPath, lockDir, dir, s, u, rng)
	if err != nil {
		return nil, err
	}
	files[lockPath] = edited
	return out, nil
}

type lockDoc struct {
	Packages     map[string]lockPkg `json:"packages"`
	Dependencies map[string]any     `json:"dependencies"`
}

type lockPkg struct {
	Version              string            `json:"version"`
	Link                 bool              `json:"link"`
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
}

func (e *Editor) editLock(ctx context.Context, lock []byte, lockPath, lockDir, pkgDir string, s inventory.Dependency, u Update, rng string) ([]byte, error) {
	var doc lockDoc
	if err := json.Unmarshal(lock, &doc); err != nil {
		return nil, blocked("%s: %v: %s", lockPath, err, NeedsLock)
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(pkgDir, lockDir), "/")
	if pkgDir == lockDir {
		rel = ""
	}
	key := "node_modules/" + u.Name
	if rel != "" {
		if _, ok := doc.Packages[rel+"/node_modules/"+u.Name]; ok {
			key = rel + "/node_modules/" + u.Name
		}
	}
	entry, ok := doc.Packages[key]
	if !ok || entry.Version != u.From {
		return nil, blocked("%s has no entry %s at %s: %s", lockPath, key, u.From, NeedsLock)
	}
	if _, legacy := doc.Dependencies[u.Name]; legacy || (rel != "" && len(doc.Dependencies) > 0) {
		return nil, blocked("%s keeps a lockfileVersion 1 \"dependencies\" section: %s", lockPath, NeedsLock)
	}
	pkg, err := e.NPM.Package(ctx, u.Name)
	if err != nil {
		return nil, err
	}
	nv, ok := pkg.Versions[u.To]
	if !ok || nv.Dist.Integrity == "" || nv.Dist.Tarball == "" {
		return nil, blocked("the registry has no tarball and integrity for %s@%s: %s", u.Name, u.To, NeedsLock)
	}
	if !sameDeps(entry.OptionalDependencies, nv.OptionalDependencies) || !sameDeps(entry.PeerDependencies, nv.PeerDependencies) {
		return nil, blocked("%s@%s has other optional or peer dependencies than %s: %s", u.Name, u.To, u.From, NeedsLock)
	}
	newDeps := !sameDeps(entry.Dependencies, nv.Dependencies)
	if newDeps {
		if err := depsSatisfied(doc.Packages, key, u, entry.Dependencies, nv.Dependencies); err != nil {
			return nil, err
		}
	}
	// Every other package that resolves u.Name to this entry must accept the new version.
	owner := strings.TrimSuffix(strings.TrimSuffix(key, "node_modules/"+u.Name), "/")
	for p, e := range doc.Packages {
		if p == owner || p == rel || e.Link {
			continue
		}
		for _, m := range []map[string]string{e.Dependencies, e.OptionalDependencies, e.PeerDependencies} {
			want, ok := m[u.Name]
			if !ok || resolvesElsewhere(doc.Packages, p, u.Name, key) {
				continue
			}
			if ok, err := registry.Satisfies(want, u.To); err != nil || !ok {
				return nil, blocked("%s needs %s %s, which %s does not meet: %s", lockName(p), u.Name, want, u.To, NeedsLock)
			}
		}
	}
	objects := map[string]span{}
	spans, err := spans(lock, objects)
	if err != nil {
		return nil, blocked("%s: %v: %s", lockPath, err, NeedsLock)
	}
	var edits []edit
	if newDeps {
		// The entry's own dependencies become the new version's, written as npm writes them.
		sp, ok := objects[jsonPath("packages", key, "dependencies")]
		if !ok || len(nv.Dependencies) == 0 {
			return nil, blocked("%s@%s adds or drops its whole dependency list: %s", u.Name, u.To, NeedsLock)
		}
		edits = append(edits, edit{span: sp, repl: renderDeps(lock, sp.start, nv.Dependencies)})
	}
	set := func(p string, v string, required bool) error {
		sp, ok := spans[p]
		if !ok {
			if required {
				return blocked("%s: %s not found: %s", lockPath, strings.ReplaceAll(p, "\x00", "."), NeedsLock)
			}
			return nil
		}
		edits = append(edits, edit{span: sp, repl: quoteJSON(v)})
		return nil
	}
	for _, f := range []struct{ field, value string }{{"version", u.To}, {"resolved", nv.Dist.Tarball}, {"integrity", nv.Dist.Integrity}} {
		if err := set(jsonPath("packages", key, f.field), f.value, f.field == "version"); err != nil {
			return nil, err
		}
	}
	if s.Group != "" && rng != s.Constraint {
		if err := set(jsonPath("packages", rel, s.Group, u.Name), rng, false); err != nil {
			return nil, err
		}
	}
	return applyEdits(lock, edits)
}

// resolvesElsewhere reports whether a package at p finds name in a node_modules nearer than
// key (Node's resolution walks up from p).
func resolvesElsewhere(pkgs map[string]lockPkg, p, name, key string) bool {
	for d := p; d != ""; {
		cand := d + "/node_modules/" + name
		if cand == key {
			return false
		}
		if _, ok := pkgs[cand]; ok {
			return true
		}
		i := strings.LastIndex(d, "/node_modules/")
		if i < 0 {
			break
		}
		d = d[:i]
	}
	return false
}

// depsSatisfied checks that every dependency of the new version resolves, from the entry at
// key, to a lock entry that meets its range, and that no package the old version needed is
// left in the lock with nothing needing it.
func depsSatisfied(pkgs map[string]lockPkg, key string, u Update, old, deps map[string]string) error {
	for dep, want := range deps {
		found := resolveIn(pkgs, key, dep)
		if found == "" {
			return blocked("%s@%s needs %s, which the lock does not have: %s", u.Name, u.To, dep, NeedsLock)
		}
		if ok, err := registry.Satisfies(want, pkgs[found].Version); err != nil || !ok {
			return blocked("%s@%s needs %s %s, the lock has %s: %s", u.Name, u.To, dep, want, pkgs[found].Version, NeedsLock)
		}
	}
	for dep := range old {
		if _, still := deps[dep]; still {
			continue
		}
		needed := false
		for p, e := range pkgs {
			if p == key {
				continue
			}
			for _, m := range []map[string]string{e.Dependencies, e.OptionalDependencies, e.PeerDependencies, e.DevDependencies} {
				if _, ok := m[dep]; ok {
					needed = true
				}
			}
		}
		if !needed {
			return blocked("%s@%s no longer needs %s, which would stay in the lock: %s", u.Name, u.To, dep, NeedsLock)
		}
	}
	return nil
}

// resolveIn is the lock entry Node's resolution finds for dep from the package at key: the
// nearest node_modules/dep walking up, then the root's.
func resolveIn(pkgs map[string]lockPkg, key, dep string) string {
	for d := key; ; {
		if cand := d + "/node_modules/" + dep; pkgs[cand].Version != "" {
			return cand
		}
		i := strings.LastIndex(d, "/node_modules/")
		if i < 0 {
			break
		}
		d = d[:i]
	}
	if pkgs["node_modules/"+dep].Version != "" {
		return "node_modules/" + dep
	}
	return ""
}

// renderDeps writes a dependencies object as npm does: keys sorted, two more spaces than the
// line the object starts on.
func renderDeps(src []byte, start int, deps map[string]string) string {
	lineStart := bytes.LastIndexByte(src[:start], '\n') + 1
	indent := string(src[lineStart : lineStart+len(src[lineStart:start])-len(bytes.TrimLeft(src[lineStart:start], " \t"))])
	nl := "\n"
	if lineStart > 1 && src[lineStart-2] == '\r' {
		nl = "\r\n"
	}
	var b strings.Builder
	b.WriteString("{" + nl)
	keys := sortedKeys(deps)
	for i, k := range keys {
		b.WriteString(indent + "  " + quoteJSON(k) + ": " + quoteJSON(deps[k]))
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString(nl)
	}
	b.WriteString(indent + "}")
	return b.String()
}

func lockName(p string) string {
	if p == "" {
		return "the root package"
	}
	return p
}

func sameDeps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
