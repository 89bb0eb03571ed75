// Package redelivery is the webhook_redelivery job: it reads the app's recent webhook
// deliveries and asks GitHub to redeliver each one that failed (the bot was down, or answered
// 503 because it could not store the work), once per delivery GUID. It runs as a River periodic
// job, on start and then every WEBHOOK_REDELIVERY_INTERVAL, once across replicas.
//
// A delivery is redelivered when no delivery with its GUID succeeded, nobody redelivered it yet,
// and its failure is one a retry can fix: every non-2xx answer (or none at all) except 400 and
// 413, which the bot gives only to a payload it would refuse again. Every redelivery is recorded
// before it is sent (store.ClaimRedelivery), so a retry or a restart never asks twice; a 404 or
// 422 answer is recorded and never retried.
package redelivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

const (
	// DefaultLookback is how far back a run looks when it has no earlier mark.
	DefaultLookback = 24 * time.Hour
	// overlap is how far behind the last complete run's newest delivery a run starts again: a
	// delivery may be listed a little after its delivered_at.
	overlap = 15 * time.Minute
	// maxPages bounds one run's reading (100 deliveries a page); a run that stops there does not
	// move the mark, so the next one reads the rest.
	maxPages = 50
	// maxPerRun bounds the redeliveries one run asks for; the rest wait for the next run.
	maxPerRun = 200
	// settle is how long a redelivery whose answer was lost may still show up in the list
	// before it is asked again.
	settle = time.Minute
)

// Args starts one run; it carries no identifiers. Two runs at once are safe: each redelivery
// is claimed in the ledger before it is sent.
type Args struct {
	// Trigger is "schedule", "cli" or "api".
	Trigger string `json:"trigger,omitempty"`
	// LookbackHours bounds how far back the run looks (default 24).
	LookbackHours int `json:"lookback_hours,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return string(workflows.WebhookRedelivery) }

// Build is the engine's builder for webhook_redelivery.
func Build(_ workflows.Repo, params workflows.Params) (river.JobArgs, *river.InsertOpts, error) {
	return Args{Trigger: "cli", LookbackHours: int(params.Int("lookback_hours", 24))}, nil, nil
}

// Periodic is the schedule: on start and every interval, run once across replicas by River's
// leader; nil when interval is zero (off).
func Periodic(interval time.Duration) *river.PeriodicJob {
	if interval <= 0 {
		return nil
	}
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return Args{Trigger: "schedule"}, nil
	}, &river.PeriodicJobOpts{ID: string(workflows.WebhookRedelivery), RunOnStart: true})
}

// AppClients gives the app-authenticated GitHub client (ghapp.Clients is one).
type AppClients interface {
	App() (*github.Client, error)
}

// Ledger records redeliveries and how far the deliveries list was read (*store.Store is one).
type Ledger interface {
	Redelivery(ctx context.Context, guid string) (*store.Redelivery, error)
	ClaimRedelivery(ctx context.Context, r store.Redelivery, prev *store.Redelivery) (bool, error)
	FinishRedelivery(ctx context.Context, guid, state string, statusCode int, message string) error
	ReleaseRedelivery(ctx context.Context, guid string) error
	RedeliveryScanMark(ctx context.Context) (time.Time, error)
	SetRedeliveryScanMark(ctx context.Context, until time.Time) error
}

// Deps are the worker's collaborators.
type Deps struct {
	Clients AppClients
	Ledger  Ledger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Worker runs webhook_redelivery.
type Worker struct {
	river.WorkerDefaults[Args]
	deps Deps
}

// NewWorker returns the worker.
func NewWorker(d Deps) *Worker {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Worker{deps: d}
}

// Timeout implements river.Worker.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 5 * time.Minute }

// Result is a run's output.
type Result struct {
	From        time.Time `json:"from"`
	Pages       int       `json:"pages"`
	Listed      int       `json:"listed"`
	Failed      int       `json:"failed"`
	Redelivered []string  `json:"redelivered,omitempty"` // GUIDs asked for in this run
	Rejected    []string  `json:"rejected,omitempty"`    // GUIDs GitHub refused (404, 422)
	Succeeded   int       `json:"succeeded_later"`       // failed, then delivered
	Already     int       `json:"already_redelivered"`   // by us earlier, or by anyone
	NotRetried  int       `json:"not_retried"`           // 400 and 413: the same payload fails again
	Waiting     int       `json:"waiting,omitempty"`     // an earlier request may still show up
	Complete    bool      `json:"complete"`
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	res, err := w.Run(ctx, job.Args)
	if err != nil {
		return recovery.Decide(err)
	}
	zerolog.Ctx(ctx).Info().Int("listed", res.Listed).Int("failed", res.Failed).
		Int("redelivered", len(res.Redelivered)).Int("rejected", len(res.Rejected)).Msg("Webhook redelivery done")
	if err := river.RecordOutput(ctx, res); err != nil {
		return fmt.Errorf("failed to record redelivery output: %w", err)
	}
	return nil
}

// group is every listed delivery of one GUID.
type group struct {
	guid       string
	deliveries []*github.HookDelivery
}

// Run reads the deliveries and redelivers the failed ones; Work is Run plus River's decisions.
func (w *Worker) Run(ctx context.Context, args Args) (Result, error) {
	lookback := DefaultLookback
	if args.LookbackHours > 0 {
		lookback = time.Duration(args.LookbackHours) * time.Hour
	}
	now := w.deps.Now()
	res := Result{From: now.Add(-lookback)}
	mark, err := w.deps.Ledger.RedeliveryScanMark(ctx)
	if err != nil {
		return res, err
	}
	if m := mark.Add(-overlap); m.After(res.From) {
		res.From = m
	}
	app, err := w.deps.Clients.App()
	if err != nil {
		return res, err
	}
	groups, newest, err := w.list(ctx, app, &res)
	if err != nil {
		return res, err
	}
	for _, g := range groups {
		if len(res.Redelivered)+len(res.Rejected) >= maxPerRun {
			res.Complete = false
			break
		}
		if err := w.handle(ctx, app, g, &res); err != nil {
			return res, err
		}
	}
	if res.Complete && res.Waiting == 0 && !newest.IsZero() {
		if err := w.deps.Ledger.SetRedeliveryScanMark(ctx, newest); err != nil {
			return res, err
		}
	}
	return res, nil
}

// list reads the deliveries newer than res.From, newest first, following the cursor, and
// groups them by GUID, the oldest group first.
func (w *Worker) list(ctx context.Context, app *github.Client, res *Result) ([]*group, time.Time, error) {
	byGUID := map[string]*group{}
	var order []*group
	var newest time.Time
	cursor := ""
	for res.Pages < maxPages {
		q := url.Values{"per_page": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page []*github.HookDelivery
		// GET /app/hook/deliveries, read fresh: it decides what is redelivered.
		// https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook
		resp, err := ghapp.GetFresh(ctx, app, "app/hook/deliveries", q, &page)
		if err != nil {
			if ghapp.IsNotFound(err) && res.Pages == 0 {
				// The app has no webhook (no URL configured): nothing was ever delivered.
				res.Complete = true
				return nil, newest, nil
			}
			return nil, newest, fmt.Errorf("failed to list the app's webhook deliveries: %w", err)
		}
		res.Pages++
		reachedEnd := false
		for _, d := range page {
			if d == nil || d.GetGUID() == "" || d.GetID() == 0 {
				continue
			}
			at := d.GetDeliveredAt().Time
			if at.Before(res.From) {
				reachedEnd = true
				break
			}
			if at.After(newest) {
				newest = at
			}
			res.Listed++
			g := byGUID[d.GetGUID()]
			if g == nil {
				g = &group{guid: d.GetGUID()}
				byGUID[g.guid] = g
				order = append(order, g)
			}
			g.deliveries = append(g.deliveries, d)
		}
		if reachedEnd || resp.Cursor == "" || len(page) == 0 {
			res.Complete = true
			break
		}
		cursor = resp.Cursor
	}
	// Listed newest first: redeliver in the order GitHub first delivered them.
	sort.SliceStable(order, func(i, j int) bool { return oldest(order[i]).Before(oldest(order[j])) })
	return order, newest, nil
}

func oldest(g *group) time.Time {
	t := g.deliveries[0].GetDeliveredAt().Time
	for _, d := range g.deliveries[1:] {
		if d.GetDeliveredAt().Time.Before(t) {
			t = d.GetDeliveredAt().Time
		}
	}
	return t
}

// succeeded reports whether GitHub's delivery got a 2xx answer.
func succeeded(d *github.HookDelivery) bool {
	return d.GetStatusCode() >= 200 && d.GetStatusCode() < 300
}

// handle decides on one GUID and redelivers it when it failed and nothing else did.
func (w *Worker) handle(ctx context.Context, app *github.Client, g *group, res *Result) error {
	var original *github.HookDelivery
	failed, ok, redelivered := false, false, false
	for _, d := range g.deliveries {
		switch {
		case succeeded(d):
			ok = true
		case d.GetRedelivery():
			failed, redelivered = true, true
		default:
			failed = true
			if original == nil || d.GetDeliveredAt().Before(original.GetDeliveredAt().Time) {
				original = d
			}
		}
	}
	if !failed {
		return nil
	}
	res.Failed++
	switch {
	case ok:
		res.Succeeded++
		return w.settleSent(ctx, g.guid)
	case redelivered || original == nil:
		res.Already++
		return w.settleSent(ctx, g.guid)
	}
	if code := original.GetStatusCode(); code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge {
		res.NotRetried++
		return nil
	}
	prev, err := w.deps.Ledger.Redelivery(ctx, g.guid)
	if err != nil {
		return err
	}
	if prev != nil && prev.State != store.RedeliverySending {
		res.Already++
		return nil
	}
	if prev != nil && w.deps.Now().Sub(prev.StartedAt) < settle {
		// Asked a moment ago and the answer was lost: it may still appear in the list.
		res.Waiting++
		return nil
	}
	claimed, err := w.deps.Ledger.ClaimRedelivery(ctx, store.Redelivery{
		GUID: g.guid, DeliveryID: original.GetID(), Event: original.GetEvent(), Action: original.GetAction(),
		StartedAt: w.deps.Now(),
	}, prev)
	if err != nil {
		return err
	}
	if !claimed {
		res.Waiting++ // another execution is sending it right now
		return nil
	}
	logger := zerolog.Ctx(ctx).With().Str("guid", g.guid).Int64("delivery_id", original.GetID()).
		Str("event", original.GetEvent()).Int("status_code", original.GetStatusCode()).Logger()
	// POST /app/hook/deliveries/{delivery_id}/attempts
	// https://docs.github.com/en/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook
	_, _, err = app.Apps.RedeliverHookDelivery(ctx, original.GetID())
	var accepted *github.AcceptedError
	switch code := ghapp.StatusCode(err); {
	case err == nil || errors.As(err, &accepted):
		logger.Info().Msg("Redelivered a failed webhook delivery")
		res.Redelivered = append(res.Redelivered, g.guid)
		return w.deps.Ledger.FinishRedelivery(ctx, g.guid, store.RedeliverySent, http.StatusAccepted, "")
	case code == http.StatusNotFound || code == http.StatusUnprocessableEntity:
		logger.Warn().Int("answer", code).Msg("GitHub refused to redeliver a webhook delivery")
		res.Rejected = append(res.Rejected, g.guid)
		return w.deps.Ledger.FinishRedelivery(ctx, g.guid, store.RedeliveryRejected, code, errorMessage(err))
	case refused(err):
		// GitHub answered without acting (401, 403, 429, rate limits): ask again later.
		if rerr := w.deps.Ledger.ReleaseRedelivery(context.WithoutCancel(ctx), g.guid); rerr != nil {
			return errors.Join(err, rerr)
		}
		return fmt.Errorf("failed to redeliver webhook delivery %d: %w", original.GetID(), err)
	default:
		// A timeout or 5xx: it may have been redelivered; the claim makes the next run look first.
		return fmt.Errorf("failed to redeliver webhook delivery %d: %w", original.GetID(), err)
	}
}

// settleSent marks a redelivery still "sending" as sent once the list shows a redelivery (or a
// success) of its GUID.
func (w *Worker) settleSent(ctx context.Context, guid string) error {
	prev, err := w.deps.Ledger.Redelivery(ctx, guid)
	if err != nil || prev == nil || prev.State != store.RedeliverySending {
		return err
	}
	return w.deps.Ledger.FinishRedelivery(ctx, guid, store.RedeliverySent, 0, "listed by GitHub")
}

// refused reports whether GitHub answered with a client error, so the request did nothing.
func refused(err error) bool {
	var rate *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &rate) || errors.As(err, &abuse) {
		return true
	}
	code := ghapp.StatusCode(err)
	return code >= 400 && code < 500
}

func errorMessage(err error) string {
	var resp *github.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Message
	}
	return err.Error()
}
