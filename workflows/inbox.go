package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/store"
)

// Inbox takes webhook work off the ack path. A delivery's jobs are written as one row of the
// inbox table (store.Inbox: its own SQLite file, or a Postgres table) in a group commit — a
// few µs per row against River's ~80 µs per job — and the delivery is answered once it is durable; a
// background pump (Run) moves them into River in batches. A crash between River's insert and
// the inbox delete makes the pump move the same rows again after the restart, which River's
// unique jobs (every webhook kind is unique by its args) turn into duplicates skipped. While
// the inbox holds more than a batch, the workers are throttled to one job at a time, so ingest
// and the pump get the CPU first.
type Inbox struct {
	store  *store.Inbox
	engine *Engine
	logger zerolog.Logger
	// types maps a job kind to its args type, for decoding rows back into River args.
	types map[string]reflect.Type

	requests chan *acceptRequest
	stop     chan struct{}
	// loopDone is closed when the accept loop has exited.
	loopDone chan struct{}
	stopOnce sync.Once
	// wake tells the pump that rows were accepted.
	wake chan struct{}
	// moving serialises moves into River (the pump and Drain).
	moving sync.Mutex
	// backlog approximates the rows (deliveries) waiting: counted at start, plus accepted,
	// minus moved.
	backlog atomic.Int64
	// failed counts the rows kept with an error since the start.
	failed atomic.Int64
	// slot is the one job that works while the inbox is congested.
	slot chan struct{}
	// accepted counts the rows stored since the start.
	accepted atomic.Int64
}

// InboxOptions configures an Inbox.
type InboxOptions struct {
	// Kinds are the args of every job kind a webhook enqueues (zero values); Enqueue refuses
	// any other kind, as the pump could not decode it.
	Kinds []river.JobArgs
	// Logger receives the pump's logs.
	Logger zerolog.Logger
}

// pumpBatch is the most rows (deliveries) one move into River takes; more waiting means
// congestion.
const pumpBatch = 256

// burstRate is the rate of accepted deliveries (per second) at which ingest enters a burst,
// judged over windows of at least burstWindow; the burst ends when the rate falls under half of
// it, so a rate hovering about burstRate does not switch the pump's way of working at every
// window. While the inbox is congested the workers are throttled (one job at a time), so moving
// the whole backlog into River during a burst — ~80 µs a job, against a few µs to store it in the
// inbox — would spend the CPU the answers need on jobs that cannot be worked yet: the pump feeds
// the workers instead, a batch once they have worked half of the last one (or every pumpPoll),
// looking every burstGather. Outside a burst the pump moves every accept at once (a worker starts
// within milliseconds), and once a burst ends it moves the backlog batch after batch.
const (
	burstRate   = 1000
	burstWindow = 100 * time.Millisecond
	burstGather = 10 * time.Millisecond
)

// pumpPoll is how often an idle pump looks for rows it was not woken for (another replica's
// on Postgres, or rows a failed move left).
const pumpPoll = time.Second

// NewInbox starts accepting into st; Run moves the rows into e's River. The engine's workers are
// throttled while the inbox is congested.
func NewInbox(ctx context.Context, st *store.Inbox, e *Engine, opts InboxOptions) (*Inbox, error) {
	ib := &Inbox{
		store: st, engine: e, logger: opts.Logger, types: map[string]reflect.Type{},
		requests: make(chan *acceptRequest, 4096), stop: make(chan struct{}), loopDone: make(chan struct{}),
		wake: make(chan struct{}, 1), slot: make(chan struct{}, 1),
	}
	for _, args := range opts.Kinds {
		ib.types[args.Kind()] = reflect.TypeOf(args)
	}
	waiting, failed, err := st.Counts(ctx)
	if err != nil {
		return nil, err
	}
	ib.backlog.Store(waiting)
	if failed > 0 {
		ib.logger.Warn().Int64("failed", failed).Msg("The inbox keeps rows that could not be moved into River")
	}
	e.yield.Store(ib)
	// SQLite has one writer: more loops would only queue on its connection. A Postgres commit
	// waits for its WAL flush, so several loops keep commits in flight.
	loops := 1
	if st.Dialect == store.Postgres {
		loops = 4
	}
	var wg sync.WaitGroup
	refuse := func(r *acceptRequest) { r.done <- ErrStopped }
	for range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			groupCommit(ib.requests, ib.stop, ib.flush, refuse)
		}()
	}
	go func() {
		wg.Wait()
		close(ib.loopDone)
	}()
	return ib, nil
}

// acceptRequest is one delivery's row waiting for the group commit.
type acceptRequest struct {
	row  store.InboxRow
	done chan error
}

// Delivery collects the jobs one webhook delivery asks for, so that they are stored together,
// as one inbox row, once its handler has accepted the whole payload.
type Delivery struct {
	inbox *Inbox
	id    string
	kinds []string
	jobs  [][]byte
}

type deliveryKey struct{}

// Begin starts collecting the jobs of the delivery deliveryID: Enqueue with the returned
// context adds to it, and Commit stores them. A nil Inbox collects nothing (handlers that store
// nothing).
func (ib *Inbox) Begin(ctx context.Context, deliveryID string) (context.Context, *Delivery) {
	d := &Delivery{inbox: ib, id: deliveryID}
	if ib == nil {
		return ctx, d
	}
	return context.WithValue(ctx, deliveryKey{}, d), d
}

// Commit stores the delivery's jobs and returns once they are durable; a delivery that asked
// for none stores nothing.
func (d *Delivery) Commit(ctx context.Context) error {
	if len(d.jobs) == 0 {
		return nil
	}
	return d.inbox.accept(ctx, store.InboxRow{DeliveryID: d.id, Jobs: jobList(d.jobs), AcceptedAt: time.Now()})
}

// Kinds are the kinds of the delivery's jobs, in the order they were enqueued.
func (d *Delivery) Kinds() []string { return d.kinds }

// Enqueue accepts a job into the inbox: into the delivery of ctx (Begin) when it has one,
// stored by its Commit, else on its own, returning once it is durable. The job reaches River
// later, so the result has no id; Duplicate is never set (River tells duplicates apart when
// the pump inserts). It implements the handlers' Enqueuer.
func (ib *Inbox) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (Inserted, error) {
	job, err := ib.encode(args, opts)
	if err != nil {
		return Inserted{}, err
	}
	if d, ok := ctx.Value(deliveryKey{}).(*Delivery); ok && d.inbox == ib {
		d.kinds, d.jobs = append(d.kinds, args.Kind()), append(d.jobs, job)
		return Inserted{}, nil
	}
	return Inserted{}, ib.accept(ctx, store.InboxRow{Jobs: jobList([][]byte{job}), AcceptedAt: time.Now()})
}

// ErrUnknownKind is returned by Enqueue for a job kind the inbox was not given (InboxOptions.Kinds).
var ErrUnknownKind = errors.New("job kind is not one the inbox can decode")

// inboxJob is one job of an inbox row: {"kind": …, "args": {…}, "opts": {…} or absent}.
type inboxJob struct {
	Kind string            `json:"kind"`
	Args json.RawMessage   `json:"args"`
	Opts *river.InsertOpts `json:"opts,omitempty"`
}

// encode is the JSON of one job of a row.
func (ib *Inbox) encode(args river.JobArgs, opts *river.InsertOpts) ([]byte, error) {
	kind := args.Kind()
	if _, ok := ib.types[kind]; !ok {
		return nil, fmt.Errorf("%s: %w", kind, ErrUnknownKind)
	}
	encoded, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("failed to encode job args: %w", err)
	}
	job, err := json.Marshal(inboxJob{Kind: kind, Args: encoded, Opts: opts})
	if err != nil {
		return nil, fmt.Errorf("failed to encode the %s job: %w", kind, err)
	}
	return job, nil
}

// jobList joins encoded jobs into a row's JSON array.
func jobList(jobs [][]byte) []byte {
	return append(append([]byte{'['}, bytes.Join(jobs, []byte{','})...), ']')
}

// accept hands a row to the group commit and waits for it.
func (ib *Inbox) accept(ctx context.Context, row store.InboxRow) error {
	req := &acceptRequest{row: row, done: make(chan error, 1)}
	select {
	case <-ib.stop:
		return ErrStopped
	default:
	}
	select {
	case ib.requests <- req:
	case <-ib.stop:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("failed to store the delivery: %w", ctx.Err())
	}
	select {
	case err := <-req.done:
		return err
	case <-ib.loopDone:
		select {
		case err := <-req.done:
			return err
		default:
			return ErrStopped
		}
	case <-ctx.Done():
		return fmt.Errorf("failed to store the delivery: %w", ctx.Err())
	}
}

// flush stores a batch of deliveries in one transaction and answers each.
func (ib *Inbox) flush(batch []*acceptRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
	defer cancel()
	rows := make([]store.InboxRow, len(batch))
	for i, r := range batch {
		rows[i] = r.row
	}
	err := ib.store.Insert(ctx, rows)
	for attempt := 1; err != nil && isTransient(err) && attempt < 3 && ctx.Err() == nil; attempt++ {
		err = ib.store.Insert(ctx, rows)
	}
	if err == nil {
		ib.backlog.Add(int64(len(rows)))
		ib.accepted.Add(int64(len(rows)))
		select {
		case ib.wake <- struct{}{}:
		default:
		}
	}
	for _, r := range batch {
		r.done <- err
	}
}

// Accepted is how many rows (deliveries or lone jobs) were stored since the start.
func (ib *Inbox) Accepted() int64 { return ib.accepted.Load() }

// Backlog is about how many accepted deliveries wait to have their jobs moved into River.
func (ib *Inbox) Backlog() int64 { return max(ib.backlog.Load(), 0) }

// Failed is how many rows (deliveries) were kept with an error since the start.
func (ib *Inbox) Failed() int64 { return ib.failed.Load() }

// congested reports more waiting than one move takes: the pump is behind ingest.
func (ib *Inbox) congested() bool { return ib.Backlog() > pumpBatch }

// Run moves accepted rows into River until ctx ends: at once when woken by an accept, else every
// pumpPoll; batch after batch while behind; during a burst (burstRate) only as the workers need
// (pacer); a failed move is retried with backoff (the rows stay in the inbox).
func (ib *Inbox) Run(ctx context.Context) {
	backoff := time.Duration(0)
	p := pacer{since: time.Now(), accepted: ib.accepted.Load()}
	for ctx.Err() == nil {
		now := time.Now()
		p.observe(now, ib.accepted.Load())
		n, err := 0, error(nil)
		if _, worked := ib.engine.JobActivity(); p.due(now, worked) {
			var inserted int
			n, inserted, err = ib.moveOnce(ctx)
			if err == nil {
				p.moved(time.Now(), worked, inserted)
			}
		}
		var wait <-chan time.Time
		wake := ib.wake
		switch {
		case err != nil && ctx.Err() == nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 30*time.Second)
			ib.logger.Error().Err(err).Dur("retry_in", backoff).Msg("Failed to move accepted webhook work into River")
			wait = time.After(backoff)
		case err != nil:
			return
		case p.burst:
			backoff = 0
			wait = time.After(burstGather)
			wake = nil // every accept would wake it: it looks every burstGather
		case n == pumpBatch:
			backoff = 0
			continue
		default:
			backoff = 0
			wait = time.After(pumpPoll)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-wait:
		}
	}
}

// pacer decides when the pump moves rows. Outside a burst, whenever it looks. During one, once
// the workers have finished half the jobs the last move inserted (the count of jobs ended, so
// jobs River fetched that wait for the throttle's slot do not count), or pumpPoll after the last
// move; a move that inserted nothing (duplicates only) leaves them hungry.
type pacer struct {
	burst bool
	// since and accepted start the current rate window.
	since    time.Time
	accepted int64
	// lastMove is when the last move ended; hungryAt the count of jobs ended at which the workers
	// want more.
	lastMove time.Time
	hungryAt int64
}

// observe takes the count of rows accepted so far and, once a window of burstWindow has passed,
// judges whether ingest is in a burst (entered at burstRate, left under half of it).
func (p *pacer) observe(now time.Time, accepted int64) {
	elapsed := now.Sub(p.since)
	if elapsed < burstWindow {
		return
	}
	rate := float64(accepted-p.accepted) / elapsed.Seconds()
	if p.burst {
		p.burst = rate >= burstRate/2
	} else {
		p.burst = rate >= burstRate
	}
	p.since, p.accepted = now, accepted
}

// due reports whether the pump should move a batch now, ended being the jobs ended so far.
func (p *pacer) due(now time.Time, ended int64) bool {
	return !p.burst || ended >= p.hungryAt || now.Sub(p.lastMove) >= pumpPoll
}

// moved records a move that inserted inserted jobs, ended jobs having ended before it.
func (p *pacer) moved(now time.Time, ended int64, inserted int) {
	p.lastMove, p.hungryAt = now, ended+int64(inserted+1)/2
}

// Drain moves every waiting row into River, for a graceful stop and for tests that read River
// right after a delivery was answered.
func (ib *Inbox) Drain(ctx context.Context) error {
	for {
		n, _, err := ib.moveOnce(ctx)
		if err != nil {
			return err
		}
		if n < pumpBatch {
			return nil
		}
	}
}

// moveOnce moves up to pumpBatch rows into River and returns how many it took and how many jobs
// River inserted (not duplicates).
func (ib *Inbox) moveOnce(ctx context.Context) (rows, inserted int, err error) {
	ib.moving.Lock()
	defer ib.moving.Unlock()
	moved := 0
	rows, err = ib.store.Take(ctx, pumpBatch, func(taken []store.InboxRow) (map[int64]store.Kept, error) {
		kept, n, err := ib.move(ctx, taken)
		if err == nil {
			moved, inserted = len(taken), n
		}
		return kept, err
	})
	if moved > 0 {
		ib.backlog.Add(-int64(moved))
	}
	return rows, inserted, err
}

// move inserts the rows' jobs into River. A job that cannot be decoded, or that River refuses
// when the jobs are inserted one by one after the batch failed for a reason other than a
// transient one, stays in the inbox: its row is returned in kept with the jobs left and why
// (logged). A transient error fails the move, to be retried. inserted counts the jobs River
// inserted (not duplicates).
func (ib *Inbox) move(ctx context.Context, rows []store.InboxRow) (kept map[int64]store.Kept, inserted int, err error) {
	type source struct {
		row int
		raw json.RawMessage
	}
	var params []river.InsertManyParams
	var keys []string
	var from []source
	left := make([][][]byte, len(rows))
	reasons := make([][]string, len(rows))
	keep := func(i int, raw []byte, err error) {
		left[i], reasons[i] = append(left[i], raw), append(reasons[i], err.Error())
	}
	for i, r := range rows {
		var jobs []json.RawMessage
		if err := json.Unmarshal(r.Jobs, &jobs); err != nil {
			keep(i, r.Jobs, fmt.Errorf("failed to decode the row's jobs: %w", err))
			continue
		}
		for _, raw := range jobs {
			p, key, err := ib.decode(raw)
			if err != nil {
				keep(i, raw, err)
				continue
			}
			params, keys, from = append(params, p), append(keys, key), append(from, source{row: i, raw: raw})
		}
	}
	countNew := func(results []Inserted) {
		for _, r := range results {
			if !r.Duplicate {
				inserted++
			}
		}
	}
	if len(params) > 0 {
		results, err := ib.engine.insertUnique(ctx, params, keys)
		if err != nil && (isTransient(err) || ctx.Err() != nil) {
			return nil, 0, err
		}
		countNew(results)
		if err != nil {
			// One bad job must not hold back the others: insert them one at a time.
			for j := range params {
				results, err := ib.engine.insertUnique(ctx, params[j:j+1], keys[j:j+1])
				if err != nil {
					if isTransient(err) || ctx.Err() != nil {
						return nil, 0, err
					}
					keep(from[j].row, from[j].raw, err)
				}
				countNew(results)
			}
		}
	}
	kept = map[int64]store.Kept{}
	for i, jobs := range left {
		if len(jobs) == 0 {
			continue
		}
		list := jobList(jobs)
		if len(jobs) == 1 && bytes.Equal(jobs[0], rows[i].Jobs) { // the whole row was unreadable
			list = rows[i].Jobs
		}
		reason := strings.Join(reasons[i], "; ")
		kept[rows[i].ID] = store.Kept{Jobs: list, Reason: reason}
		ib.failed.Add(1)
		ib.logger.Error().Int64("inbox_id", rows[i].ID).Str("delivery_id", rows[i].DeliveryID).Str("error", reason).
			Msg("Kept accepted jobs in the inbox: they cannot be moved into River")
	}
	return kept, inserted, nil
}

// decode turns one job of a row back into River's insert parameters and its dedupe key (kind
// and encoded args, as the engine's group commit keys its jobs).
func (ib *Inbox) decode(raw json.RawMessage) (river.InsertManyParams, string, error) {
	var job inboxJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return river.InsertManyParams{}, "", fmt.Errorf("failed to decode a job: %w", err)
	}
	t, ok := ib.types[job.Kind]
	if !ok {
		return river.InsertManyParams{}, "", fmt.Errorf("%s: %w", job.Kind, ErrUnknownKind)
	}
	ptr := t.Kind() == reflect.Pointer
	if ptr {
		t = t.Elem()
	}
	v := reflect.New(t)
	if err := json.Unmarshal(job.Args, v.Interface()); err != nil {
		return river.InsertManyParams{}, "", fmt.Errorf("failed to decode %s args: %w", job.Kind, err)
	}
	if !ptr {
		v = v.Elem()
	}
	return river.InsertManyParams{Args: v.Interface().(river.JobArgs), InsertOpts: job.Opts}, job.Kind + "\x00" + string(job.Args), nil
}

// Stop stops accepting (callers get ErrStopped) and moves what waits into River within ctx.
// The HTTP server must have stopped first; rows left when ctx ends stay for the next start.
func (ib *Inbox) Stop(ctx context.Context) error {
	ib.stopOnce.Do(func() { close(ib.stop) })
	<-ib.loopDone
	if err := ib.Drain(ctx); err != nil {
		return fmt.Errorf("failed to move the inbox into River before stopping: %w", err)
	}
	return nil
}

// throttle runs a job: at once unless the inbox is congested, then one job at a time, so the
// pump and ingest keep the CPU while the workers fall behind. Waiting jobs look again when the
// congestion clears or every 100 ms.
func (ib *Inbox) throttle(ctx context.Context, work func(context.Context) error) error {
	for ib.congested() {
		select {
		case ib.slot <- struct{}{}:
			defer func() { <-ib.slot }()
			return work(ctx)
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return work(ctx)
}
