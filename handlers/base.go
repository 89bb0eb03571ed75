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

// parse validates the payload and returns its root; a payload nested deeper than
// MaxPayloadDepth is refused (checkPayload is one pass without recursion). Reading a handful of
// fields with gjson instead of decoding the full go-github event is what keeps ingest cheap: a
// workflow_run payload is ~20 KB of which a handler reads a few dozen bytes.
func parse(event string, payload []byte) (gjson.Result, error) {
	switch checkPayload(payload) {
	case payloadTooDeep:
		return gjson.Result{}, &MalformedPayloadError{Event: event, Reason: fmt.Sprintf("body nests deeper than %d levels", MaxPayloadDepth)}
	case payloadInvalid:
		return gjson.Result{}, &MalformedPayloadError{Event: event, Reason: "body is not valid JSON"}
	}
	root := gjson.ParseBytes(payload)
	if !root.IsObject() {
		return gjson.Result{}, &MalformedPayloadError{Event: event, Reason: "body is not a JSON object"}
	}
	return root, nil
}

// members returns the members of the object obj named in keys, in one pass (the first of a
// repeated key, as obj.Get would). Webhook payloads put large objects (workflow_run,
// repository) first and installation last, and a workflow_run ends with its head commit and
// two repositories, so reading several paths from an object would skip the same kilobytes
// again for each. A key that is absent, or obj that is not an object, has no member (the zero
// Result, which does not exist).
func members(obj gjson.Result, keys ...string) map[string]gjson.Result {
	out := make(map[string]gjson.Result, len(keys))
	obj.ForEach(func(k, v gjson.Result) bool {
		for _, want := range keys {
			if k.Str == want {
				if _, seen := out[want]; !seen {
					out[want] = v
				}
				break
			}
		}
		return len(out) < len(keys)
	})
	return out
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
