package failureanalysis

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/markdown"

	"github.com/contexten/autonomous/prreport"
)

// upsertCheckRun creates the bot's check run on the head commit, or updates the one it created
// for this run before (a retried job must not add a second). runKey is the run id, or the
// negated id of a third-party check run; it is the check run's external id, by which a create
// whose answer was lost (a timeout, a crash before the id was saved) is found again.
func (s *session) upsertCheckRun(ctx context.Context, headSHA string, runKey, existingID int64, sec prreport.Section, failures []failure) (int64, error) {
	title := sec.Title
	if title == "" {
		title = markdown.OneLine(sec.Headline)
	}
	return s.reporter().UpsertCheckRun(ctx, prreport.CheckRun{
		Name: CheckRunName, HeadSHA: headSHA, ExternalID: checkRunExternalID(runKey),
		Key:        fmt.Sprintf("check-run:%s/%s:%d", s.args.Owner, s.args.Repo, runKey),
		ExistingID: existingID, Title: title, Summary: sec.Body, Annotations: annotations(failures),
	})
}

// checkRunExternalID is the external id of the bot's check run for a run.
func checkRunExternalID(runKey int64) string { return fmt.Sprintf("autonomous-ci:run:%d", runKey) }

// annotations turns source locations named by the logs into check-run annotations. A path is
// dropped when a longer one at the same line ends with "/" and it ("foo_test.go:12", as go test
// prints it, beside "pkg/foo_test.go:12:5"): it is the same place, and the longest path is the
// one most likely a file of the repository. Order and columns do not matter.
func annotations(failures []failure) []*github.CheckRunAnnotation {
	paths := map[int][]string{} // line → the paths named at it
	for _, f := range failures {
		for _, loc := range f.result.Locations {
			if path := annotationPath(loc.Path); path != "" && loc.Line > 0 {
				paths[loc.Line] = append(paths[loc.Line], path)
			}
		}
	}
	longer := func(path string, line int) bool {
		for _, q := range paths[line] {
			if len(q) > len(path) && strings.HasSuffix(q, "/"+path) {
				return true
			}
		}
		return false
	}
	var out []*github.CheckRunAnnotation
	seen := map[string]bool{}
	for _, f := range failures {
		for _, loc := range f.result.Locations {
			path := annotationPath(loc.Path)
			if path == "" || loc.Line <= 0 || strings.HasPrefix(path, "/") || strings.Contains(path, "..") {
				continue // annotations must name a file of the repository
			}
			if longer(path, loc.Line) {
				continue
			}
			key := fmt.Sprintf("%s:%d:%s", path, loc.Line, loc.Message)
			if seen[key] || len(out) == prreport.MaxAnnotations {
				continue
			}
			seen[key] = true
			msg := loc.Message
			if msg == "" {
				msg = f.result.Summary
			}
			msg = markdown.Truncate(msg, 4000)
			out = append(out, &github.CheckRunAnnotation{
				Path: github.String(path), StartLine: github.Int(loc.Line), EndLine: github.Int(loc.Line),
				AnnotationLevel: github.String("failure"), Message: github.String(msg),
				Title: github.String(string(f.result.Classification)),
			})
		}
	}
	return out
}

func annotationPath(p string) string { return strings.TrimPrefix(p, "./") }
