package registry

import (
	"os"
	"time"
)

// Release is one published version of a package and whether an update may
// pick it.
type Release struct {
	Version    string
	Prerelease bool
	Yanked     bool // PyPI: every file of the release yanked
	Deprecated bool // npm: the version's "deprecated" message is set
	Retracted  bool // Go: covered by a retract directive of the latest go.mod
	// Published is the release time when the registry says (zero if not).
	Published time.Time
	// SHA is the commit a GitHub tag points at (actions only).
	SHA string
}

// Usable reports whether an update may pick the release.
func (r Release) Usable() bool {
	return !r.Prerelease && !r.Yanked && !r.Deprecated && !r.Retracted
}

// Environment variables naming each registry's base URL, and their defaults.
const (
	EnvGoProxy     = "GO_PROXY_URL"
	EnvNPMRegistry = "NPM_REGISTRY_URL"
	EnvPyPI        = "PYPI_URL"

	DefaultGoProxy     = "https://proxy.golang.org"
	DefaultNPMRegistry = "https://registry.npmjs.org"
	DefaultPyPI        = "https://pypi.org"
)

// BaseURLs are the configured registry base URLs.
type BaseURLs struct {
	GoProxy, NPM, PyPI string
}

// BaseURLsFromEnv reads GO_PROXY_URL, NPM_REGISTRY_URL and PYPI_URL, using
// the public registries for those unset.
func BaseURLsFromEnv() BaseURLs {
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	return BaseURLs{
		GoProxy: get(EnvGoProxy, DefaultGoProxy),
		NPM:     get(EnvNPMRegistry, DefaultNPMRegistry),
		PyPI:    get(EnvPyPI, DefaultPyPI),
	}
}
