package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// RepoConfigs loads a repository's configuration (config.RepoConfigLoader). A configuration that
// does not parse yields the defaults and an error; a GitHub error yields a zero config.
type RepoConfigs interface {
	Load(ctx context.Context, client *github.Client, owner, repo string) (config.RepoConfig, error)
}

// Deps are the worker's collaborators.
type Deps struct {
	Clients ghapp.Clients
	Configs RepoConfigs
	// Store holds the command ledger (see Migrate).
	Store *store.Store
	// AppSlug is the app's slug: "@<slug> <command>" works in every repository.
	AppSlug string
	// Now is the clock, time.Now when nil.
	Now func() time.Time
	// CreateSettle is how long a reply whose create timed out may still land on GitHub
	// (store.Effect.Settle); default store.DefaultCreateSettle.
	CreateSettle time.Duration
	// FixAgentConfigured is true when the AI fix agent (Codegen) is configured: `/ci fix`
	// works only then.
	FixAgentConfigured bool
}

// Worker runs the slash commands of one pull-request comment.
type Worker struct {
	river.WorkerDefaults[Args]
	deps Deps
}

// NewWorker creates the slash_command worker.
func NewWorker(deps Deps) *Worker {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Worker{deps: deps}
}

// Timeout implements river.Worker: commands only make a handful of API calls.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 5 * time.Minute }

// Output is what a slash_command execution records as its River output.
type Output struct {
	// Commands are the command names run, in order.
	Commands []string `json:"commands"`
	// Statuses are their outcomes: done, info, refused or failed.
	Statuses []string `json:"statuses"`
	// ReplyID is the bot's reply comment.
	ReplyID int64 `json:"reply_id"`
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	a := job.Args
	logger := zerolog.Ctx(ctx).With().Str(githubapp.LogKeyRepositoryOwner, a.Owner).Str(githubapp.LogKeyRepositoryName, a.Repo).
		Int(githubapp.LogKeyPRNum, a.Number).Int64(workflows.LogKeyCommentID, a.CommentID).Logger()
	ctx = logger.WithContext(ctx)

	client, installationID, err := w.deps.Clients.ForRepo(ctx, a.Owner, a.Repo, a.InstallationID)
	if err != nil {
		return decide(fmt.Errorf("failed to create a github client: %w", err))
	}
	// GET /repos/{owner}/{repo}/issues/comments/{comment_id}
	// https://docs.github.com/rest/issues/comments#get-an-issue-comment
	comment, _, err := client.Issues.GetComment(ctx, a.Owner, a.Repo, a.CommentID)
	if ghapp.HasStatus(err, http.StatusNotFound) {
		logger.Info().Msg("Comment was deleted; nothing to do")
		return nil
	}
	if err != nil {
		return decide(fmt.Errorf("failed to get comment: %w", err))
	}
	author := comment.GetUser().GetLogin()
	if IsBot(author, comment.GetUser().GetType(), w.deps.AppSlug) {
		logger.Debug().Msg("Ignoring a bot's comment")
		return nil
	}
	if a.BodyHash != "" && BodyHash(comment.GetBody()) != a.BodyHash {
		// Edited comments are ignored: the edit's own webhook is, and so is its text here.
		logger.Info().Msg("Comment was edited after it was posted; ignoring it")
		return nil
	}
	cfg, cfgErr := w.deps.Configs.Load(ctx, client, a.Owner, a.Repo)
	if cfgErr != nil && reflect.ValueOf(cfg).IsZero() {
		return decide(fmt.Errorf("failed to load the repository config: %w", cfgErr))
	}
	if !cfg.Commands.Enabled {
		logger.Info().Msg("Slash commands are disabled in this repository")
		return nil
	}
	prefix := cfg.Commands.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	cmds := Parse(comment.GetBody(), prefix, w.deps.AppSlug)
	if len(cmds) == 0 {
		logger.Debug().Msg("Comment holds no command")
		return nil
	}
	s := &session{
		w: w, job: job, args: a, client: client, installationID: installationID,
		cfg: cfg, cfgErr: cfgErr, prefix: prefix, author: author, comment: comment,
		ledger: ledger{db: w.deps.Store.DB, dialect: w.deps.Store.Dialect},
	}
	if err := s.react(ctx, "eyes"); err != nil {
		return decide(err)
	}
	results := make([]result, 0, len(cmds))
	for _, c := range cmds {
		o, err := s.run(ctx, c)
		if err != nil {
			return decide(err)
		}
		logger.Info().Str("command", c.Name).Str("status", string(o.Status)).Msg("Ran slash command")
		results = append(results, result{Command: c, Outcome: o})
	}
	replyID, err := s.upsertReply(ctx, s.render(results))
	if err != nil {
		return decide(err)
	}
	final := "rocket"
	out := Output{ReplyID: replyID}
	for _, r := range results {
		out.Commands = append(out.Commands, r.Command.Name)
		out.Statuses = append(out.Statuses, string(r.Outcome.Status))
		if !r.Outcome.ok() {
			final = "confused"
		}
	}
	if err := s.react(ctx, final); err != nil {
		return decide(err)
	}
	if err := river.RecordOutput(ctx, out); err != nil {
		logger.Warn().Err(err).Msg("Could not record the job output")
	}
	return nil
}

// session is one execution's state: the comment, the configuration, and what was fetched lazily.
type session struct {
	w              *Worker
	job            *river.Job[Args]
	args           Args
	client         *github.Client
	installationID int64
	cfg            config.RepoConfig
	cfgErr         error
	prefix         string
	author         string
	comment        *github.IssueComment
	ledger         ledger

	pr         *github.PullRequest
	permission *level
}

// pull returns the pull request, fetched once.
func (s *session) pull(ctx context.Context) (*github.PullRequest, error) {
	if s.pr == nil {
		// GET /repos/{owner}/{repo}/pulls/{pull_number}
		// https://docs.github.com/rest/pulls/pulls#get-a-pull-request
		// Fresh: the head commit decides which runs are re-run or analyzed, and a push a moment
		// ago must not leave the HTTP cache's older head in charge.
		var pr github.PullRequest
		_, err := ghapp.GetFresh(ctx, s.client, fmt.Sprintf("repos/%s/%s/pulls/%d",
			url.PathEscape(s.args.Owner), url.PathEscape(s.args.Repo), s.args.Number), nil, &pr)
		if err != nil {
			return nil, fmt.Errorf("failed to get pull request: %w", err)
		}
		s.pr = &pr
	}
	return s.pr, nil
}

// fromFork reports whether the pull request's head is in another repository (or a deleted one).
func (s *session) fromFork(ctx context.Context) (bool, error) {
	pr, err := s.pull(ctx)
	if err != nil {
		return false, err
	}
	head := pr.GetHead().GetRepo()
	return head == nil || head.GetID() != pr.GetBase().GetRepo().GetID(), nil
}

// authorLevel returns the comment author's permission, fetched once.
func (s *session) authorLevel(ctx context.Context) (level, error) {
	if s.permission == nil {
		l, err := fetchPermission(ctx, s.client, s.args.Owner, s.args.Repo, s.author)
		if err != nil {
			return levelNone, err
		}
		s.permission = &l
	}
	return *s.permission, nil
}

// react adds a reaction to the comment; GitHub answers an existing reaction with 200.
//
// GitHub API docs: https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment
func (s *session) react(ctx context.Context, content string) error {
	if _, _, err := s.client.Reactions.CreateIssueCommentReaction(ctx, s.args.Owner, s.args.Repo, s.args.CommentID, content); err != nil {
		return fmt.Errorf("failed to add the %s reaction: %w", content, err)
	}
	return nil
}

// decide is recovery.Decide, and a snooze while a create whose answer was lost may still land.
func decide(err error) error {
	var unsettled *store.UnsettledError
	if errors.As(err, &unsettled) {
		return river.JobSnooze(unsettled.Wait)
	}
	return recovery.Decide(err)
}

// isStatus reports whether err is a GitHub error response with the given HTTP status.
