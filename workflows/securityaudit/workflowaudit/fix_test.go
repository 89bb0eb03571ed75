package workflowaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const fakeSHA = "0123456789abcdef0123456789abcdef01234567"

// lineDiff returns the lines of a deleted and the lines of b added, by longest common
// subsequence: what a reviewer sees in the fix PR's diff.
func lineDiff(a, b string) (deleted, added []string) {
	x, y := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			added = append(added, y[j])
			j++
		default:
			deleted = append(deleted, x[i])
			i++
		}
	}
	return deleted, added
}

func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	out, err := loadCorpus()
	require.NoError(t, err)
	return out
}

func loadCorpus() (map[string][]byte, error) {
	files, err := filepath.Glob("testdata/corpus/*.yml")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(f)] = b
	}
	return out, nil
}

func audit(t *testing.T, src []byte, rule string) []Finding {
	t.Helper()
	fs, err := Audit("w.yml", src, Options{})
	require.NoError(t, err)
	var out []Finding
	for _, f := range fs {
		if f.RuleID == rule {
			out = append(out, f)
		}
	}
	return out
}

func TestPinActionCorpusRoundTrip(t *testing.T) {
	t.Parallel()
	fixed := 0
	for name, src := range corpus(t) {
		refs, err := Uses(name, src)
		require.NoError(t, err)
		out := src
		var lines []int
		for _, f := range audit(t, src, RuleUnpinnedAction) {
			for _, r := range refs {
				if r.Line == f.Line && r.Kind != KindDocker {
					out = PinAction(out, f.Line, fakeSHA, "")
					lines = append(lines, f.Line)
				}
			}
		}
		if len(lines) == 0 {
			require.Equal(t, src, PinAction(src, 1, fakeSHA, ""), name)
			continue
		}
		fixed++
		del, add := lineDiff(string(src), string(out))
		require.Len(t, del, len(lines), name)
		require.Len(t, add, len(lines), name)
		for k, d := range del {
			require.Equal(t, d, newSource(src).line(lines[k])+"\n")
			ref := usesLineRe.FindStringSubmatch(d)[4]
			require.Equal(t, strings.Replace(strings.TrimSuffix(d, "\n"), "@"+ref, "@"+fakeSHA, 1)+" # "+ref+"\n", add[k], name)
		}
		for _, f := range audit(t, out, RuleUnpinnedAction) {
			require.Contains(t, f.Message, "docker://", "%s still unpinned after the fix: %s", name, f.Message)
		}
	}
	require.GreaterOrEqual(t, fixed, 3)
}

func TestPinActionEdits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, tag, want string }{
		{"plain", "      - uses: acme/a@v4\n", "", "      - uses: acme/a@" + fakeSHA + " # v4\n"},
		{"tag given", "      - uses: acme/a@v4\n", "v4.2.1", "      - uses: acme/a@" + fakeSHA + " # v4.2.1\n"},
		{"quoted, path, comment", "    - uses: 'acme/a/sub@main'   # keep me\r\n", "", "    - uses: 'acme/a/sub@" + fakeSHA + "' # main # keep me\r\n"},
		{"flow mapping keeps its syntax", "steps: [{uses: acme/a@v1, with: {x: 1}}]\n", "", "steps: [{uses: acme/a@" + fakeSHA + ", with: {x: 1}}]\n"},
		{"no newline at end", "uses: acme/a@v1", "", "uses: acme/a@" + fakeSHA + " # v1"},
		{"already pinned", "uses: acme/a@" + fakeSHA + "\n", "", "uses: acme/a@" + fakeSHA + "\n"},
		{"not a uses line", "run: echo acme/a@v1\n", "", "run: echo acme/a@v1\n"},
		{"local action", "uses: ./local@v1\n", "", "uses: ./local@v1\n"},
	} {
		require.Equal(t, tc.want, string(PinAction([]byte(tc.in), 1, fakeSHA, tc.tag)), tc.name)
	}
	in := []byte("uses: acme/a@v1\n")
	require.Equal(t, in, PinAction(in, 1, "not-a-sha", ""))
	require.Equal(t, in, PinAction(in, 0, fakeSHA, ""))
	require.Equal(t, in, PinAction(in, 9, fakeSHA, ""))
}

func TestAddTopLevelPermissionsCorpusRoundTrip(t *testing.T) {
	t.Parallel()
	fixed := 0
	for name, src := range corpus(t) {
		out := AddTopLevelPermissions(src)
		if len(audit(t, src, RuleMissingPermissions)) == 0 {
			continue
		}
		fixed++
		del, add := lineDiff(string(src), string(out))
		require.Empty(t, del, name)
		require.Equal(t, []string{"permissions:\n", "  contents: read\n"}, add, name)
		require.Empty(t, audit(t, out, RuleMissingPermissions), name)
		require.Equal(t, out, AddTopLevelPermissions(out), "%s: a second run must change nothing", name)
	}
	require.GreaterOrEqual(t, fixed, 2)
}

func TestAddTopLevelPermissionsEdits(t *testing.T) {
	t.Parallel()
	crlf := "on: push\r\n# the jobs\r\njobs:\r\n    build:\r\n        runs-on: ubuntu-latest\r\n        steps:\r\n            - run: make\r\n"
	require.Equal(t, "on: push\r\n# the jobs\r\npermissions:\r\n    contents: read\r\njobs:\r\n    build:\r\n        runs-on: ubuntu-latest\r\n        steps:\r\n            - run: make\r\n",
		string(AddTopLevelPermissions([]byte(crlf))))
	for _, same := range []string{
		"on: push\npermissions: {}\njobs: {}\n",
		"{on: push, jobs: {a: {runs-on: x, steps: [{run: make}]}}}\n",
		"on: [push\n",
	} {
		require.Equal(t, same, string(AddTopLevelPermissions([]byte(same))))
	}
	require.Equal(t, "on: push\npermissions:\n  contents: read\n", string(AddTopLevelPermissions([]byte("on: push"))))
}
