package inventory

import (
	"regexp"
	"strings"
	"unicode"
)

// Include is a "-r" or "-c" line of a requirements file.
type Include struct {
	Manifest   string `json:"manifest"`
	Line       int    `json:"line"`
	Target     string `json:"target"`     // as written, relative to Manifest's directory
	Constraint bool   `json:"constraint"` // -c rather than -r
}

// pep508 splits "name[extras] specifier ; marker".
var pep508 = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(?:;\s*(.*?))?\s*$`)

// pinSpec is a specifier that pins one version: "==1.0" or "===1.0".
var pinSpec = regexp.MustCompile(`^\(?\s*===?\s*([^\s,;()*]+)\s*\)?$`)

// requirement is one parsed PEP 508 requirement, Offset relative to its text.
type requirement struct {
	Name, Spec, Version, Marker string
	Extras                      []string
	Offset                      int // of Version when set, else of Spec; -1 when neither
}

// parseRequirement parses a PEP 508 requirement without URL forms; ok is
// false for anything that is not "name[extras] spec ; marker".
func parseRequirement(s string) (requirement, bool) {
	head, _, _ := strings.Cut(s, ";")
	if strings.ContainsAny(head, "@/") {
		return requirement{}, false // direct reference: name @ url
	}
	m := pep508.FindStringSubmatchIndex(s)
	if m == nil {
		return requirement{}, false
	}
	r := requirement{Name: s[m[2]:m[3]], Offset: -1}
	if m[6] < m[7] && !strings.ContainsRune("(<>=!~", rune(s[m[6]])) {
		return requirement{}, false // "pkg#x==1": pip keeps the "#" and rejects the line
	}
	if m[4] >= 0 {
		for _, e := range strings.Split(strings.Trim(s[m[4]:m[5]], "[]"), ",") {
			if e = strings.TrimSpace(e); e != "" {
				r.Extras = append(r.Extras, e)
			}
		}
	}
	if m[6] < m[7] {
		r.Spec, r.Offset = s[m[6]:m[7]], m[6]
		if p := pinSpec.FindStringSubmatchIndex(r.Spec); p != nil {
			r.Version, r.Offset = r.Spec[p[2]:p[3]], m[6]+p[2]
		}
	}
	if m[8] >= 0 {
		r.Marker = s[m[8]:m[9]]
	}
	return r, true
}

// ParseRequirements reads a pip requirements file: one dependency per
// requirement line (Version set for "==" pins), "--hash" options collected,
// environment markers and extras kept, "-r"/"-c" includes returned
// separately, editable, URL and index lines skipped. Lines continued with a
// trailing backslash are joined; positions stay those of the source.
func ParseRequirements(path string, src []byte) ([]Dependency, []Include) {
	var deps []Dependency
	var incs []Include
	lines := strings.SplitAfter(string(src), "\n")
	offset := 0
	for i := 0; i < len(lines); i++ {
		first := i
		var sb strings.Builder
		var offs []int
		for {
			l := strings.TrimRight(lines[i], "\r\n")
			cont := strings.HasSuffix(l, `\`)
			if cont {
				l = l[:len(l)-1]
			}
			for k := range len(l) {
				offs = append(offs, offset+k)
			}
			sb.WriteString(l)
			offset += len(lines[i])
			if !cont || i+1 >= len(lines) {
				break
			}
			i++
		}
		text, offs := stripComment(sb.String(), offs)
		lead := len(text) - len(strings.TrimLeftFunc(text, unicode.IsSpace)) // as TrimSpace trims
		body := strings.TrimSpace(text)
		if body == "" {
			continue
		}
		if strings.HasPrefix(body, "-") {
			if inc, ok := includeLine(body); ok {
				inc.Manifest, inc.Line = path, first+1
				incs = append(incs, inc)
			}
			continue
		}
		reqText, hashes := splitOptions(body)
		r, ok := parseRequirement(reqText)
		if !ok {
			continue
		}
		d := Dependency{Ecosystem: EcosystemPyPI, Name: r.Name, Version: r.Version, Constraint: r.Spec,
			Manifest: path, Direct: true, Extras: r.Extras, Marker: r.Marker, Hashes: hashes, Line: first + 1}
		// The written version must be contiguous in the source, not split
		// across a backslash continuation, to be editable in place.
		if w := d.Written(); r.Offset >= 0 && !strings.ContainsRune(w, '\r') &&
			offs[lead+r.Offset+len(w)-1]-offs[lead+r.Offset] == len(w)-1 {
			d.Line, d.Column = position(src, offs[lead+r.Offset])
		}
		deps = append(deps, d)
	}
	return deps, incs
}

// stripComment drops a "#" comment that starts the line or follows a blank.
func stripComment(s string, offs []int) (string, []int) {
	for i := range len(s) {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i], offs[:i]
		}
	}
	return s, offs
}

func includeLine(body string) (Include, bool) {
	for _, p := range []struct {
		prefix     string
		constraint bool
	}{{"--requirement", false}, {"-r", false}, {"--constraint", true}, {"-c", true}} {
		if rest, ok := strings.CutPrefix(body, p.prefix); ok {
			rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
			if rest != "" && !strings.HasPrefix(rest, "-") {
				return Include{Target: rest, Constraint: p.constraint}, true
			}
		}
	}
	return Include{}, false
}

// splitOptions separates per-requirement options ("--hash=sha256:...")
// from the requirement text.
func splitOptions(body string) (string, []string) {
	i := strings.Index(body, " --")
	if j := strings.Index(body, "\t--"); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 0 {
		return body, nil
	}
	var hashes []string
	f := strings.Fields(body[i:])
	for k := 0; k < len(f); k++ {
		if h, ok := strings.CutPrefix(f[k], "--hash="); ok {
			hashes = append(hashes, h)
		} else if f[k] == "--hash" && k+1 < len(f) {
			hashes = append(hashes, f[k+1])
			k++
		}
	}
	return strings.TrimRight(body[:i], " \t"), hashes
}
