// Package handlers turns GitHub webhooks into durable workflow executions. A handler decodes
// only the fields it needs, filters on the payload alone, and enqueues one job; it never writes
// to GitHub. The dispatcher answers only after the job is committed.
package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/commands"
	"github.com/contexten/autonomous/workflows/dependencymanagement"
	"github.com/contexten/autonomous/workflows/failureanalysis"
	"github.com/contexten/autonomous/workflows/performancemonitoring"
	"github.com/contexten/autonomous/workflows/securityaudit"
	"github.com/contexten/autonomous/workflows/testoptimization"
)

// Enqueuer durably stores a job (workflows.Inbox: with the rest of the delivery's jobs, or on
// its own).
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (workflows.Inserted, error)
}

// Base holds what every handler needs.
type Base struct {
	Jobs Enqueuer
}

// MalformedPayloadError reports a payload that is not the JSON a handler expects; the server
// answers it with 400.
type MalformedPayloadError struct {
	Event  string
	Reason string
}

func (e *MalformedPayloadError) Error() string {
	return fmt.Sprintf("malformed %s payload: %s", e.Event, e.Reason)
}

// EnqueueError reports that a job could not be stored; the server answers it with 503 so GitHub
// records a failed delivery that can be redelivered.
type EnqueueError struct{ Err error }

func (e *EnqueueError) Error() string { return "failed to enqueue job: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *EnqueueError) Unwrap() error { return e.Err }

// IsMalformed reports whether err is a MalformedPayloadError.
func IsMalformed(err error) bool {
	var m *MalformedPayloadError
	return errors.As(err, &m)
}

// IsEnqueue reports whether err is an EnqueueError.
func IsEnqueue(err error) bool {
	var e *EnqueueError
	return errors.As(err, &e)
}

// extract checks the payload and reads the values at paths in one pass (scan): a handler's
// ingest reads each byte of a ~20 KB workflow_run delivery once, and copies only the few dozen
// bytes it reads. A payload that is not valid JSON, nests deeper than MaxPayloadDepth or is not
// an object is a MalformedPayloadError.
func extract(event string, payload []byte, paths *pathSet) ([]gjson.Result, error) {
	results, check := scan(payload, paths)
	if check != payloadValid {
		return nil, malformed(event, check)
	}
	return results, nil
}

// malformed is the MalformedPayloadError of a payload check that failed.
func malformed(event string, check payloadCheck) error {
	reason := "body is not valid JSON"
	switch check {
	case payloadTooDeep:
		reason = fmt.Sprintf("body nests deeper than %d levels", MaxPayloadDepth)
	case payloadNotObject:
		reason = "body is not a JSON object"
	}
	return &MalformedPayloadError{Event: event, Reason: reason}
}

// repoContext attaches the installation and repository to the logger, as go-githubapp does.
func repoContext(ctx context.Context, installationID int64, owner, name string) (context.Context, zerolog.Logger) {
	repo := &github.Repository{Name: &name, Owner: &github.User{Login: &owner}}
	return githubapp.PrepareRepoContext(ctx, installationID, repo)
}

// enqueue stores the job and logs the outcome.
func (b *Base) enqueue(ctx context.Context, logger zerolog.Logger, args river.JobArgs) error {
	return b.enqueueWith(ctx, logger, args, nil)
}

// enqueueWith is enqueue with insert options (such as tags); the args' own options (uniqueness)
// still apply to the fields opts leaves empty.
func (b *Base) enqueueWith(ctx context.Context, logger zerolog.Logger, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := b.Jobs.Enqueue(ctx, args, opts); err != nil {
		return &EnqueueError{Err: err}
	}
	logger.Debug().Str(workflows.LogKeyKind, args.Kind()).Msg("Accepted workflow")
	return nil
}

// Kinds are the args of every job kind the handlers enqueue: the inbox decodes its rows back
// into River jobs by them (workflows.InboxOptions).
var Kinds = []river.JobArgs{
	failureanalysis.Args{}, testoptimization.Args{}, performancemonitoring.Args{},
	securityaudit.Args{}, dependencymanagement.Args{}, commands.Args{},
}
