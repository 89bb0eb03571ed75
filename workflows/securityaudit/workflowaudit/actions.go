package workflowaudit

import (
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"
)

// RefKind says what a uses: reference points at.
type RefKind string

// Kinds of uses: references.
const (
	KindAction   RefKind = "action"   // owner/repo[/path]@ref in a step
	KindWorkflow RefKind = "workflow" // owner/repo/.github/workflows/x.yml@ref in a job
	KindDocker   RefKind = "docker"   // docker://image[:tag|@digest]
	KindLocal    RefKind = "local"    // ./path, same repository
)

// ActionRef is one uses: reference of a workflow file with its position.
type ActionRef struct {
	Raw   string  `json:"raw"` // the value as written
	Kind  RefKind `json:"kind"`
	Owner string  `json:"owner,omitempty"` // "" for local; for docker, the image without tag or digest
	Repo  string  `json:"repo,omitempty"`
	Path  string  `json:"path,omitempty"` // sub-directory or workflow file inside the repository, "" for the root action
	Ref   string  `json:"ref,omitempty"`  // tag, branch, SHA, or docker tag/digest
	Line  int     `json:"line"`           // position of the value
	Col   int     `json:"col"`
}

var shaRe = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Pinned reports whether the reference cannot move: a full commit SHA, a docker digest, or local.
func (r ActionRef) Pinned() bool {
	switch r.Kind {
	case KindLocal:
		return true
	case KindDocker:
		return strings.HasPrefix(r.Ref, "sha256:")
	}
	return shaRe.MatchString(r.Ref)
}

// FirstParty reports whether the action belongs to GitHub (actions/*, github/*).
func (r ActionRef) FirstParty() bool {
	o := strings.ToLower(r.Owner)
	return (r.Kind == KindAction || r.Kind == KindWorkflow) && (o == "actions" || o == "github")
}

func parseRef(s *actionlint.String, kind RefKind) ActionRef {
	r := ActionRef{Raw: s.Value, Kind: kind}
	if s.Pos != nil {
		r.Line, r.Col = s.Pos.Line, s.Pos.Col
		if s.Quoted {
			r.Col++
		}
	}
	v := strings.TrimSpace(s.Value)
	switch {
	case strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../"):
		r.Kind, r.Path = KindLocal, v
	case strings.HasPrefix(v, "docker://"):
		r.Kind = KindDocker
		img := strings.TrimPrefix(v, "docker://")
		if i := strings.Index(img, "@"); i >= 0 {
			r.Owner, r.Ref = img[:i], img[i+1:]
		} else if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
			r.Owner, r.Ref = img[:i], img[i+1:]
		} else {
			r.Owner = img
		}
	default:
		name := v
		if i := strings.LastIndex(v, "@"); i >= 0 {
			name, r.Ref = v[:i], v[i+1:]
		}
		parts := strings.SplitN(name, "/", 3)
		r.Owner = parts[0]
		if len(parts) > 1 {
			r.Repo = parts[1]
		}
		if len(parts) > 2 {
			r.Path = parts[2]
		}
	}
	return r
}

// refs returns every uses: of the workflow in source order.
func (a *auditor) refs() []ActionRef {
	var out []ActionRef
	for _, job := range a.jobs() {
		if job.WorkflowCall != nil && job.WorkflowCall.Uses != nil {
			out = append(out, parseRef(job.WorkflowCall.Uses, KindWorkflow))
		}
		for _, st := range job.Steps {
			if ex, ok := st.Exec.(*actionlint.ExecAction); ok && ex.Uses != nil {
				out = append(out, parseRef(ex.Uses, KindAction))
			}
		}
	}
	return out
}

// Uses parses the workflow file and returns its uses: references with positions, for the
// dependency inventory and the pinning fix.
func Uses(path string, src []byte) ([]ActionRef, error) {
	a, err := newAuditor(path, src, Options{})
	if err != nil {
		return nil, err
	}
	return a.refs(), nil
}

func (a *auditor) checkActions() {
	for _, r := range a.refs() {
		if r.Pinned() || (r.FirstParty() && !a.opts.PinFirstParty) || strings.Contains(r.Raw, "${{") {
			continue
		}
		what, want := "tag or branch "+r.Ref, "a full commit SHA"
		if r.Ref == "" {
			what = "no version"
		}
		if r.Kind == KindDocker {
			what, want = "image tag "+r.Ref, "an image digest (@sha256:…)"
		}
		a.add(RuleUnpinnedAction, "", r.Line, r.Col, "%s is referenced by %s; pin it to %s", strings.TrimSpace(r.Raw), what, want)
	}
}
