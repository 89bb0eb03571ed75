package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// recorder collects the outcome of every delivery.
type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	statuses  map[string]int
	acked     []int64     // run ids answered 2xx
	sentAt    []time.Time // when each of acked was sent, for the webhook-to-worker latency
	answered  []time.Time // when each of acked was answered
	windowed  bool        // keep the latencies since the last takeWindow too (soak)
	window    []time.Duration
}

func newRecorder(windowed bool) *recorder {
	return &recorder{statuses: map[string]int{}, windowed: windowed}
}

func (r *recorder) record(runID int64, status int, err error, sentAt time.Time, latency time.Duration) {
	key := fmt.Sprint(status)
	if err != nil {
		key = "transport error"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses[key]++
	if err == nil {
		r.latencies = append(r.latencies, latency)
		if r.windowed {
			r.window = append(r.window, latency)
		}
	}
	if err == nil && status >= 200 && status < 300 {
		r.acked = append(r.acked, runID)
		r.sentAt = append(r.sentAt, sentAt)
		r.answered = append(r.answered, time.Now())
	}
}

// takeWindow returns the latencies recorded since the last call (the soak's per-minute figures).
func (r *recorder) takeWindow() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.window
	r.window = nil
	return w
}

// sender signs and posts deliveries; one per goroutine, reusing its buffer and HMAC.
type sender struct {
	client *http.Client
	url    string
	tmpl   template
	body   []byte
	mac    hash.Hash
	sig    []byte
}

func newSender(client *http.Client, url string, tmpl template, secret []byte) *sender {
	s := &sender{client: client, url: url, tmpl: tmpl, body: make([]byte, len(tmpl.body)), mac: hmac.New(sha256.New, secret)}
	tmpl.render(s.body, 0)
	return s
}

// send posts the delivery of runID and returns its status.
func (s *sender) send(ctx context.Context, runID int64) (int, error) {
	s.tmpl.patch(s.body, runID)
	s.mac.Reset()
	s.mac.Write(s.body)
	s.sig = s.mac.Sum(s.sig[:0])
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(s.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/loadtest")
	req.Header.Set("X-GitHub-Event", "workflow_run")
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("00000000-0000-4000-8000-%012d", runID))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(s.sig))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func newClient(connections int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		// A write buffer that holds a whole delivery: the request goes out in one write, and
		// without the 32 KB copy buffer net/http's body copy would allocate for each request.
		Transport: &http.Transport{MaxIdleConns: connections * 2, MaxIdleConnsPerHost: connections * 2, DisableCompression: true,
			WriteBufferSize: 64 << 10},
	}
}

// closedLoop runs connections senders, each sending its next delivery as soon as the previous
// one is answered, until the deadline. Latency is from send to answer.
func closedLoop(ctx context.Context, url string, tmpl template, secret []byte, connections int, deadline time.Time, next *atomic.Int64, rec *recorder) {
	client := newClient(connections)
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for range connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newSender(client, url, tmpl, secret)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				runID := next.Add(1)
				if runID > maxRunID {
					return
				}
				t0 := time.Now()
				status, err := s.send(ctx, runID)
				rec.record(runID, status, err, t0, time.Since(t0))
			}
		}()
	}
	wg.Wait()
}

// openLoop sends rate deliveries per second on a fixed schedule until the deadline, whatever the
// answers: latency is from the scheduled send time, so a slow server is not hidden by a
// generator that waits for it. At most maxInFlight deliveries are outstanding; a delivery that
// finds the limit reached is counted as "not sent (generator saturated)".
func openLoop(ctx context.Context, url string, tmpl template, secret []byte, rate float64, connections, maxInFlight int, deadline time.Time, next *atomic.Int64, rec *recorder) {
	client := newClient(connections)
	defer client.CloseIdleConnections()
	pool := sync.Pool{New: func() any { return newSender(client, url, tmpl, secret) }}
	slots := make(chan struct{}, maxInFlight)
	interval := time.Duration(float64(time.Second) / rate)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(deadline) {
			break
		}
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
			if ctx.Err() != nil {
				break
			}
		}
		runID := next.Add(1)
		if runID > maxRunID {
			break
		}
		select {
		case slots <- struct{}{}:
		default:
			rec.mu.Lock()
			rec.statuses["not sent (generator saturated)"]++
			rec.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s := pool.Get().(*sender)
			defer pool.Put(s)
			sentAt := time.Now()
			status, err := s.send(ctx, runID)
			rec.record(runID, status, err, sentAt, time.Since(at))
		}()
	}
	wg.Wait()
}

// percentiles returns p50, p90, p99 and max of latencies (sorted in place).
func percentiles(latencies []time.Duration) (p50, p90, p99, maxLatency time.Duration) {
	if len(latencies) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(latencies)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(latencies))+0.5) - 1
		return latencies[min(max(i, 0), len(latencies)-1)]
	}
	return at(0.50), at(0.90), at(0.99), latencies[len(latencies)-1]
}
