package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"

	"github.com/contexten/autonomous/workflows/dependencymanagement"
)

// enqueueDepsFollowUp starts the merge-when-green check of a dependency update PR when a check
// suite on its head completes (any app's suite, any conclusion: the worker reads every check
// of the head). One job per suite, so a redelivery adds nothing and the last suite to finish
// is the one that finds the head green. headBranch and headSHA are the suite's.
func (h *CheckSuiteHandler) enqueueDepsFollowUp(ctx context.Context, logger zerolog.Logger, headBranch, headSHA gjson.Result, owner, name string, installationID, suiteID int64) error {
	f := fields{event: "check_suite"}
	branch := f.optionalString(headBranch, "check_suite.head_branch")
	sha := f.optionalString(headSHA, "check_suite.head_sha")
	if f.err != nil {
		return f.err
	}
	if !strings.HasPrefix(branch, dependencymanagement.BranchPrefix) || sha == "" {
		return nil
	}
	return h.enqueue(ctx, logger, dependencymanagement.Args{
		Owner: owner, Repo: name, InstallationID: installationID,
		Trigger: fmt.Sprintf("check_suite:%d", suiteID), Branch: branch, HeadSHA: sha,
	})
}
