package inventory_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

func TestParseGoMod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      []brief
	}{{
		name: "single line and block, indirect, comments",
		src:  "module m\n\ngo 1.22\n\nrequire example.com/a v1.2.3 // why\n\nrequire (\n\t// comment line\n\texample.com/b   v0.0.0-20240101000000-abcdefabcdef // indirect\n    example.com/c/v2 v2.0.1+incompatible\n)\n",
		want: []brief{
			{"example.com/a", "v1.2.3", "v1.2.3", 5, 23, true, false},
			{"example.com/b", "v0.0.0-20240101000000-abcdefabcdef", "v0.0.0-20240101000000-abcdefabcdef", 9, 18, false, false},
			{"example.com/c/v2", "v2.0.1+incompatible", "v2.0.1+incompatible", 10, 22, true, false},
		},
	}, {
		name: "CRLF and quoted path",
		src:  "module m\r\n\r\nrequire (\r\n\t\"example.com/q\" \"v1.0.0\"\r\n)\r\n",
		want: []brief{{"example.com/q", "v1.0.0", "v1.0.0", 4, 19, true, false}},
	}, {
		name: "version equal to a path suffix",
		src:  "module m\nrequire example.com/libv1.0.0 v1.0.0\n",
		want: []brief{{"example.com/libv1.0.0", "v1.0.0", "v1.0.0", 2, 31, true, false}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := inventory.ParseGoMod("go.mod", []byte(tc.src))
			require.NoError(t, err)
			require.Equal(t, tc.want, briefs(m.Dependencies))
		})
	}
}

func TestParseGoModDirectives(t *testing.T) {
	t.Parallel()
	src := `module example.com/m

require (
	example.com/a v1.0.0
	example.com/b v1.1.0
)

replace example.com/a => example.com/fork v1.0.5
replace example.com/b v1.1.0 => ../b
replace example.com/b => example.com/b v1.2.0

exclude example.com/a v1.0.1

retract (
	v0.9.0 // oops
	[v1.1.0, v1.1.9]
)
`
	m, err := inventory.ParseGoMod("go.mod", []byte(src))
	require.NoError(t, err)
	require.Equal(t, "example.com/m", m.Module)
	require.Equal(t, &inventory.Replacement{Path: "example.com/fork", Version: "v1.0.5", Line: 8, Column: 43}, m.Dependencies[0].Replace)
	// The version-specific replace wins over the path-wide one.
	require.Equal(t, &inventory.Replacement{Path: "../b", Line: 9}, m.Dependencies[1].Replace)
	require.True(t, m.Excluded("example.com/a", "v1.0.1"))
	require.False(t, m.Excluded("example.com/a", "v1.0.0"))
	for v, want := range map[string]bool{"v0.9.0": true, "v1.1.0": true, "v1.1.5": true, "v1.1.9": true, "v1.2.0": false, "v0.9.1": false} {
		require.Equal(t, want, m.Retracted(v), v)
	}
	require.Equal(t, "oops", m.Retracts[0].Rationale)
}

func TestParseGoModError(t *testing.T) {
	t.Parallel()
	_, err := inventory.ParseGoMod("x/go.mod", []byte("module m\nrequire (\n  nope\n"))
	var pe *inventory.ParseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "x/go.mod", pe.Path)
}

func TestParseGoSum(t *testing.T) {
	t.Parallel()
	src := "example.com/a v1.0.0 h1:abc=\r\nexample.com/a v1.0.0/go.mod h1:def=\n\nexample.com/b v0.1.0/go.mod h1:ghi=\n"
	got, err := inventory.ParseGoSum("go.sum", []byte(src))
	require.NoError(t, err)
	require.Equal(t, []inventory.GoSumEntry{
		{Module: "example.com/a", Version: "v1.0.0", Hash: "h1:abc=", Line: 1},
		{Module: "example.com/a", Version: "v1.0.0", GoMod: true, Hash: "h1:def=", Line: 2},
		{Module: "example.com/b", Version: "v0.1.0", GoMod: true, Hash: "h1:ghi=", Line: 4},
	}, got)

	for _, bad := range []string{"example.com/a v1.0.0\n", "example.com/a 1.0 h1:x=\n", "a v1.0.0 nohash\n"} {
		_, err := inventory.ParseGoSum("go.sum", []byte(bad))
		var pe *inventory.ParseError
		require.ErrorAs(t, err, &pe, bad)
		require.Equal(t, 1, pe.Line)
	}
}
