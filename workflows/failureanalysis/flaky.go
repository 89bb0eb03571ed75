package failureanalysis

import (
	"context"
	"slices"

	"github.com/rs/zerolog"
)

// FlakyTests is what test optimization knows of tests (testoptimization.Tracker): for each of
// the given tests that is known flaky, the note to show ("known flaky (12% over 50 runs), not
// caused by this change").
type FlakyTests interface {
	KnownFlaky(ctx context.Context, owner, repo string, tests []string) (map[string]string, error)
}

// TestEvidence keeps the failed tests found in a run attempt's logs, by job, for test
// optimization (store.Store).
type TestEvidence interface {
	SaveLogFailedTests(ctx context.Context, owner, repo string, runID int64, attempt int, byJob map[string][]string) error
}

// markKnownFlaky notes, on each failure whose every failed test is known flaky, what is known;
// such a failure is retryable whatever its class. Test optimization failing to answer never
// costs the report: the failures stay as they are.
func (s *session) markKnownFlaky(ctx context.Context, failures []failure) {
	if s.w.deps.Flaky == nil {
		return
	}
	var tests []string
	for _, f := range failures {
		for _, t := range f.result.FailedTests {
			if !slices.Contains(tests, t) {
				tests = append(tests, t)
			}
		}
	}
	if len(tests) == 0 {
		return
	}
	known, err := s.w.deps.Flaky.KnownFlaky(ctx, s.args.Owner, s.args.Repo, tests)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to look up known flaky tests; reporting without")
		return
	}
	for i := range failures {
		f := &failures[i]
		if len(f.result.FailedTests) == 0 {
			continue
		}
		notes := map[string]string{}
		for _, t := range f.result.FailedTests {
			if n, ok := known[t]; ok {
				notes[t] = n
			}
		}
		if len(notes) == len(f.result.FailedTests) {
			f.knownFlaky = notes
			f.result.Retryable = true
		}
	}
}

// recordFailedTests keeps the failed tests of each failed job for test optimization; a failure
// to record is logged and never fails the analysis.
func (s *session) recordFailedTests(ctx context.Context, attempt int, failures []failure) {
	ev, ok := s.w.deps.Records.(TestEvidence)
	if !ok {
		return
	}
	byJob := map[string][]string{}
	for _, f := range failures {
		for _, j := range f.jobs {
			byJob[j.Name] = append(byJob[j.Name], f.result.FailedTests...)
		}
	}
	for job, tests := range byJob {
		if len(tests) == 0 {
			delete(byJob, job)
		}
	}
	if len(byJob) == 0 {
		return
	}
	if err := ev.SaveLogFailedTests(ctx, s.args.Owner, s.args.Repo, s.args.RunID, attempt, byJob); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to record the failed tests for test optimization")
	}
}
