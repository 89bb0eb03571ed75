package inventory_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

// BenchmarkScan scans a synthetic monorepo of 200 services, each with a
// go.mod of 50 requires, a package.json of 50 dependencies and a
// requirements.txt of 50 pins.
func BenchmarkScan(b *testing.B) {
	files := map[string][]byte{}
	for s := range 200 {
		var gomod, pkg, req strings.Builder
		gomod.WriteString("module example.com/svc\n\ngo 1.22\n\nrequire (\n")
		pkg.WriteString("{\n  \"dependencies\": {\n")
		for i := range 50 {
			fmt.Fprintf(&gomod, "\texample.com/m%d v1.%d.0 // indirect\n", i, i)
			fmt.Fprintf(&pkg, "    \"p%d\": \"^1.%d.0\",\n", i, i)
			fmt.Fprintf(&req, "pkg%d==1.%d.0 --hash=sha256:%064d\n", i, i, i)
		}
		gomod.WriteString(")\n")
		pkg.WriteString("    \"last\": \"1.0.0\"\n  }\n}\n")
		files[fmt.Sprintf("svc%d/go.mod", s)] = []byte(gomod.String())
		files[fmt.Sprintf("svc%d/package.json", s)] = []byte(pkg.String())
		files[fmt.Sprintf("svc%d/requirements.txt", s)] = []byte(req.String())
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := inventory.Scan(files); len(r.Dependencies) != 200*151 {
			b.Fatalf("%d dependencies", len(r.Dependencies))
		}
	}
}
