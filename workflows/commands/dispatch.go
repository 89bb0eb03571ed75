package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/recovery"
)

// outcomeStatus says how a command ended.
type outcomeStatus string

// The outcomes: done and info count as success (🚀), refused and failed do not (😕).
const (
	statusDone    outcomeStatus = "done"
	statusInfo    outcomeStatus = "info"
	statusRefused outcomeStatus = "refused"
	statusFailed  outcomeStatus = "failed"
)

// outcome is one command's result: its status and the Markdown answer.
type outcome struct {
	Status outcomeStatus
	Text   string
}

func (o outcome) ok() bool { return o.Status == statusDone || o.Status == statusInfo }

// result pairs a command with its outcome.
type result struct {
	Command Command
	Outcome outcome
}

// spec describes a command.
type spec struct {
	Name  string
	Usage string
	Doc   string
	// Acting commands need write permission and count against the budgets.
	Acting bool
	// Available is false for commands whose workflow has not landed in this version.
	Available bool
	run       func(s *session, ctx context.Context, c Command) (outcome, error)
}

// specs lists the commands in the order help shows them. It is filled in init because the
// commands' functions refer back to specs (help and refusals list the commands).
var specs []spec

func init() {
	specs = []spec{
		{Name: "help", Usage: "help", Doc: "list the commands", Available: true, run: (*session).help},
		{Name: "analyze", Usage: "analyze [run-id]", Doc: "analyze the latest failed workflow run of this pull request's head commit, or the given run", Acting: true, Available: true, run: (*session).analyze},
		{Name: "retry", Usage: "retry", Doc: "re-run the failed jobs of the latest failed run of each workflow on the head commit", Acting: true, Available: true, run: (*session).retry},
		{Name: "fix", Usage: "fix", Doc: "hand the failure to the AI fix agent (maintain or admin on fork pull requests)", Acting: true, Available: true, run: (*session).fix},
		{Name: "status", Usage: "status", Doc: "show what the bot did on this pull request", Available: true, run: (*session).status},
		{Name: "cancel", Usage: "cancel", Doc: "cancel this pull request's queued or running executions", Acting: true, Available: true, run: (*session).cancel},
		{Name: "perf", Usage: "perf", Doc: "compare CI durations with the baseline branch", Acting: true, Available: true, run: (*session).perf},
		{Name: "audit", Usage: "audit", Doc: "audit this pull request's workflow files and dependencies (what it introduces)", Acting: true, Available: true, run: (*session).audit},
		{Name: "deps", Usage: "deps", Doc: "report the dependency versions this pull request changes and their advisories", Acting: true, Available: true, run: (*session).deps},
		{Name: "flaky", Usage: "flaky", Doc: "say which of this pull request's failed tests are known flaky, with evidence", Acting: true, Available: true, run: (*session).flaky},
	}
}

func lookup(name string) (spec, bool) {
	for _, sp := range specs {
		if sp.Name == name {
			return sp, true
		}
	}
	return spec{}, false
}

// availableNames lists the commands this version runs, as code spans.
func availableNames(prefix string) string {
	var names []string
	for _, sp := range specs {
		if sp.Available {
			names = append(names, markdown.Code(prefix+" "+sp.Name))
		}
	}
	return strings.Join(names, ", ")
}

// run runs one command: unless its outcome is already in the ledger (a retried job), it checks
// the permission, the availability and the budgets, acts, and records the outcome. The error it
// returns is one the job must retry or snooze on.
func (s *session) run(ctx context.Context, c Command) (outcome, error) {
	sp, known := lookup(c.Name)
	if !known {
		return outcome{Status: statusRefused, Text: fmt.Sprintf("Unknown command %s. Valid commands: %s. Write %s for details.",
			markdown.Code(c.Name), availableNames(s.prefix), markdown.Code(s.prefix+" help"))}, nil
	}
	key := entryKey{CommentID: s.args.CommentID, Line: c.Line, Command: c.Name, RepoID: s.args.RepoID, Number: s.args.Number}
	if prev, ok, err := s.ledger.finished(ctx, key); err != nil || ok {
		return prev, err
	}
	o, err := s.decide(ctx, sp, c, key)
	if err != nil {
		return outcome{}, err
	}
	if err := s.ledger.finish(ctx, key, o, s.w.deps.Now()); err != nil {
		return outcome{}, err
	}
	return o, nil
}

func (s *session) decide(ctx context.Context, sp spec, c Command, key entryKey) (outcome, error) {
	need, err := s.required(ctx, sp)
	if err != nil {
		return s.githubFailure(err)
	}
	if need > levelNone {
		have, err := s.authorLevel(ctx)
		if err != nil {
			return s.githubFailure(err)
		}
		if have < need {
			return outcome{Status: statusRefused, Text: fmt.Sprintf("Sorry, %s needs the **%s** permission on this repository (or higher); you have %s. Nothing was done.",
				markdown.Code(c.Text(s.prefix)), need, describeLevel(have))}, nil
		}
	}
	if !sp.Available {
		return outcome{Status: statusRefused, Text: fmt.Sprintf("%s is not available in this version: its workflow has not landed yet. Available commands: %s.",
			markdown.Code(s.prefix+" "+sp.Name), availableNames(s.prefix))}, nil
	}
	if sp.Name == "fix" && !s.w.deps.FixAgentConfigured {
		return outcome{Status: statusFailed, Text: "No AI fix agent is configured on this server (CODEGEN_TOKEN and CODEGEN_ORG_ID are not set), so no fix was attempted. " +
			markdown.Code(s.prefix+" analyze") + " reports the root cause of a failure."}, nil
	}
	if sp.Acting {
		ok, until, err := s.ledger.reserve(ctx, key, s.cfg.Commands.RateLimit, s.w.deps.Now())
		if err != nil {
			return outcome{}, err
		}
		if !ok {
			wait := until.Sub(s.w.deps.Now()).Round(time.Minute)
			return outcome{Status: statusRefused, Text: fmt.Sprintf("Rate limit reached for acting commands (%s). "+
				"%s can run again at %s (in %s).", describeLimits(s.cfg.Commands.RateLimit),
				markdown.Code(s.prefix+" "+sp.Name), until.UTC().Format("2006-01-02 15:04 UTC"), max(wait, time.Minute))}, nil
		}
	}
	o, err := sp.run(s, ctx, c)
	if err != nil {
		return s.githubFailure(err)
	}
	return o, nil
}

// describeLimits words the configured hourly limits, leaving out the unlimited (zero) ones.
func describeLimits(l config.CommandRateLimit) string {
	var parts []string
	if l.PerPRPerHour > 0 {
		parts = append(parts, fmt.Sprintf("%d per pull request", l.PerPRPerHour))
	}
	if l.PerRepoPerHour > 0 {
		parts = append(parts, fmt.Sprintf("%d per repository", l.PerRepoPerHour))
	}
	return "at most " + strings.Join(parts, " and ") + " per hour"
}

// required returns the permission a command needs: write for acting commands (maintain for fix
// on a fork pull request), none for the others, raised — never lowered — by the configuration.
func (s *session) required(ctx context.Context, sp spec) (level, error) {
	need := levelNone
	if sp.Acting {
		need = levelWrite
	}
	if sp.Name == "fix" {
		fork, err := s.fromFork(ctx)
		if err != nil {
			return levelNone, err
		}
		if fork {
			need = levelMaintain
		}
	}
	if configured, ok := parseLevel(s.cfg.Commands.Permissions[sp.Name]); ok && configured > need {
		need = configured
	}
	return need, nil
}

// githubFailure turns an error GitHub answered permanently (403, 404, 422) into a failed command;
// any other error (rate limits, outages, the database) is returned for the job to retry.
func (s *session) githubFailure(err error) (outcome, error) {
	if _, rateLimited := recovery.RetryAfter(err, s.w.deps.Now()); rateLimited {
		return outcome{}, err
	}
	switch recovery.Classify(err) {
	case recovery.NotFound, recovery.Invalid, recovery.AuthError:
		return outcome{Status: statusFailed, Text: "GitHub refused the request: " + markdown.Code(githubMessage(err)) + ". Nothing more was done."}, nil
	}
	return outcome{}, err
}

// githubMessage is the status and message of a GitHub error, without the request URL.
func githubMessage(err error) string {
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil {
		return strings.TrimSpace(fmt.Sprintf("%d %s", resp.Response.StatusCode, resp.Message))
	}
	return "request failed"
}

// help lists the commands.
func (s *session) help(_ context.Context, _ Command) (outcome, error) {
	var b strings.Builder
	b.WriteString("Commands start a line with " + markdown.Code(s.prefix) + " or " + markdown.Code("@"+s.w.deps.AppSlug) + ":\n\n")
	for _, sp := range specs {
		note := ""
		switch {
		case !sp.Available:
			note = " _(not available in this version)_"
		case sp.Acting:
			note = " _(needs write permission)_"
		}
		fmt.Fprintf(&b, "- %s — %s%s\n", markdown.Code(s.prefix+" "+sp.Usage), sp.Doc, note)
	}
	fmt.Fprintf(&b, "\nAt most %d commands per comment run, in order.", MaxCommands)
	return outcome{Status: statusInfo, Text: b.String()}, nil
}
