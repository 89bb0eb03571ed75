package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Inserted is the outcome of an enqueue.
type Inserted struct {
	ID int64 `json:"id"`
	// Duplicate is true when an identical execution already existed (a webhook redelivery).
	Duplicate bool `json:"duplicate"`
}

// ErrStopped is returned by Enqueue once the engine is stopping.
var ErrStopped = errors.New("workflow engine is stopping")

// maxBatch bounds one group commit: large enough to absorb bursts, small enough to keep one
// transaction short.
const maxBatch = 256

// batchLinger is how long a batch under load waits for more requests.
const batchLinger = time.Millisecond

// insertTimeout bounds one group commit; a webhook waiting longer is answered 503.
const insertTimeout = 10 * time.Second

type insertRequest struct {
	params river.InsertManyParams
	key    string
	done   chan insertResult
}

type insertResult struct {
	inserted Inserted
	err      error
}

// Enqueue durably inserts one job and returns only after its transaction committed. Concurrent
// callers are grouped into one transaction (group commit): one commit per batch rather than per
// webhook is what lets ingest keep up on SQLite, and every caller still answers only after its
// own job is on disk.
func (e *Engine) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (Inserted, error) {
	encoded, err := json.Marshal(args)
	if err != nil {
		return Inserted{}, fmt.Errorf("failed to encode job args: %w", err)
	}
	req := &insertRequest{
		params: river.InsertManyParams{Args: args, InsertOpts: opts},
		key:    args.Kind() + "\x00" + string(encoded),
		done:   make(chan insertResult, 1),
	}
	select {
	case <-e.stop:
		return Inserted{}, ErrStopped
	default:
	}
	select {
	case e.batches <- req:
	case <-e.stop:
		return Inserted{}, ErrStopped
	case <-ctx.Done():
		return Inserted{}, fmt.Errorf("failed to enqueue %s: %w", args.Kind(), ctx.Err())
	}
	select {
	case res := <-req.done:
		return res.inserted, res.err
	case <-e.loopsDone:
		// The loops drained what they saw; a request that slipped in after them is answered here.
		select {
		case res := <-req.done:
			return res.inserted, res.err
		default:
			return Inserted{}, ErrStopped
		}
	case <-ctx.Done():
		return Inserted{}, fmt.Errorf("failed to enqueue %s: %w", args.Kind(), ctx.Err())
	}
}

// groupCommit takes requests from in and hands them to flush in batches until stop closes;
// requests still queued then are given to refuse, so no caller waits forever.
func groupCommit[R any](in chan R, stop <-chan struct{}, flush func([]R), refuse func(R)) {
	batch := make([]R, 0, maxBatch)
	for {
		select {
		case <-stop:
			for {
				select {
				case r := <-in:
					refuse(r)
				default:
					return
				}
			}
		case req := <-in:
			batch = append(batch[:0], req)
			batch = fill(in, stop, batch)
			flush(batch)
		}
	}
}

// fill adds the requests already waiting. When more than one was waiting the server is under
// load, and it lingers up to batchLinger for more: a commit costs far more than a row, so a
// fuller batch means less CPU per webhook, for at most a millisecond of latency. A lone
// request is never delayed.
func fill[R any](in chan R, stop <-chan struct{}, batch []R) []R {
	var linger <-chan time.Time
	for len(batch) < maxBatch {
		select {
		case r := <-in:
			batch = append(batch, r)
			continue
		default:
		}
		if linger == nil && len(batch) > 1 {
			timer := time.NewTimer(batchLinger)
			defer timer.Stop()
			linger = timer.C
		}
		if linger == nil {
			return batch
		}
		select {
		case r := <-in:
			batch = append(batch, r)
		case <-linger:
			return batch
		case <-stop:
			return batch
		}
	}
	return batch
}

// InsertStats reports how many group commits ran and how many jobs they held; their ratio is
// the mean batch size.
func (e *Engine) InsertStats() (batches, jobs int64) {
	return e.batchCount.Load(), e.batchJobs.Load()
}

// flush inserts a batch in one transaction and answers each request.
func (e *Engine) flush(batch []*insertRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
	defer cancel()
	params := make([]river.InsertManyParams, len(batch))
	keys := make([]string, len(batch))
	for i, r := range batch {
		params[i], keys[i] = r.params, r.key
	}
	results, err := e.insertUnique(ctx, params, keys)
	for i, r := range batch {
		if err != nil {
			r.done <- insertResult{err: err}
			continue
		}
		r.done <- insertResult{inserted: results[i]}
	}
}

// insertUnique inserts params in one transaction, retrying a transient failure twice. Identical
// jobs (equal keys, the kind and encoded args) are inserted once, with the first one's options —
// Postgres rejects one statement touching a unique row twice — and the later ones report
// Duplicate. Rows go in key
// order: concurrent batches (Postgres runs several loops) then take unique index locks in the
// same order and cannot deadlock on each other.
func (e *Engine) insertUnique(ctx context.Context, params []river.InsertManyParams, keys []string) ([]Inserted, error) {
	unique := make([]string, 0, len(keys))
	slotOf := make(map[string]int, len(keys))
	for _, k := range keys {
		if _, ok := slotOf[k]; !ok {
			slotOf[k] = 0
			unique = append(unique, k)
		}
	}
	slices.Sort(unique)
	for i, k := range unique {
		slotOf[k] = i
	}
	ordered := make([]river.InsertManyParams, len(unique))
	set := make([]bool, len(unique))
	for i, k := range keys {
		if slot := slotOf[k]; !set[slot] { // the first of identical jobs is the one inserted
			ordered[slot], set[slot] = params[i], true
		}
	}
	results, err := e.insert(ctx, ordered)
	for attempt := 1; err != nil && isTransient(err) && attempt < 3 && ctx.Err() == nil; attempt++ {
		results, err = e.insert(ctx, ordered)
	}
	e.batchCount.Add(1)
	e.batchJobs.Add(int64(len(ordered)))
	if err != nil {
		return nil, err
	}
	out := make([]Inserted, len(keys))
	seen := make([]bool, len(ordered))
	for i, k := range keys {
		slot := slotOf[k]
		res := results[slot]
		out[i] = Inserted{ID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate || seen[slot]}
		seen[slot] = true
	}
	return out, nil
}

// isTransient reports a database error that a retry of the same transaction can clear: a
// Postgres deadlock or serialization failure, or SQLite being busy.
func isTransient(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "40P01") || strings.Contains(msg, "40001") || strings.Contains(msg, "SQLITE_BUSY")
}

// insert inserts params in one transaction with River's non-transactional InsertMany: after
// the commit it wakes this process's producer (poll-only drivers have no LISTEN), so an idle
// worker starts the job within FetchCooldown instead of at the next FetchPollInterval poll.
// InsertManyTx would not: its jobs are invisible until the caller commits.
func (e *Engine) insert(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	res, err := e.client.InsertMany(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("failed to insert jobs: %w", err)
	}
	return res, nil
}
