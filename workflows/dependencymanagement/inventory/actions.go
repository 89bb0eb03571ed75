package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Ref kinds of an action reference.
const (
	RefSHA    = "sha"    // a full 40-hex commit SHA
	RefTag    = "tag"    // looks like a version: v4, v4.1.0, 1.2
	RefBranch = "branch" // anything else (main, master, release/v1)
)

// ActionRef is the parsed form of a step's or job's "uses:" value.
type ActionRef struct {
	Owner, Repo string
	Path        string // sub-directory of the action or reusable workflow file
	Ref         string
	RefKind     string
	// Comment is the line comment after the value without "#", e.g.
	// "v4.1.0" after a SHA pin.
	Comment string
	Job     string
	Step    int // 0-based step index; -1 for a job-level reusable workflow
}

var (
	fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)
	tagLike = regexp.MustCompile(`^v?\d+(\.\d+)*([-.+][0-9A-Za-z.-]+)?$`)
)

// RefKindOf classifies an action ref as RefSHA, RefTag or RefBranch.
func RefKindOf(ref string) string {
	switch {
	case fullSHA.MatchString(ref):
		return RefSHA
	case tagLike.MatchString(ref):
		return RefTag
	}
	return RefBranch
}

// ParseWorkflow reads the "uses:" references of a workflow file
// (jobs.<id>.uses and jobs.<id>.steps[].uses) or, when the file is an
// action.yml, of a composite action (runs.steps[].uses). Local ("./") and
// docker:// references are skipped. Name is "owner/repo", as OSV's GitHub
// Actions ecosystem names packages; Line and Column locate the ref.
func ParseWorkflow(path string, src []byte) ([]Dependency, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &ParseError{Path: path, Line: root.Line, Err: fmt.Errorf("document is not a mapping")}
	}
	var out []Dependency
	if runs := mapValue(root, "runs"); runs != nil {
		out = appendSteps(out, path, src, "", mapValue(runs, "steps"))
	}
	jobs := mapValue(root, "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode {
		return out, nil
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		job, body := jobs.Content[i].Value, jobs.Content[i+1]
		if u := mapValue(body, "uses"); u != nil {
			if d, ok := actionDependency(path, src, u, job, -1); ok {
				out = append(out, d)
			}
		}
		out = appendSteps(out, path, src, job, mapValue(body, "steps"))
	}
	return out, nil
}

func appendSteps(out []Dependency, path string, src []byte, job string, steps *yaml.Node) []Dependency {
	if steps == nil || steps.Kind != yaml.SequenceNode {
		return out
	}
	for i, s := range steps.Content {
		if u := mapValue(s, "uses"); u != nil {
			if d, ok := actionDependency(path, src, u, job, i); ok {
				out = append(out, d)
			}
		}
	}
	return out
}

// mapValue returns the value node of key in a mapping node, or nil.
// An alias is followed one level (steps: *common), to the anchored node.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

func actionDependency(path string, src []byte, u *yaml.Node, job string, step int) (Dependency, bool) {
	v := u.Value
	if u.Kind != yaml.ScalarNode || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "docker://") {
		return Dependency{}, false
	}
	target, ref, ok := strings.Cut(v, "@")
	parts := strings.SplitN(target, "/", 3)
	if !ok || ref == "" || len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return Dependency{}, false
	}
	a := &ActionRef{Owner: parts[0], Repo: parts[1], Ref: ref, RefKind: RefKindOf(ref),
		Comment: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(u.LineComment), "#")), Job: job, Step: step}
	if len(parts) == 3 {
		a.Path = parts[2]
	}
	d := Dependency{Ecosystem: EcosystemGitHubActions, Name: parts[0] + "/" + parts[1], Constraint: ref,
		Manifest: path, Direct: true, Action: a, Line: u.Line}
	if a.RefKind == RefTag {
		d.Version = ref
	}
	d.Line, d.Column = scalarRefPos(src, u, len(target)+1)
	return d, true
}

// scalarRefPos finds the position of the byte at index k of a plain or
// quoted single-line scalar's value, verifying it against the source line.
func scalarRefPos(src []byte, u *yaml.Node, k int) (int, int) {
	start, _, err := lineBounds(src, u.Line, 1)
	if err != nil {
		return u.Line, 0
	}
	// yaml.v3 counts columns in runes; Dependency counts bytes.
	col := 1
	for r := 1; r < u.Column && start+col-1 < len(src); r++ {
		_, size := utf8.DecodeRune(src[start+col-1:])
		col += size
	}
	col += k
	if u.Style == yaml.DoubleQuotedStyle || u.Style == yaml.SingleQuotedStyle {
		col++
	}
	off, end, err := lineBounds(src, u.Line, col)
	if err != nil || off+len(u.Value)-k > end || string(src[off:off+len(u.Value)-k]) != u.Value[k:] {
		return u.Line, 0
	}
	return u.Line, col
}
