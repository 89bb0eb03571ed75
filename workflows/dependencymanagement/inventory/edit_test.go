package inventory_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

// TestReplaceAtRoundTrip edits every located version string of the monorepo
// fixture, one at a time, and checks that only that string changed and that
// the parser reads the new version at the same place.
func TestReplaceAtRoundTrip(t *testing.T) {
	t.Parallel()
	files := loadTree(t, "testdata/monorepo")
	edited := 0
	for _, d := range inventory.Scan(files).Dependencies {
		if d.Column == 0 {
			continue
		}
		repl := map[string]string{inventory.EcosystemGo: "v1.99.0", inventory.EcosystemGitHubActions: "v9.9.9"}[d.Ecosystem]
		if major, _, _ := strings.Cut(d.Version, "."); d.Ecosystem == inventory.EcosystemGo {
			repl = major + ".99.0" // keep the major: go.mod ties it to the path
		}
		if d.Ecosystem == inventory.EcosystemPyPI && d.Version == "" {
			repl = ">=9.9.9" // a range stays a range
		}
		if repl == "" {
			repl = "9.9.9"
		}
		src := files[d.Manifest]
		out, err := inventory.ReplaceAt(src, d.Line, d.Column, d.Written(), repl)
		require.NoError(t, err, "%s %s", d.Manifest, d.Name)

		off := d.Column - 1
		for _, l := range bytes.SplitAfter(src, []byte("\n"))[:d.Line-1] {
			off += len(l)
		}
		want := append(append(bytes.Clone(src[:off]), repl...), src[off+len(d.Written()):]...)
		require.Equal(t, string(want), string(out), "%s %s: other bytes changed", d.Manifest, d.Name)

		var again *inventory.Dependency
		for _, e := range inventory.Scan(map[string][]byte{d.Manifest: out}).Dependencies {
			if e.Line == d.Line && e.Column == d.Column && e.Name == d.Name {
				again = &e
			}
		}
		require.NotNil(t, again, "%s %s not found after the edit", d.Manifest, d.Name)
		require.Equal(t, repl, again.Written(), d.Manifest)
		edited++
	}
	require.Greater(t, edited, 40)
}

func TestReplaceAtCRLFAndComments(t *testing.T) {
	t.Parallel()
	src := []byte("# keep me\r\nfoo==1.0   # and me\r\n\r\nbar==2.0\r\n")
	out, err := inventory.ReplaceAt(src, 2, 6, "1.0", "1.10.2")
	require.NoError(t, err)
	require.Equal(t, "# keep me\r\nfoo==1.10.2   # and me\r\n\r\nbar==2.0\r\n", string(out))
	require.Equal(t, "# keep me\r\nfoo==1.0   # and me\r\n\r\nbar==2.0\r\n", string(src), "src must not change")
}

func TestReplaceAtErrors(t *testing.T) {
	t.Parallel()
	src := []byte("a==1.0\r\nb==2.0")
	for _, tc := range []struct {
		name      string
		line, col int
		old       string
		mismatch  bool
	}{
		{"wrong old", 1, 4, "1.1", true},
		{"old runs past the line end", 1, 4, "1.0\r\nb", false},
		{"old longer than the line", 2, 4, "2.0.0", true},
		{"line 0", 0, 1, "a", false},
		{"line past the end", 3, 1, "a", false},
		{"column past the line end", 1, 9, "b", false},
		{"empty old", 1, 4, "", false},
	} {
		_, err := inventory.ReplaceAt(src, tc.line, tc.col, tc.old, "9")
		require.Error(t, err, tc.name)
		var me *inventory.MismatchError
		require.Equal(t, tc.mismatch, bytesErrorsAs(err, &me), tc.name)
	}
	_, err := inventory.ReplaceAt(src, 1, 4, "1.0", "1\n0")
	require.Error(t, err)
	var pe *inventory.PositionError
	_, err = inventory.ReplaceAt(src, 3, 1, "a", "b")
	require.ErrorAs(t, err, &pe)
}
