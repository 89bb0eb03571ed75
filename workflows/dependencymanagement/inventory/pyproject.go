package inventory

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlLeaf is a string or boolean value with its full key path and, for a
// single-line string, the source offset of its first content byte (-1 else).
type tomlLeaf struct {
	Path   []string
	Value  string
	Bool   bool
	IsBool bool
	Offset int
	Raw    int // offset of the value's first byte (its quote)
}

// walkTOML validates src with go-toml/v2 and returns its string and boolean
// leaves from go-toml's own parser, which keeps every value's byte range.
func walkTOML(src []byte) ([]tomlLeaf, error) {
	var doc map[string]any
	if err := toml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	var p unstable.Parser
	p.Reset(src)
	var out []tomlLeaf
	var cur []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			cur = keyParts(e.Key())
		case unstable.KeyValue:
			out = appendLeaves(out, src, append(slices.Clone(cur), keyParts(e.Key())...), e.Value())
		}
	}
	return out, p.Error()
}

func keyParts(it unstable.Iterator) []string {
	var k []string
	for it.Next() {
		k = append(k, string(it.Node().Data))
	}
	return k
}

func appendLeaves(out []tomlLeaf, src []byte, path []string, n *unstable.Node) []tomlLeaf {
	switch n.Kind {
	case unstable.String:
		off := -1
		raw := src[n.Raw.Offset : n.Raw.Offset+n.Raw.Length]
		if len(raw) >= 2 && !strings.HasPrefix(string(raw), `"""`) && !strings.HasPrefix(string(raw), "'''") &&
			string(raw[1:len(raw)-1]) == string(n.Data) {
			off = int(n.Raw.Offset) + 1
		}
		out = append(out, tomlLeaf{Path: path, Value: string(n.Data), Offset: off, Raw: int(n.Raw.Offset)})
	case unstable.Bool:
		out = append(out, tomlLeaf{Path: path, Bool: string(n.Data) == "true", IsBool: true, Offset: -1})
	case unstable.Array:
		it := n.Children()
		for it.Next() {
			out = appendLeaves(out, src, path, it.Node())
		}
	case unstable.InlineTable:
		it := n.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind == unstable.KeyValue {
				out = appendLeaves(out, src, append(slices.Clone(path), keyParts(kv.Key())...), kv.Value())
			}
		}
	}
	return out
}

// devGroups are extra and group names that hold development-only tools.
var devGroups = map[string]bool{"dev": true, "develop": true, "development": true, "test": true,
	"tests": true, "testing": true, "lint": true, "docs": true, "doc": true, "typing": true}

// poetryExact is a Poetry constraint that pins one version ("2.31.0", "==2.31.0").
var poetryExact = regexp.MustCompile(`^(?:==?\s*)?(\d+(?:\.\d+)*(?:[A-Za-z0-9.+!-]*)?)$`)

// ParsePyProject reads a pyproject.toml: PEP 621 [project] dependencies and
// optional-dependencies, PEP 735 [dependency-groups], and Poetry's
// [tool.poetry.dependencies], group and dev-dependencies tables (string or
// table form; "python" skipped). Dev is set for dependency groups, Poetry
// groups other than main, and extras named like dev, test, lint or docs.
func ParsePyProject(path string, src []byte) ([]Dependency, error) {
	leaves, err := walkTOML(src)
	if err != nil {
		pe := &ParseError{Path: path, Err: err}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			pe.Line, _ = de.Position()
		}
		return nil, pe
	}
	var out []Dependency
	poetry := map[string]int{} // path key of a poetry dependency -> index in out
	for _, l := range leaves {
		p := l.Path
		switch {
		case !l.IsBool && len(p) == 2 && p[0] == "project" && p[1] == "dependencies":
			out = appendPEP508(out, path, src, l, "dependencies", false, false)
		case !l.IsBool && len(p) == 3 && p[0] == "project" && p[1] == "optional-dependencies":
			out = appendPEP508(out, path, src, l, p[2], true, devGroups[p[2]])
		case !l.IsBool && len(p) == 2 && p[0] == "dependency-groups":
			out = appendPEP508(out, path, src, l, p[1], false, true)
		default:
			group, name, field, ok := poetryPath(p)
			if !ok || strings.EqualFold(name, "python") {
				continue
			}
			key := group + "\x00" + name
			i, seen := poetry[key]
			if !seen {
				out = append(out, Dependency{Ecosystem: EcosystemPyPI, Name: name, Manifest: path,
					Direct: true, Group: group, Dev: group != "main"})
				i = len(out) - 1
				poetry[key] = i
			}
			d := &out[i]
			switch {
			case field == "version" && !l.IsBool:
				d.Constraint = l.Value
				off := l.Offset
				if m := poetryExact.FindStringSubmatchIndex(l.Value); m != nil {
					d.Version = l.Value[m[2]:m[3]]
					if off >= 0 {
						off += m[2]
					}
				}
				d.Line, _ = position(src, l.Raw)
				if off >= 0 {
					d.Line, d.Column = position(src, off)
				}
			case field == "optional" && l.IsBool:
				d.Optional = l.Bool
			case field == "extras" && !l.IsBool:
				d.Extras = append(d.Extras, l.Value)
			case field == "markers" && !l.IsBool:
				d.Marker = l.Value
			}
		}
	}
	return out, nil
}

// poetryPath recognises tool.poetry.[group.<g>.]dependencies.<name>[.<field>]
// and tool.poetry.dev-dependencies.<name>[.<field>]; a bare string value is
// the version field.
func poetryPath(p []string) (group, name, field string, ok bool) {
	if len(p) < 4 || p[0] != "tool" || p[1] != "poetry" {
		return "", "", "", false
	}
	rest := p[2:]
	switch {
	case rest[0] == "dependencies":
		group, rest = "main", rest[1:]
	case rest[0] == "dev-dependencies":
		group, rest = "dev", rest[1:]
	case rest[0] == "group" && len(rest) >= 4 && rest[2] == "dependencies":
		group, rest = rest[1], rest[3:]
	default:
		return "", "", "", false
	}
	switch len(rest) {
	case 1:
		return group, rest[0], "version", true
	case 2:
		return group, rest[0], rest[1], true
	}
	return "", "", "", false
}

func appendPEP508(out []Dependency, path string, src []byte, l tomlLeaf, group string, optional, dev bool) []Dependency {
	r, ok := parseRequirement(l.Value)
	if !ok {
		return out
	}
	d := Dependency{Ecosystem: EcosystemPyPI, Name: r.Name, Version: r.Version, Constraint: r.Spec,
		Manifest: path, Direct: true, Group: group, Optional: optional, Dev: dev, Extras: r.Extras, Marker: r.Marker}
	d.Line, _ = position(src, l.Raw)
	if l.Offset >= 0 {
		if r.Offset >= 0 {
			d.Line, d.Column = position(src, l.Offset+r.Offset)
		}
	}
	return append(out, d)
}
