// Package inventory parses dependency manifests (Go modules, npm, Python and
// GitHub Actions) into one flat list of dependencies with the exact position
// of every version string, so that later changes can edit that string and
// nothing else (see ReplaceAt).
package inventory

import "fmt"

// Ecosystem names as OSV spells them
// (https://ossf.github.io/osv-schema/#affectedpackage-field).
const (
	EcosystemGo            = "Go"
	EcosystemNPM           = "npm"
	EcosystemPyPI          = "PyPI"
	EcosystemGitHubActions = "GitHub Actions"
)

// Dependency is one requirement found in one manifest.
type Dependency struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	// Version is the exact current version when the manifest (or the lock
	// beside it) pins one; empty for a range that no lock resolves.
	Version string `json:"version,omitempty"`
	// Constraint is the version text exactly as written in the manifest
	// (a Go version, an npm range, a PEP 440 specifier, an action ref).
	Constraint string `json:"constraint,omitempty"`
	Manifest   string `json:"manifest"`
	// Line and Column (1-based; Column counts bytes) locate the first byte
	// of Written() in the manifest; ReplaceAt takes them as they are.
	// Column is 0 when the string's position is unknown (an escaped TOML
	// string, a multi-line YAML scalar).
	Line     int  `json:"line"`
	Column   int  `json:"column"`
	Direct   bool `json:"direct"`
	Dev      bool `json:"dev,omitempty"`
	Optional bool `json:"optional,omitempty"`
	// Group names the section the dependency came from: "require" (Go),
	// "dependencies" or "devDependencies" (package.json), the packages key
	// ("node_modules/a/node_modules/b") of a lock entry, a pyproject extra
	// or group name; empty for requirements files and workflows.
	Group string `json:"group,omitempty"`

	// Go: the replacement from a replace directive, if any.
	Replace *Replacement `json:"replace,omitempty"`
	// npm lock entries.
	Resolved  string `json:"resolved,omitempty"`
	Integrity string `json:"integrity,omitempty"`
	// Python requirements.
	Extras []string `json:"extras,omitempty"`
	Marker string   `json:"marker,omitempty"`
	Hashes []string `json:"hashes,omitempty"`
	// GitHub Actions.
	Action *ActionRef `json:"action,omitempty"`
}

// Replacement is the right-hand side of a go.mod replace directive.
type Replacement struct {
	Path    string `json:"path"`
	Version string `json:"version,omitempty"` // empty for a local directory
	Line    int    `json:"line"`
	Column  int    `json:"column,omitempty"` // of Version, when set
}

// ParseError is a manifest that could not be parsed.
type ParseError struct {
	Path string
	Line int // 0 when unknown
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("failed to parse %s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("failed to parse %s: %v", e.Path, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped by a ParseError for a manifest format this
// package recognises but does not read (an npm lockfileVersion 1).
var ErrUnsupported = fmt.Errorf("unsupported manifest format")

// Written is the version text found at Line:Column: the pinned version of a
// Python "==" pin, otherwise Constraint (a Go version, an npm range or lock
// version, an action ref).
func (d Dependency) Written() string {
	if d.Ecosystem == EcosystemPyPI && d.Version != "" {
		return d.Version
	}
	return d.Constraint
}
