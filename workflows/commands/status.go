package commands

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/workflows"
)

// jobSummary is the part of a job's args status shows.
type jobSummary struct {
	RunID   int64  `json:"run_id"`
	Trigger string `json:"trigger"`
	Author  string `json:"author"`
}

// status lists this pull request's executions, found by their PR tag.
func (s *session) status(ctx context.Context, _ Command) (outcome, error) {
	jobs, err := s.prExecutions(ctx)
	if err != nil {
		return outcome{}, err
	}
	res := &river.JobListResult{Jobs: jobs}
	if len(res.Jobs) == 0 {
		return outcome{Status: statusInfo, Text: "No executions are recorded for this pull request."}, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The latest %d executions for this pull request:\n\n| Execution | Kind | State | Created | Details |\n|---|---|---|---|---|\n", len(res.Jobs))
	for _, row := range res.Jobs {
		var sum jobSummary
		_ = json.Unmarshal(row.EncodedArgs, &sum)
		var details []string
		if sum.RunID != 0 {
			details = append(details, fmt.Sprintf("run %d", sum.RunID))
		}
		if sum.Trigger != "" {
			details = append(details, markdown.Code(sum.Trigger))
		}
		if sum.Author != "" {
			details = append(details, "by "+markdown.Code(sum.Author))
		}
		if row.ID == s.job.ID {
			details = append(details, "this command")
		}
		fmt.Fprintf(&b, "| #%d | %s | %s | %s | %s |\n", row.ID, markdown.Code(row.Kind), row.State,
			row.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), strings.Join(details, ", "))
	}
	return outcome{Status: statusInfo, Text: strings.TrimRight(b.String(), "\n")}, nil
}

// prExecutions returns the latest executions of this pull request: those tagged with it, and
// the failure analyses of the runs and checks on its head commit, which a webhook enqueues
// without the tag when the run names no pull request (a fork's).
func (s *session) prExecutions(ctx context.Context) ([]*rivertype.JobRow, error) {
	jobs, err := river.ClientFromContextSafely[*sql.Tx](ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list executions: %w", err)
	}
	params := river.NewJobListParams().OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(statusLimit)
	tagged, err := jobs.JobList(ctx, params.TagsAny(PRTag(s.args.RepoID, s.args.Number)))
	if err != nil {
		return nil, fmt.Errorf("failed to list executions: %w", err)
	}
	runIDs, checkIDs, err := s.headRuns(ctx)
	if err != nil {
		return nil, err
	}
	rows := tagged.Jobs
	if len(runIDs)+len(checkIDs) > 0 {
		named := river.NamedArgs{"owner": s.args.Owner, "repo": s.args.Repo}
		in := func(field string, ids []int64) string {
			var names []string
			for i, id := range ids {
				name := fmt.Sprintf("%s%d", field, i)
				named[name] = strconv.FormatInt(id, 10)
				names = append(names, "@"+name)
			}
			if len(names) == 0 {
				return "FALSE"
			}
			// args ->> 'x' is text on Postgres and a number on SQLite: compare as text.
			return fmt.Sprintf("CAST(args ->> '%s' AS TEXT) IN (%s)", field, strings.Join(names, ", "))
		}
		analyses, err := jobs.JobList(ctx, params.Kinds(string(workflows.FailureAnalysis)).Where(
			"args ->> 'owner' = @owner AND args ->> 'repo' = @repo AND ("+in("run_id", runIDs)+" OR "+in("check_run_id", checkIDs)+")", named))
		if err != nil {
			return nil, fmt.Errorf("failed to list the analyses of the head commit: %w", err)
		}
		rows = append(rows, analyses.Jobs...)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID > rows[j].ID })
	rows = slices.CompactFunc(rows, func(a, b *rivertype.JobRow) bool { return a.ID == b.ID })
	return rows[:min(len(rows), statusLimit)], nil
}

// maxHeadRuns bounds the runs and checks of the head commit whose analyses status looks for.
const maxHeadRuns = 100

// headRuns returns the workflow runs on the pull request's head commit and the third-party
// checks the bot analyzed there.
func (s *session) headRuns(ctx context.Context) (runIDs, checkIDs []int64, err error) {
	pr, err := s.pull(ctx)
	if err != nil {
		return nil, nil, err
	}
	head := pr.GetHead().GetSHA()
	if head == "" {
		return nil, nil, nil
	}
	runs, err := s.runsOn(ctx, head)
	if err != nil {
		return nil, nil, err
	}
	for _, run := range runs {
		runIDs = append(runIDs, run.GetID())
	}
	results, err := s.w.deps.Store.RunResultsForCommit(ctx, s.args.Owner, s.args.Repo, head)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range results {
		if r.RunID < 0 {
			checkIDs = append(checkIDs, -r.RunID) // a third-party check's analysis
		} else {
			runIDs = append(runIDs, r.RunID)
		}
	}
	slices.Sort(runIDs)
	slices.Sort(checkIDs)
	runIDs, checkIDs = slices.Compact(runIDs), slices.Compact(checkIDs)
	return runIDs[:min(len(runIDs), maxHeadRuns)], checkIDs[:min(len(checkIDs), maxHeadRuns)], nil
}
