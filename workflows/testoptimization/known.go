package testoptimization

import (
	"context"
	"fmt"
	"strings"

	"github.com/contexten/autonomous/store"
)

// KnownFlaky is what is known of a flaky test: failure analysis reports its failure as known
// flaky and re-runs it.
type KnownFlaky struct {
	TestID string  `json:"test_id"`
	Status string  `json:"status"`
	Rate   float64 `json:"rate"`
	Runs   int     `json:"runs"`
}

// Note is the pull-request wording.
func (k KnownFlaky) Note() string {
	runs := "runs"
	if k.Runs == 1 {
		runs = "run"
	}
	return fmt.Sprintf("known flaky (%.0f%% over %d %s), not caused by this change", k.Rate*100, k.Runs, runs)
}

// flakyReader is what the known-flaky lookup needs of the database.
type flakyReader interface {
	FlakyTests(ctx context.Context, owner, repo string, testIDs ...string) (map[string]store.FlakyTest, error)
}

// Tracker answers failure analysis: which of a failure's tests are known flaky.
type Tracker struct{ Store flakyReader }

// KnownFlaky implements failureanalysis.FlakyTests: for each of the tests (as the log analyzer
// or a test report names them) that is known flaky or quarantined in the repository, the note
// to show on the pull request; recovered tests are not known flaky.
func (t Tracker) KnownFlaky(ctx context.Context, owner, repo string, tests []string) (map[string]string, error) {
	known, err := lookupKnown(ctx, t.Store, owner, repo, tests)
	if err != nil {
		return nil, err
	}
	notes := make(map[string]string, len(known))
	for name, k := range known {
		notes[name] = k.Note()
	}
	return notes, nil
}

func lookupKnown(ctx context.Context, st flakyReader, owner, repo string, tests []string) (map[string]KnownFlaky, error) {
	out := map[string]KnownFlaky{}
	if len(tests) == 0 {
		return out, nil
	}
	all, err := st.FlakyTests(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	for _, name := range tests {
		for id, f := range all {
			if (f.Status == "flaky" || f.Status == "quarantined") && sameTest(id, name) {
				out[name] = KnownFlaky{TestID: id, Status: f.Status, Rate: f.Rate, Runs: f.Runs}
				break
			}
		}
	}
	return out, nil
}

// sameTest reports whether a stored test id and a test name from a log are the same test: equal,
// or the name is the id's last part ("example.com/pkg :: TestA" and "TestA"), or both end in the
// same qualified name ("pkg.TestA", "tests/test_x.py::test_y").
func sameTest(id, name string) bool {
	id, name = strings.TrimSpace(id), strings.TrimSpace(name)
	if id == "" || name == "" {
		return false
	}
	if id == name {
		return true
	}
	last := id
	if i := strings.LastIndex(id, " :: "); i >= 0 {
		last = id[i+4:]
	}
	if last == name {
		return true
	}
	return tail(last) == tail(name) && tail(name) != "" && (strings.HasSuffix(id, name) || strings.HasSuffix(name, last))
}

// tail is a qualified name's last segment (after ".", "::", "/" or "#").
func tail(s string) string {
	for _, sep := range []string{"::", ".", "/", "#"} {
		if i := strings.LastIndex(s, sep); i >= 0 {
			s = s[i+len(sep):]
		}
	}
	return s
}
