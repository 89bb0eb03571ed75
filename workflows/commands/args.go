// Package commands is the slash_command workflow: it runs the commands people write in
// pull-request comments (`/ci retry`, `@<app-slug> analyze`, …). The issue_comment handler only
// recognises that a comment may hold a command and enqueues one job per comment; the worker
// re-fetches the comment, parses it with the repository's configured prefix, checks permissions
// and budgets, acts, reacts and answers in one reply comment that it edits on retries.
package commands

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/workflows"
)

// Kind is the River job kind of a slash-command execution.
const Kind = string(workflows.SlashCommand)

// Args identifies one comment to run commands from. It carries identifiers only: the comment's
// text is re-fetched by the worker and never trusted from the job. Uniqueness is by comment id,
// so a redelivered webhook never runs a comment twice.
type Args struct {
	Owner          string `json:"owner"`
	Repo           string `json:"repo"`
	InstallationID int64  `json:"installation_id,omitempty"`
	// RepoID is the repository's numeric id (repository.id), used for the PR tag and budgets.
	RepoID int64 `json:"repo_id"`
	// Number is the pull request's number.
	Number int `json:"number"`
	// CommentID is the issue comment holding the commands.
	CommentID int64 `json:"comment_id" river:"unique"`
	// Author is the comment author's login as the webhook reported it, for logs and listings;
	// the worker decides on the author of the comment it fetches.
	Author string `json:"author"`
	// BodyHash is BodyHash of the comment's body as posted (the webhook's): the worker runs the
	// comment only while the body it fetches still has this hash, so an edit made before the job
	// ran (or between retries) never runs commands. Empty in jobs from older versions.
	BodyHash string `json:"body_hash,omitempty"`
}

// BodyHash is the hex SHA-256 of a comment body: a fingerprint of the text, not the text.
func BodyHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return Kind }

// InsertOpts implements river.JobArgsWithInsertOpts: unique by comment id, tagged with the pull
// request so `status` and `cancel` find it.
func (a Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Tags:       []string{PRTag(a.RepoID, a.Number)},
		UniqueOpts: river.UniqueOpts{ByArgs: true},
	}
}

// PRTag is the River tag carried by every job acting on one pull request: "pr-<repository
// id>-<number>". Workflows enqueued for a pull request (failure analysis included) tag their jobs
// with it so that `/ci status` and `/ci cancel` find them.
func PRTag(repoID int64, number int) string { return workflows.PRTag(repoID, number) }

// IsBot reports whether a comment author is a bot: GitHub's user type "Bot", a login ending in
// "[bot]", or the app itself (appSlug, case-insensitive).
func IsBot(login, userType, appSlug string) bool {
	if strings.EqualFold(userType, "Bot") || strings.HasSuffix(strings.ToLower(login), "[bot]") {
		return true
	}
	return appSlug != "" && strings.EqualFold(login, appSlug)
}
