package dependencymanagement_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSecurityFixBuildsWithTheGoCommand builds the security PR's module with the go command
// against the fake proxy, read-only: go.mod and go.sum must be complete and every hash must
// match what go downloads (GOSUMDB off: the checksum database does not know the test's modules).
func TestSecurityFixBuildsWithTheGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	h := newHarness(t)
	goRepo(t, h)
	h.run(t, repoArgs("cli:1"))
	files := h.repo.Files("autonomous-ci/deps/security-go-example.com-vuln")
	dir := t.TempDir()
	for _, p := range []string{"go.mod", "go.sum"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), files[p], 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport (\n\t_ \"example.com/dep\"\n\t_ \"example.com/vuln\"\n)\n\nfunc main() {}\n"), 0o644))
	for _, args := range [][]string{{"mod", "verify"}, {"build", "./..."}} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY="+h.proxy.srv.URL, "GOSUMDB=off", "GOFLAGS=-mod=readonly -modcacherw",
			"GOMODCACHE="+filepath.Join(t.TempDir(), "modcache"), "GOTOOLCHAIN=local", "GOWORK=off", "GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %v:\n%s", args, out)
	}
}
