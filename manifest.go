// Package autonomous holds the files embedded into the binary from the module root.
package autonomous

import _ "embed"

// AppManifest is app.yml, the GitHub App manifest used by the setup page.
//
//go:embed app.yml
var AppManifest []byte
