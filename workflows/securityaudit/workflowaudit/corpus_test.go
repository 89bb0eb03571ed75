package workflowaudit

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// expectation is one expected finding of the corpus.
type expectation struct {
	file, rule string
	line       int
}

func loadExpectations(t *testing.T) (map[string][]expectation, error) {
	t.Helper()
	f, err := os.Open("testdata/corpus/expectations.txt")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]expectation{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		out[fields[0]] = []expectation{}
		for _, f := range fields[1:] {
			var e expectation
			i := strings.LastIndex(f, ":")
			if i < 0 {
				return nil, fmt.Errorf("bad expectation %q", f)
			}
			if _, err := fmt.Sscan(f[i+1:], &e.line); err != nil {
				return nil, fmt.Errorf("bad line in %q: %w", f, err)
			}
			e.file, e.rule = fields[0], f[:i]
			out[fields[0]] = append(out[fields[0]], e)
		}
	}
	return out, sc.Err()
}

type score struct{ tp, fp, fn int }

// TestCorpus audits every workflow of testdata/corpus, compares the findings with
// expectations.txt (rule and line), logs precision and recall per rule, and requires
// both to be 1: no false positive, on the safe files or elsewhere, and no missed case.
func TestCorpus(t *testing.T) {
	t.Parallel()
	want, err := loadExpectations(t)
	require.NoError(t, err)
	files, err := filepath.Glob("testdata/corpus/*.yml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 40, "the corpus must hold at least 40 workflows")
	require.Len(t, want, len(files), "every corpus file must be listed in expectations.txt and vice versa")

	scores := map[string]*score{}
	for id := range Rules {
		scores[id] = &score{}
	}
	var problems []string
	safe, vulnerable := 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		exp, ok := want[name]
		require.True(t, ok, "%s is not in expectations.txt", name)
		if len(exp) == 0 {
			safe++
		} else {
			vulnerable++
		}
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		got, err := Audit(".github/workflows/"+name, src, Options{})
		require.NoError(t, err, name)
		expected := map[string]int{}
		for _, e := range exp {
			expected[fmt.Sprintf("%s:%d", e.rule, e.line)]++
		}
		for _, f := range got {
			require.Contains(t, Rules, f.RuleID)
			require.Equal(t, ".github/workflows/"+name, f.File)
			require.NotEmpty(t, f.Message)
			require.NotEmpty(t, f.Explanation)
			require.True(t, strings.HasPrefix(f.Link, HardeningGuide+"#"), f.Link)
			require.Positive(t, f.Column)
			key := fmt.Sprintf("%s:%d", f.RuleID, f.Line)
			if expected[key] > 0 {
				expected[key]--
				scores[f.RuleID].tp++
				continue
			}
			scores[f.RuleID].fp++
			problems = append(problems, fmt.Sprintf("false positive %s %s:%d:%d %s", name, f.RuleID, f.Line, f.Column, f.Message))
		}
		for key, n := range expected {
			for ; n > 0; n-- {
				scores[key[:strings.LastIndex(key, ":")]].fn++
				problems = append(problems, "missed "+name+" "+key)
			}
		}
	}

	ids := make([]string, 0, len(scores))
	for id := range scores {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	fmt.Fprintf(&b, "corpus: %d files (%d safe, %d vulnerable)\n", len(files), safe, vulnerable)
	fmt.Fprintf(&b, "%-24s %4s %4s %4s %9s %7s\n", "rule", "TP", "FP", "FN", "precision", "recall")
	for _, id := range ids {
		s := scores[id]
		fmt.Fprintf(&b, "%-24s %4d %4d %4d %9s %7s\n", id, s.tp, s.fp, s.fn, ratio(s.tp, s.tp+s.fp), ratio(s.tp, s.tp+s.fn))
	}
	t.Log("\n" + b.String())
	for _, id := range ids {
		require.Positive(t, scores[id].tp+scores[id].fn, "rule %s has no vulnerable case in the corpus", id)
	}
	require.Empty(t, problems)
}

func ratio(n, d int) string {
	if d == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", float64(n)/float64(d))
}
