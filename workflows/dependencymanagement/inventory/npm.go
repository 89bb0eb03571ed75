package inventory

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// npmGroups are the package.json sections that hold dependencies.
var npmGroups = map[string]bool{
	"dependencies": true, "devDependencies": true,
	"optionalDependencies": true, "peerDependencies": true,
}

// exactSemver matches an npm range that pins one version ("1.2.3", "=1.2.3").
var exactSemver = regexp.MustCompile(`^=?v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$`)

// ParsePackageJSON reads the dependency sections of a package.json. Every
// entry is direct; Constraint is the range as written and Version is set
// only when the range pins one exact version (Scan fills it from a lock).
func ParsePackageJSON(path string, src []byte) ([]Dependency, error) {
	strs, err := walkJSONStrings(src)
	if err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	var out []Dependency
	for _, s := range strs {
		if len(s.Path) != 2 || !npmGroups[s.Path[0]] {
			continue
		}
		line, col := position(src, s.Offset)
		if !s.Exact {
			col = 0
		}
		d := Dependency{Ecosystem: EcosystemNPM, Name: s.Path[1], Constraint: s.Value,
			Manifest: path, Line: line, Column: col, Direct: true, Group: s.Path[0],
			Dev: s.Path[0] == "devDependencies", Optional: s.Path[0] == "optionalDependencies"}
		if m := exactSemver.FindStringSubmatch(strings.TrimSpace(s.Value)); m != nil {
			d.Version = m[1]
		}
		out = append(out, d)
	}
	return out, nil
}

type lockEntry struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Link                 bool              `json:"link"`
	Dev                  bool              `json:"dev"`
	Optional             bool              `json:"optional"`
	DevOptional          bool              `json:"devOptional"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
}

func (e lockEntry) declares(name string) bool {
	for _, m := range []map[string]string{e.Dependencies, e.DevDependencies, e.OptionalDependencies, e.PeerDependencies} {
		if _, ok := m[name]; ok {
			return true
		}
	}
	return false
}

// ParsePackageLock reads the "packages" map of a package-lock.json with
// lockfileVersion 2 or 3: one dependency per installed node_modules path
// (nested ones included, workspace links skipped), with its resolved URL and
// integrity. Direct means the root or workspace package declares it.
// Version 1 locks (no "packages" map) fail with ErrUnsupported.
func ParsePackageLock(path string, src []byte) ([]Dependency, error) {
	strs, err := walkJSONStrings(src)
	if err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	var lock struct {
		LockfileVersion int                  `json:"lockfileVersion"`
		Packages        map[string]lockEntry `json:"packages"`
	}
	if err := json.Unmarshal(trimBOM(src), &lock); err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	if lock.LockfileVersion < 2 || lock.Packages == nil {
		return nil, &ParseError{Path: path, Err: fmt.Errorf("lockfileVersion %d: %w", lock.LockfileVersion, ErrUnsupported)}
	}
	var out []Dependency
	byKey := map[string]int{}
	for _, s := range strs {
		if len(s.Path) != 3 || s.Path[0] != "packages" {
			continue
		}
		key := s.Path[1]
		e, ok := lock.Packages[key]
		i := strings.LastIndex(key, "node_modules/")
		if !ok || e.Link || i < 0 {
			continue
		}
		idx, seen := byKey[key]
		if !seen {
			name := key[i+len("node_modules/"):]
			if e.Name != "" {
				name = e.Name
			}
			parent := strings.TrimSuffix(key[:i], "/")
			pe, pok := lock.Packages[parent]
			out = append(out, Dependency{Ecosystem: EcosystemNPM, Name: name, Version: e.Version,
				Manifest: path, Dev: e.Dev, Optional: e.Optional || e.DevOptional, Group: key,
				Direct: pok && !strings.Contains(parent, "node_modules") && pe.declares(key[i+len("node_modules/"):])})
			idx = len(out) - 1
			byKey[key] = idx
		}
		d := &out[idx]
		switch s.Path[2] {
		case "version":
			d.Constraint = s.Value
			d.Line, d.Column = position(src, s.Offset)
			if !s.Exact {
				d.Column = 0
			}
		case "resolved":
			d.Resolved = s.Value
		case "integrity":
			d.Integrity = s.Value
		}
	}
	return out, nil
}

func trimBOM(src []byte) []byte {
	if len(src) >= 3 && src[0] == 0xef && src[1] == 0xbb && src[2] == 0xbf {
		return src[3:]
	}
	return src
}
