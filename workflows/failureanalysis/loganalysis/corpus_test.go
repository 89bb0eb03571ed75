package loganalysis

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// expectation describes one corpus log (testdata/corpus/expectations.json).
type expectation struct {
	File           string   `json:"file"`
	Imitates       string   `json:"imitates"` // which real tool output the log imitates
	Class          Class    `json:"class"`
	RootCauseLines []int    `json:"root_cause_lines"`
	FailedTests    []string `json:"failed_tests"`
	Retryable      bool     `json:"retryable"`
	FailedStep     string   `json:"failed_step"`
	Holdout        bool     `json:"holdout"` // written after tuning; never used to tune rules
	// Long marks the long-log sets: 1,000+ line GitHub Actions logs with the
	// root cause far above the end, post steps after it and decoys around it.
	Long bool `json:"long"`
}

// corpusSet names the set an expectation belongs to in TestCorpusReport.
func (e expectation) set() string {
	switch {
	case e.Long && e.Holdout:
		return "long-log held-out set"
	case e.Long:
		return "long-log tuned set"
	case e.Holdout:
		return "original held-out set"
	default:
		return "original tuned set"
	}
}

// corpusSets lists the report sets in print order; the tuned ones must meet
// the targets.
var corpusSets = []struct {
	name  string
	tuned bool
}{
	{"original tuned set", true},
	{"original held-out set", false},
	{"long-log tuned set", true},
	{"long-log held-out set", false},
}

func loadCorpus(t testing.TB) []expectation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", "expectations.json"))
	require.NoError(t, err)
	var exps []expectation
	require.NoError(t, json.Unmarshal(data, &exps))
	require.GreaterOrEqual(t, len(exps), 40)
	return exps
}

func analyzeFile(t testing.TB, name string) Result {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus", name))
	require.NoError(t, err)
	defer f.Close()
	res, err := Analyze(f, Options{})
	require.NoError(t, err)
	return res
}

func excerptHas(ex []Line, lines []int) bool {
	have := map[int]bool{}
	for _, l := range ex {
		have[l.Line] = true
	}
	for _, n := range lines {
		if !have[n] {
			return false
		}
	}
	return true
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	for _, e := range loadCorpus(t) {
		t.Run(e.File, func(t *testing.T) {
			t.Parallel()
			res := analyzeFile(t, e.File)
			require.NotNil(t, res.FailedTests)
			require.NotNil(t, res.Excerpt)
			require.NotNil(t, res.Evidence)
			require.LessOrEqual(t, len(res.Excerpt), DefaultMaxExcerptLines)
			require.GreaterOrEqual(t, res.Confidence, 0.0)
			require.LessOrEqual(t, res.Confidence, 1.0)
			if e.Holdout {
				// Held-out logs only feed TestCorpusReport; failures there are
				// reported, not fixed by tuning.
				return
			}
			require.Equal(t, e.Class, res.Classification, "summary: %s\nevidence: %v", res.Summary, res.Evidence)
			require.True(t, excerptHas(res.Excerpt, e.RootCauseLines), "root cause lines %v not in excerpt %v", e.RootCauseLines, res.Excerpt)
			require.Equal(t, e.FailedTests, res.FailedTests)
			require.Equal(t, e.Retryable, res.Retryable)
			require.Equal(t, e.FailedStep, res.FailedStep)
		})
	}
}

// strategyScore accumulates the corpus figures of one excerpt strategy.
type strategyScore struct {
	name        string
	n, rootHits int
	classHits   int
	classified  bool
	lengths     []int
}

func (s *strategyScore) add(e expectation, excerpt []Line, class Class) {
	s.n++
	if excerptHas(excerpt, e.RootCauseLines) {
		s.rootHits++
	}
	if class == e.Class {
		s.classHits++
	}
	s.lengths = append(s.lengths, len(excerpt))
}

func (s *strategyScore) rootRate() float64  { return float64(s.rootHits) / float64(s.n) }
func (s *strategyScore) classRate() float64 { return float64(s.classHits) / float64(s.n) }

func (s *strategyScore) median() float64 {
	l := append([]int(nil), s.lengths...)
	sort.Ints(l)
	if len(l) == 0 {
		return 0
	}
	if len(l)%2 == 1 {
		return float64(l[len(l)/2])
	}
	return float64(l[len(l)/2-1]+l[len(l)/2]) / 2
}

func (s *strategyScore) String() string {
	class := "n/a"
	if s.classified {
		class = fmt.Sprintf("%5.1f%%", 100*s.classRate())
	}
	return fmt.Sprintf("%-22s n=%-3d root-cause-in-excerpt=%5.1f%%  class-accuracy=%-6s  median-excerpt=%4.1f lines",
		s.name, s.n, 100*s.rootRate(), class, s.median())
}

// baselineLastLines is the excerpt of the last n lines of a file.
func baselineLastLines(t testing.TB, name string, n int) []Line {
	lines := readLines(t, name)
	start := max(0, len(lines)-n)
	out := []Line{}
	for i := start; i < len(lines); i++ {
		out = append(out, Line{Line: i + 1, Text: lines[i]})
	}
	return out
}

// baselineErrorAnnotations is the excerpt of all "##[error]" lines.
func baselineErrorAnnotations(t testing.TB, name string) []Line {
	out := []Line{}
	for i, l := range readLines(t, name) {
		if strings.Contains(l, "##[error]") {
			out = append(out, Line{Line: i + 1, Text: l})
		}
	}
	return out
}

func readLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus", name))
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	return lines
}

// TestCorpusReport prints, for each corpus set (original and long-log logs,
// tuned and held-out), how this analyzer compares with two naive excerpt
// strategies, and asserts the targets on the tuned sets. Run with -v to see
// the table.
func TestCorpusReport(t *testing.T) {
	t.Parallel()
	sets := map[string][]*strategyScore{}
	for _, cs := range corpusSets {
		sets[cs.name] = []*strategyScore{
			{name: "analyzer", classified: true},
			{name: "last 50 lines"},
			{name: "##[error] lines only"},
		}
	}
	for _, e := range loadCorpus(t) {
		s := sets[e.set()]
		res := analyzeFile(t, e.File)
		s[0].add(e, res.Excerpt, res.Classification)
		s[1].add(e, baselineLastLines(t, e.File, 50), ClassUnknown)
		s[2].add(e, baselineErrorAnnotations(t, e.File), ClassUnknown)
		if !excerptHas(res.Excerpt, e.RootCauseLines) || res.Classification != e.Class {
			t.Logf("miss (%s) %s: class %s want %s, root %v, excerpt %d lines", e.set(), e.File, res.Classification, e.Class, e.RootCauseLines, len(res.Excerpt))
		}
		if !slices.Equal(res.FailedTests, e.FailedTests) || res.Retryable != e.Retryable || res.FailedStep != e.FailedStep {
			t.Logf("field mismatch (%s) %s: tests %q want %q, retryable %v want %v, step %q want %q",
				e.set(), e.File, res.FailedTests, e.FailedTests, res.Retryable, e.Retryable, res.FailedStep, e.FailedStep)
		}
	}
	for _, cs := range corpusSets {
		t.Logf("== %s ==", cs.name)
		for _, s := range sets[cs.name] {
			if s.n > 0 {
				t.Log(s.String())
			}
		}
	}
	for _, cs := range corpusSets {
		a := sets[cs.name][0]
		if !cs.tuned || a.n == 0 {
			continue
		}
		require.GreaterOrEqual(t, a.rootRate(), 0.90, "%s: root cause in excerpt", cs.name)
		require.GreaterOrEqual(t, a.classRate(), 0.85, "%s: class accuracy", cs.name)
		require.LessOrEqual(t, a.median(), 20.0, "%s: median excerpt length", cs.name)
	}
}
