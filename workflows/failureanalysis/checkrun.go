package failureanalysis

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/store"
)

// maxAnnotations is GitHub's limit of annotations per check-run request.
const maxAnnotations = 50

// upsertCheckRun creates the bot's check run on the head commit, or updates the one it created
// for this run before (a retried job must not add a second). runKey is the run id, or the
// negated id of a third-party check run; it is the check run's external id, by which a create
// whose answer was lost (a timeout, a crash before the id was saved) is found again.
func (s *session) upsertCheckRun(ctx context.Context, headSHA string, runKey, existingID int64, sec section, failures []failure) (int64, error) {
	a := s.args
	title := sec.Title
	if title == "" {
		title = markdown.OneLine(sec.Headline)
	}
	summary := sec.Body
	if len(summary) > maxCommentBytes { // GitHub caps the summary at 65535 characters
		summary = markdown.Truncate(summary, maxCommentBytes)
	}
	output := &github.CheckRunOutput{Title: &title, Summary: &summary, Annotations: annotations(failures)}
	conclusion := "neutral"
	key := fmt.Sprintf("check-run:%s/%s:%d", a.Owner, a.Repo, runKey)
	update := func(id int64) error {
		// PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}
		// https://docs.github.com/en/rest/checks/runs#update-a-check-run
		_, _, err := s.client.Checks.UpdateCheckRun(ctx, a.Owner, a.Repo, id, github.UpdateCheckRunOptions{
			Name: CheckRunName, Status: github.String("completed"), Conclusion: &conclusion, Output: output,
		})
		if err != nil {
			return fmt.Errorf("failed to update check run %d: %w", id, err)
		}
		return nil
	}
	if existingID != 0 {
		err := update(existingID)
		if err == nil || !ghapp.IsNotFound(err) {
			return existingID, err
		}
		// Gone (GitHub drops check runs of old commits): create another.
		if err := s.w.deps.Records.ForgetEffect(ctx, key, existingID); err != nil {
			return 0, err
		}
	}
	externalID := checkRunExternalID(runKey)
	id, created, err := s.w.deps.Records.CreateOnce(ctx, store.Effect{
		Key: key, Settle: s.w.deps.CreateSettle,
		Find: func(ctx context.Context) (int64, error) { return s.findCheckRun(ctx, headSHA, externalID) },
		Create: func(ctx context.Context) (int64, error) {
			// POST /repos/{owner}/{repo}/check-runs
			// https://docs.github.com/en/rest/checks/runs#create-a-check-run
			run, _, err := s.client.Checks.CreateCheckRun(ctx, a.Owner, a.Repo, github.CreateCheckRunOptions{
				Name: CheckRunName, HeadSHA: headSHA, ExternalID: &externalID,
				Status: github.String("completed"), Conclusion: &conclusion, Output: output,
			})
			if err != nil {
				return 0, fmt.Errorf("failed to create check run: %w", err)
			}
			return run.GetID(), nil
		},
	})
	if err != nil || created {
		return id, err
	}
	// An earlier execution created it: give it this execution's report.
	return id, update(id)
}

// checkRunExternalID is the external id of the bot's check run for a run.
func checkRunExternalID(runKey int64) string { return fmt.Sprintf("autonomous-ci:run:%d", runKey) }

// findCheckRun looks up the bot's check run of a run on the head commit by its external id.
func (s *session) findCheckRun(ctx context.Context, headSHA, externalID string) (int64, error) {
	a := s.args
	query := url.Values{"check_name": {CheckRunName}, "filter": {"all"}, "per_page": {"100"}}
	for page := 1; page <= 10; page++ {
		query.Set("page", strconv.Itoa(page))
		var list github.ListCheckRunsResults
		// GET /repos/{owner}/{repo}/commits/{ref}/check-runs
		// https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
		resp, err := ghapp.GetFresh(ctx, s.client, fmt.Sprintf("repos/%s/%s/commits/%s/check-runs",
			url.PathEscape(a.Owner), url.PathEscape(a.Repo), url.PathEscape(headSHA)), query, &list)
		if ghapp.IsNotFound(err) {
			return 0, nil // no such commit (any more): no check run on it either
		}
		if err != nil {
			return 0, fmt.Errorf("failed to list check runs of %s: %w", headSHA, err)
		}
		for _, c := range list.CheckRuns {
			if c.GetExternalID() == externalID && c.GetName() == CheckRunName {
				return c.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
	}
	return 0, nil
}

// annotations turns source locations named by the logs into check-run annotations. A bare
// file name ("foo_test.go:12", as go test prints it) is dropped when a path-qualified location
// ("pkg/foo_test.go:12") names the same file and line: it is the same place, and only the
// qualified path is a file of the repository.
func annotations(failures []failure) []*github.CheckRunAnnotation {
	qualified := map[string]bool{}
	for _, f := range failures {
		for _, loc := range f.result.Locations {
			if path := annotationPath(loc.Path); strings.Contains(path, "/") && loc.Line > 0 {
				qualified[fmt.Sprintf("%s:%d", path[strings.LastIndexByte(path, '/')+1:], loc.Line)] = true
			}
		}
	}
	var out []*github.CheckRunAnnotation
	seen := map[string]bool{}
	for _, f := range failures {
		for _, loc := range f.result.Locations {
			path := annotationPath(loc.Path)
			if path == "" || loc.Line <= 0 || strings.HasPrefix(path, "/") || strings.Contains(path, "..") {
				continue // annotations must name a file of the repository
			}
			if !strings.Contains(path, "/") && qualified[fmt.Sprintf("%s:%d", path, loc.Line)] {
				continue
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
