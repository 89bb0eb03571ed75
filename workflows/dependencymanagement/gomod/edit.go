package gomod

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// editGoMod writes the selected versions into the main go.mod's requires
// with inventory.ReplaceAt (every other byte kept) and, for a go ≥ 1.17
// main module, appends the added modules as "// indirect" requires to the
// last require block (a new block at the end when there is none).
func editGoMod(src []byte, main *inventory.GoMod, list, added []module.Version) ([]byte, error) {
	sel := map[string]string{}
	for _, m := range list {
		sel[m.Path] = m.Version
	}
	out := src
	for _, d := range main.Dependencies {
		nv, ok := sel[d.Name]
		if !ok || nv == d.Version {
			continue
		}
		if d.Column == 0 {
			return nil, fmt.Errorf("failed to edit go.mod: position of %s %s unknown", d.Name, d.Version)
		}
		var err error
		if out, err = inventory.ReplaceAt(out, d.Line, d.Column, d.Version, nv); err != nil {
			return nil, fmt.Errorf("failed to edit go.mod: %w", err)
		}
	}
	if len(added) == 0 || main.Go == "" || semver.Compare("v"+main.Go, "v1.17") < 0 {
		return out, nil
	}
	return insertRequires(out, added)
}

// insertRequires adds "path version // indirect" lines after the last
// line of the last require block, indented like it.
func insertRequires(src []byte, mods []module.Version) ([]byte, error) {
	f, err := modfile.Parse("go.mod", src, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to parse edited go.mod: %w", err)
	}
	nl := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		nl = "\r\n"
	}
	last := 0
	for _, r := range f.Require {
		if r.Syntax.InBlock && r.Syntax.End.Line > last {
			last = r.Syntax.End.Line
		}
	}
	if last == 0 {
		var b strings.Builder
		if len(src) > 0 && !bytes.HasSuffix(src, []byte("\n")) {
			b.WriteString(nl)
		}
		b.WriteString(nl + "require (" + nl)
		for _, m := range mods {
			b.WriteString("\t" + m.Path + " " + m.Version + " // indirect" + nl)
		}
		b.WriteString(")" + nl)
		return append(append([]byte(nil), src...), b.String()...), nil
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	indent := "\t"
	if l := lines[last-1]; len(l) > 0 {
		indent = string(l[:len(l)-len(bytes.TrimLeft(l, " \t"))])
	}
	var b strings.Builder
	for _, m := range mods {
		b.WriteString(indent + m.Path + " " + m.Version + " // indirect" + nl)
	}
	out := make([]byte, 0, len(src)+b.Len())
	for i, l := range lines {
		out = append(out, l...)
		if i == last-1 {
			if !bytes.HasSuffix(l, []byte("\n")) {
				out = append(out, nl...)
			}
			out = append(out, b.String()...)
		}
	}
	return out, nil
}

// sumLess orders go.sum lines as cmd/go writes them: by path, by semver,
// the zip line before the go.mod line.
func sumLess(a, b SumLine) bool {
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	if c := semver.Compare(a.Version, b.Version); c != 0 {
		return c < 0
	}
	return !a.GoMod && b.GoMod
}

// mergeGoSum inserts lines into src before the first existing line that
// sorts after each, keeping every existing byte and line order.
func mergeGoSum(src []byte, add []SumLine) []byte {
	if len(add) == 0 {
		return src
	}
	add = append([]SumLine(nil), add...)
	sort.SliceStable(add, func(i, j int) bool { return sumLess(add[i], add[j]) })
	nl := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		nl = "\r\n"
	}
	var out []byte
	for _, l := range bytes.SplitAfter(src, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		if f := strings.Fields(string(l)); len(f) == 3 {
			v, gm := strings.CutSuffix(f[1], "/go.mod")
			cur := SumLine{Path: f[0], Version: v, GoMod: gm}
			for len(add) > 0 && sumLess(add[0], cur) {
				out = append(out, add[0].String()+nl...)
				add = add[1:]
			}
		}
		out = append(out, l...)
		if !bytes.HasSuffix(l, []byte("\n")) {
			out = append(out, nl...)
		}
	}
	for _, a := range add {
		out = append(out, a.String()+nl...)
	}
	return out
}
