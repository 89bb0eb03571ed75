package gomod

import (
	"testing"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/module"
)

func TestInsertRequiresWithoutBlock(t *testing.T) {
	t.Parallel()
	src := "module m\r\n\r\ngo 1.22\r\n\r\nrequire example.com/a v1.0.0"
	out, err := insertRequires([]byte(src), []module.Version{{Path: "example.com/n", Version: "v0.1.0"}})
	require.NoError(t, err)
	require.Equal(t, src+"\r\n\r\nrequire (\r\n\texample.com/n v0.1.0 // indirect\r\n)\r\n", string(out))
}

func TestEditGoModOldGoVersionAddsNothing(t *testing.T) {
	t.Parallel()
	src := []byte("module m\n\ngo 1.16\n\nrequire example.com/a v1.0.0 // keep\n")
	main, err := inventory.ParseGoMod("go.mod", src)
	require.NoError(t, err)
	out, err := editGoMod(src, main,
		[]module.Version{{Path: "example.com/a", Version: "v1.2.0"}, {Path: "example.com/n", Version: "v0.1.0"}},
		[]module.Version{{Path: "example.com/n", Version: "v0.1.0"}})
	require.NoError(t, err)
	require.Equal(t, "module m\n\ngo 1.16\n\nrequire example.com/a v1.2.0 // keep\n", string(out))
}

func TestMergeGoSumKeepsExistingBytesAndOrder(t *testing.T) {
	t.Parallel()
	src := "example.com/a v1.0.0 h1:A=\r\nexample.com/a v1.0.0/go.mod h1:B=\r\nexample.com/z v1.0.0/go.mod h1:Z="
	out := mergeGoSum([]byte(src), []SumLine{
		{Path: "example.com/m", Version: "v1.0.0", GoMod: true, Hash: "h1:M="},
		{Path: "example.com/a", Version: "v1.10.0", Hash: "h1:C="},
		{Path: "example.com/a", Version: "v1.9.0", Hash: "h1:D="},
	})
	require.Equal(t, "example.com/a v1.0.0 h1:A=\r\nexample.com/a v1.0.0/go.mod h1:B=\r\n"+
		"example.com/a v1.9.0 h1:D=\r\nexample.com/a v1.10.0 h1:C=\r\nexample.com/m v1.0.0/go.mod h1:M=\r\n"+
		"example.com/z v1.0.0/go.mod h1:Z=\r\n", string(out))
	require.Equal(t, src, string(mergeGoSum([]byte(src), nil)))
}
