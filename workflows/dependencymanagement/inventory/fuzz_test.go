package inventory_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

// FuzzParsers feeds arbitrary bytes to every parser: none may panic, and
// every position reported must hold the written version string, so that
// ReplaceAt with it is the identity.
func FuzzParsers(f *testing.F) {
	for _, p := range []string{"services/api/go.mod", "services/api/go.sum", "web/package.json", "web/package-lock.json",
		"tools/py/requirements.txt", "tools/py/pyproject.toml", ".github/workflows/ci.yml", "actions/setup/action.yml"} {
		b, err := os.ReadFile(filepath.Join("testdata/monorepo", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	names := []string{"go.mod", "go.sum", "package.json", "package-lock.json", "requirements.txt",
		"pyproject.toml", ".github/workflows/ci.yml", "action.yml"}
	f.Fuzz(func(t *testing.T, src []byte) {
		files := map[string][]byte{}
		for _, n := range names {
			files[n] = src
		}
		for _, d := range inventory.Scan(files).Dependencies {
			if d.Column == 0 || d.Written() == "" {
				continue
			}
			out, err := inventory.ReplaceAt(src, d.Line, d.Column, d.Written(), d.Written())
			if err != nil {
				t.Fatalf("%s %q at %d:%d: %v", d.Manifest, d.Name, d.Line, d.Column, err)
			}
			if !bytes.Equal(out, src) {
				t.Fatalf("identity edit changed %s", d.Manifest)
			}
		}
	})
}
