package inventory

import (
	"bytes"
	"fmt"
	"strconv"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// GoMod is a parsed go.mod file.
type GoMod struct {
	Module       string
	Go           string
	Dependencies []Dependency // one per require line
	Excludes     []GoModDirective
	Replaces     []GoReplace
	Retracts     []GoRetract
}

// GoModDirective is a module@version named by an exclude directive.
type GoModDirective struct {
	Path, Version string
	Line, Column  int // of Version
}

// GoReplace is one replace directive; OldVersion is empty when it replaces
// every version of OldPath.
type GoReplace struct {
	OldPath, OldVersion string
	New                 Replacement
}

// GoRetract is one retract directive: Low..High inclusive (equal for one
// version).
type GoRetract struct {
	Low, High, Rationale string
	Line                 int
}

// ParseGoMod parses a go.mod file with golang.org/x/mod/modfile. Requires
// become dependencies (direct unless marked "// indirect"), with the replace
// directive that applies to them attached.
func ParseGoMod(path string, src []byte) (*GoMod, error) {
	f, err := modfile.Parse(path, src, nil)
	if err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	out := &GoMod{}
	if f.Module != nil {
		out.Module = f.Module.Mod.Path
	}
	if f.Go != nil {
		out.Go = f.Go.Version
	}
	for _, r := range f.Replace {
		rep := GoReplace{OldPath: r.Old.Path, OldVersion: r.Old.Version,
			New: Replacement{Path: r.New.Path, Version: r.New.Version, Line: r.Syntax.Start.Line}}
		if r.New.Version != "" {
			rep.New.Line, rep.New.Column = tokenPos(src, r.Syntax, len(r.Syntax.Token)-1)
		}
		out.Replaces = append(out.Replaces, rep)
	}
	for _, r := range f.Require {
		line, col := tokenPos(src, r.Syntax, len(r.Syntax.Token)-1)
		d := Dependency{Ecosystem: EcosystemGo, Name: r.Mod.Path, Version: r.Mod.Version,
			Constraint: r.Mod.Version, Manifest: path, Line: line, Column: col,
			Direct: !r.Indirect, Group: "require"}
		d.Replace = out.replacementFor(r.Mod.Path, r.Mod.Version)
		out.Dependencies = append(out.Dependencies, d)
	}
	for _, x := range f.Exclude {
		line, col := tokenPos(src, x.Syntax, len(x.Syntax.Token)-1)
		out.Excludes = append(out.Excludes, GoModDirective{Path: x.Mod.Path, Version: x.Mod.Version, Line: line, Column: col})
	}
	for _, r := range f.Retract {
		out.Retracts = append(out.Retracts, GoRetract{Low: r.Low, High: r.High, Rationale: r.Rationale, Line: r.Syntax.Start.Line})
	}
	return out, nil
}

// replacementFor returns the replace directive that applies to path@version:
// a version-specific one wins over a path-wide one, as in cmd/go.
func (m *GoMod) replacementFor(path, version string) *Replacement {
	var wide *Replacement
	for i := range m.Replaces {
		r := &m.Replaces[i]
		if r.OldPath != path {
			continue
		}
		if r.OldVersion == version {
			return &r.New
		}
		if r.OldVersion == "" {
			wide = &r.New
		}
	}
	return wide
}

// Excluded reports whether an exclude directive names path@version.
func (m *GoMod) Excluded(path, version string) bool {
	for _, x := range m.Excludes {
		if x.Path == path && x.Version == version {
			return true
		}
	}
	return false
}

// Retracted reports whether version falls in one of the module's retract
// directives (read from the go.mod of the module's latest version, as
// cmd/go does).
func (m *GoMod) Retracted(version string) bool {
	for _, r := range m.Retracts {
		if semver.Compare(r.Low, version) <= 0 && semver.Compare(version, r.High) <= 0 {
			return true
		}
	}
	return false
}

// tokenPos returns the position of token i of a modfile line, found by
// walking the raw tokens through the source from the line's start. A quoted
// token's position is that of its first byte inside the quotes.
func tokenPos(src []byte, l *modfile.Line, i int) (int, int) {
	off := l.Start.Byte
	for j := 0; j <= i && j < len(l.Token); j++ {
		k := bytes.Index(src[off:], []byte(l.Token[j]))
		if k < 0 {
			return l.Start.Line, 0
		}
		off += k
		if j < i {
			off += len(l.Token[j])
		}
	}
	if tok := l.Token[i]; len(tok) > 0 && (tok[0] == '"' || tok[0] == '`') {
		if _, err := strconv.Unquote(tok); err == nil {
			off++
		}
	}
	return position(src, off)
}

// GoSumEntry is one line of a go.sum file.
type GoSumEntry struct {
	Module  string
	Version string // without the "/go.mod" suffix
	GoMod   bool   // the line hashes only the module's go.mod file
	Hash    string // "h1:..."
	Line    int
}

// ParseGoSum reads go.sum lines "<module> <version>[/go.mod] <hash>".
// Blank lines are skipped; any other shape is an error with its line.
func ParseGoSum(path string, src []byte) ([]GoSumEntry, error) {
	var out []GoSumEntry
	for n, raw := range bytes.Split(src, []byte{'\n'}) {
		f := bytes.Fields(raw)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, &ParseError{Path: path, Line: n + 1, Err: fmt.Errorf("want 3 fields, found %d", len(f))}
		}
		e := GoSumEntry{Module: string(f[0]), Version: string(f[1]), Hash: string(f[2]), Line: n + 1}
		if v, ok := bytes.CutSuffix(f[1], []byte("/go.mod")); ok {
			e.Version, e.GoMod = string(v), true
		}
		if !semver.IsValid(e.Version) || !bytes.Contains(f[2], []byte(":")) {
			return nil, &ParseError{Path: path, Line: n + 1, Err: fmt.Errorf("invalid version or hash in %q", bytes.TrimSpace(raw))}
		}
		out = append(out, e)
	}
	return out, nil
}
