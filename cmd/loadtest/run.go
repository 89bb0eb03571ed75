package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// result is what one load test measured.
type result struct {
	Acked      int
	Elapsed    time.Duration
	PerSecond  float64 // acknowledged deliveries per second
	P50, P90   time.Duration
	P99, Max   time.Duration
	Statuses   map[string]int
	RSSPeak    int64         // VmHWM at the end of the load
	RSSEnd     int64         // VmRSS at the end of the load
	RSSIdle    int64         // VmRSS after the workers drained the backlog and --idle passed; 0 with --kill
	Backlog    int           // jobs not worked yet at the end of the load
	Drain      time.Duration // how long the workers took to work them
	Heap       heapStats
	Durability durability
	// StartP50 and StartP99 are the webhook-to-worker latencies: from sending a delivery to a
	// worker fetching its job (River's attempted_at).
	StartP50, StartP99 time.Duration
	// AnswerP50 is the median time from a delivery's answer to its worker starting.
	AnswerP50 time.Duration
	// ServerCPU and LoadCPU are the CPU time (user and system) the server and this load
	// generator used during the load.
	ServerCPU, LoadCPU time.Duration
}

// run is the whole load test: it returns once the server is stopped and the database checked.
func run(ctx context.Context, o options, out io.Writer) (res result, err error) {
	workDir, err := os.MkdirTemp("", "autonomous-loadtest-")
	if err != nil {
		return res, fmt.Errorf("failed to create the data directory: %w", err)
	}
	defer func() {
		if o.Keep || err != nil || res.Durability.Missing > 0 {
			fmt.Fprintln(out, "data directory kept:", workDir)
			return
		}
		_ = os.RemoveAll(workDir)
	}()
	bin := o.Bin
	if bin == "" {
		fmt.Fprintln(out, "building ./cmd/autonomous …")
		if bin, err = buildBinary(ctx, workDir); err != nil {
			return res, err
		}
	}
	tmpl, err := newTemplate(o.PayloadBytes)
	if err != nil {
		return res, err
	}
	gh, err := startStandIn()
	if err != nil {
		return res, err
	}
	defer gh.close()
	databaseURL, dbName := o.DatabaseURL, "SQLite"
	if databaseURL != "" {
		var drop func()
		if databaseURL, drop, err = freshSchema(ctx, databaseURL); err != nil {
			return res, err
		}
		dbName = "Postgres"
		kept := databaseURL
		defer func() {
			if o.Keep || err != nil || res.Durability.Missing > 0 {
				fmt.Fprintln(out, "Postgres schema kept (its search_path):", kept)
				return
			}
			drop()
		}()
	}
	srv, err := startServer(ctx, bin, workDir, databaseURL, gh.url, o.LogLevel, o.Env)
	if err != nil {
		return res, err
	}
	var stopped atomic.Bool
	defer func() {
		if !stopped.Load() {
			srv.kill()
		}
	}()

	duration, mode := o.Duration, fmt.Sprintf("closed loop, %d connections", o.Connections)
	if o.Soak > 0 {
		duration = o.Soak
	}
	if o.Rate > 0 {
		mode = fmt.Sprintf("open loop, %g/s", o.Rate)
	}
	fmt.Fprintf(out, "load: %s, %s, %d-byte signed workflow_run deliveries, %s, server %s\n", mode, duration, len(tmpl.body), dbName, bin)

	rec := newRecorder(o.Soak > 0)
	var next atomic.Int64
	next.Store(firstRunID)
	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	serverCPU0, _ := srv.cpu()
	loadCPU0 := selfCPU()
	start := time.Now()
	deadline := start.Add(duration)
	if o.Kill {
		// The crash: SIGKILL at the deadline while deliveries are in flight, then stop sending.
		timer := time.AfterFunc(duration, func() { stopped.Store(true); srv.kill(); cancelLoad() })
		defer timer.Stop()
	}
	reports := make(chan struct{})
	go func() {
		defer close(reports)
		soakReports(loadCtx, o, srv, rec, start, deadline, out)
	}()
	if o.Rate > 0 {
		openLoop(loadCtx, srv.url+"/api/github/hook", tmpl, srv.secret, o.Rate, o.Connections, o.MaxInFlight, deadline, &next, rec)
	} else {
		closedLoop(loadCtx, srv.url+"/api/github/hook", tmpl, srv.secret, o.Connections, deadline, &next, rec)
	}
	res.Elapsed = time.Since(start)
	if c, err := srv.cpu(); err == nil {
		res.ServerCPU = c - serverCPU0
	}
	res.LoadCPU = selfCPU() - loadCPU0
	cancelLoad()
	<-reports
	if ctx.Err() != nil {
		return res, ctx.Err()
	}

	if !o.Kill {
		if m, err := srv.memory(); err == nil {
			res.RSSPeak, res.RSSEnd = m.HWM, m.RSS
		}
		res.Heap = srv.heapStats()
		res.Backlog, _ = srv.backlog(ctx)
		drainStart := time.Now()
		for n := res.Backlog; n > 0 && time.Since(drainStart) < o.DrainTimeout; n, _ = srv.backlog(ctx) {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
		res.Drain = time.Since(drainStart)
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(o.Idle):
		}
		if m, err := srv.memory(); err == nil {
			res.RSSIdle = m.RSS
		}
		stopped.Store(true)
		if err := srv.stop(false); err != nil {
			fmt.Fprintln(out, "warning:", err)
		}
	}
	res.Heap = srv.heapStats()

	db, err := openDatabase(filepath.Join(workDir, "autonomous.db"), databaseURL)
	if err != nil {
		return res, err
	}
	defer db.Close()
	inbox := db // Postgres: a table of the same database
	if databaseURL == "" {
		path := filepath.Join(workDir, "autonomous-inbox.db")
		if _, err := os.Stat(path); err == nil {
			if inbox, err = openDatabase(path, ""); err != nil {
				return res, err
			}
			defer inbox.Close()
		} else {
			inbox = nil // a server from before the inbox
		}
	}
	if res.Durability, err = verify(ctx, db, inbox, databaseURL != "", rec.acked, rec.sentAt, rec.answered); err != nil {
		return res, err
	}
	res.Acked, res.Statuses = len(rec.acked), rec.statuses
	res.PerSecond = float64(res.Acked) / res.Elapsed.Seconds()
	res.P50, res.P90, res.P99, res.Max = percentiles(rec.latencies)
	res.StartP50, _, res.StartP99, _ = percentiles(res.Durability.WorkerStart)
	res.AnswerP50, _, _, _ = percentiles(res.Durability.AfterAnswer)
	printResult(out, o, res, gh)
	return res, nil
}

// soakReports prints a line every o.ReportEvery during a soak.
func soakReports(ctx context.Context, o options, srv *server, rec *recorder, start, deadline time.Time, out io.Writer) {
	if o.Soak == 0 {
		return
	}
	ticker := time.NewTicker(o.ReportEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			if now.After(deadline) {
				return
			}
			window := rec.takeWindow()
			_, _, p99, _ := percentiles(window)
			m, _ := srv.memory()
			h := srv.heapStats()
			fmt.Fprintf(out, "[%8s] %6.1f answers/s  p99 %7s  RSS %4d MB (peak %4d MB)  heap live %4d MB, goal %4d MB\n",
				now.Sub(start).Round(time.Second), float64(len(window))/o.ReportEvery.Seconds(), ms(p99),
				m.RSS>>20, m.HWM>>20, h.LiveMB, h.GoalMB)
		}
	}
}

func printResult(out io.Writer, o options, r result, gh *standIn) {
	fmt.Fprintf(out, "deliveries: %d acknowledged in %s = %.0f/s\n", r.Acked, r.Elapsed.Round(time.Millisecond), r.PerSecond)
	fmt.Fprintf(out, "latency:    p50 %s  p90 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	var answers []string
	for status, n := range r.Statuses {
		answers = append(answers, fmt.Sprintf("%s: %d", status, n))
	}
	sort.Strings(answers)
	fmt.Fprintf(out, "answers:    %s\n", strings.Join(answers, ", "))
	if n := len(r.Durability.WorkerStart); n > 0 {
		fmt.Fprintf(out, "worker start: p50 %s  p99 %s after the delivery was sent, p50 %s after its answer (%d jobs worked on their first attempt; River's attempted_at, 1 ms resolution on SQLite)\n",
			ms(r.StartP50), ms(r.StartP99), ms(r.AnswerP50), n)
	}
	if r.Acked > 0 && r.Elapsed > 0 && r.ServerCPU > 0 {
		fmt.Fprintf(out, "cpu:        server %.2f cores, %.0f µs per delivery; load generator %.2f cores\n",
			r.ServerCPU.Seconds()/r.Elapsed.Seconds(), float64(r.ServerCPU.Microseconds())/float64(r.Acked), r.LoadCPU.Seconds()/r.Elapsed.Seconds())
	}
	if o.Kill {
		fmt.Fprintln(out, "server RSS: not measured (killed at the end of the load)")
	} else {
		fmt.Fprintf(out, "workers:    %d jobs left at the end of the load, worked in %s\n", r.Backlog, r.Drain.Round(100*time.Millisecond))
		fmt.Fprintf(out, "server RSS: peak %d MB (VmHWM), end of load %d MB, idle %d MB (%s after the backlog)\n", r.RSSPeak>>20, r.RSSEnd>>20, r.RSSIdle>>20, o.Idle)
	}
	fmt.Fprintf(out, "server heap (gctrace): live after the last GC %d MB, largest %d MB, goal %d MB, %d GCs\n",
		r.Heap.LiveMB, r.Heap.PeakLiveMB, r.Heap.GoalMB, r.Heap.GCs)
	fmt.Fprintf(out, "durability: %s\n", r.Durability)
	fmt.Fprintf(out, "GitHub stand-in answered: %s\n", gh.summary())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
