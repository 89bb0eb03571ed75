package gomod

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/module"

	"github.com/contexten/autonomous/workflows/dependencymanagement/gomod/gomodtest"
)

// goDownload runs the real `go mod download -json path@version` against
// the fake proxy and returns its Sum and GoModSum.
func goDownload(t *testing.T, proxyURL, path, version string) (sum, gomodSum string) {
	t.Helper()
	out, err := goCommand(t, proxyURL, t.TempDir(), "-mod=mod")("mod", "download", "-json", path+"@"+version)
	require.NoError(t, err, "go mod download: %s", out)
	var res struct{ Sum, GoModSum, Error string }
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Empty(t, res.Error)
	return res.Sum, res.GoModSum
}

// goCommand returns a runner of the real go command in dir against the
// fake proxy, with a private module cache and no checksum database; the
// test is skipped when go is not on PATH.
func goCommand(t *testing.T, proxyURL, dir, modFlag string) func(args ...string) (string, error) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	tmp := t.TempDir()
	return func(args ...string) (string, error) {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"GOPROXY="+proxyURL, "GOSUMDB=off", "GONOSUMDB=*", "GONOSUMCHECK=1", "GOPRIVATE=", "GONOPROXY=",
			"GOFLAGS="+modFlag+" -modcacherw", "GOPATH="+filepath.Join(tmp, "gopath"),
			"GOMODCACHE="+filepath.Join(tmp, "modcache"), "GOTOOLCHAIN=local", "GO111MODULE=on", "GOENV=off", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}

func TestSumLinesEqualGoModDownload(t *testing.T) {
	t.Parallel()
	p := &gomodtest.Proxy{}
	p.Add(t, "example.com/Upper/dep", "v1.4.2", "module example.com/Upper/dep\n\ngo 1.21\n\n// a comment kept in the hash\nrequire example.com/other v1.0.0\n",
		map[string]string{
			"dep.go":          "package dep\n\nfunc Hello() string { return \"hi\" }\n",
			"internal/x/x.go": "package x\n",
			"README.md":       "# dep\r\nwith CRLF\r\n",
		})
	srv := p.Start(t)
	gp := registry.NewGoProxy(srv.URL, srv.Client(), 0)
	ctx := context.Background()

	zipLine, err := ZipSum(ctx, gp, "example.com/Upper/dep", "v1.4.2")
	require.NoError(t, err)
	modLine, err := ModSum(ctx, gp, "example.com/Upper/dep", "v1.4.2")
	require.NoError(t, err)
	require.Contains(t, p.Requests(), "/example.com/!upper/dep/@v/v1.4.2.zip")

	sum, gomodSum := goDownload(t, srv.URL, "example.com/Upper/dep", "v1.4.2")
	require.Equal(t, sum, zipLine.Hash)
	require.Equal(t, gomodSum, modLine.Hash)
	require.Equal(t, "example.com/Upper/dep v1.4.2 "+sum, zipLine.String())
	require.Equal(t, "example.com/Upper/dep v1.4.2/go.mod "+gomodSum, modLine.String())
}

func TestZipHashRejectsBadZip(t *testing.T) {
	t.Parallel()
	m := module.Version{Path: "example.com/a", Version: "v1.0.0"}
	_, err := ZipHash(m, []byte("not a zip"))
	require.Error(t, err)

	p := &gomodtest.Proxy{}
	bZip := p.AddMod(t, "example.com/b", "v1.0.0")
	// b's zip presented as a's: every file is outside "example.com/a@v1.0.0/".
	_, err = ZipHash(m, bZip)
	require.Error(t, err)
}
