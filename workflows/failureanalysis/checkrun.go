package failureanalysis

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"
)

// maxAnnotations is GitHub's limit of annotations per check-run request.
const maxAnnotations = 50

// upsertCheckRun creates the bot's check run on the head commit, or updates the one it created
// for this attempt before (a retried job must not add a second).
func (s *session) upsertCheckRun(ctx context.Context, headSHA string, existingID int64, sec section, failures []failure) (int64, error) {
	a := s.args
	title := sec.Title
	if title == "" {
		title = oneLine(sec.Headline)
	}
	summary := sec.Body
	if len(summary) > maxCommentBytes { // GitHub caps the summary at 65535 characters
		summary = truncate(summary, maxCommentBytes)
	}
	output := &github.CheckRunOutput{Title: &title, Summary: &summary, Annotations: annotations(failures)}
	conclusion := "neutral"
	if existingID != 0 {
		// PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}
		// https://docs.github.com/en/rest/checks/runs#update-a-check-run
		_, _, err := s.client.Checks.UpdateCheckRun(ctx, a.Owner, a.Repo, existingID, github.UpdateCheckRunOptions{
			Name: CheckRunName, Status: github.String("completed"), Conclusion: &conclusion, Output: output,
		})
		if err == nil {
			return existingID, nil
		}
		if !isNotFound(err) {
			return 0, fmt.Errorf("failed to update check run %d: %w", existingID, err)
		}
	}
	// POST /repos/{owner}/{repo}/check-runs
	// https://docs.github.com/en/rest/checks/runs#create-a-check-run
	run, _, err := s.client.Checks.CreateCheckRun(ctx, a.Owner, a.Repo, github.CreateCheckRunOptions{
		Name: CheckRunName, HeadSHA: headSHA, Status: github.String("completed"), Conclusion: &conclusion, Output: output,
	})
	if err != nil {
		return 0, fmt.Errorf("failed to create check run: %w", err)
	}
	return run.GetID(), nil
}

// annotations turns source locations named by the logs into check-run annotations.
func annotations(failures []failure) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	seen := map[string]bool{}
	for _, f := range failures {
		for _, loc := range f.result.Locations {
			path := strings.TrimPrefix(loc.Path, "./")
			if path == "" || loc.Line <= 0 || strings.HasPrefix(path, "/") || strings.Contains(path, "..") {
				continue // annotations must name a file of the repository
			}
			key := fmt.Sprintf("%s:%d:%s", path, loc.Line, loc.Message)
			if seen[key] || len(out) == maxAnnotations {
				continue
			}
			seen[key] = true
			msg := loc.Message
			if msg == "" {
				msg = f.result.Summary
			}
			msg = truncate(msg, 4000)
			out = append(out, &github.CheckRunAnnotation{
				Path: github.String(path), StartLine: github.Int(loc.Line), EndLine: github.Int(loc.Line),
				AnnotationLevel: github.String("failure"), Message: github.String(msg),
				Title: github.String(string(f.result.Classification)),
			})
		}
	}
	return out
}
