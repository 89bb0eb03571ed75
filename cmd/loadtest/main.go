// Command loadtest measures webhook ingest of the built autonomous binary: it starts
// `autonomous serve` as a process on a fresh database with app credentials and a local GitHub
// stand-in (127.0.0.1 only), posts signed, unique workflow_run deliveries closed-loop
// (--connections) or open-loop (--rate), then checks that every acknowledged delivery is stored
// and prints deliveries/s, latency percentiles, answers by status and the server's RSS and heap.
//
//	go run ./cmd/loadtest                               # closed loop, 32 connections, 20 s, SQLite
//	go run ./cmd/loadtest --rate 200/s                  # open loop
//	go run ./cmd/loadtest --database-url postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	go run ./cmd/loadtest --soak 1h --rate 100          # RSS and heap every minute
//	go run ./cmd/loadtest --kill                        # SIGKILL the server under load, then verify
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	Bin          string
	DatabaseURL  string
	Connections  int
	Duration     time.Duration
	Rate         float64 // deliveries per second; 0 is closed loop
	Soak         time.Duration
	ReportEvery  time.Duration
	Idle         time.Duration
	DrainTimeout time.Duration
	Kill         bool
	LogLevel     string
	Env          []string
	PayloadBytes int
	MaxInFlight  int
	Keep         bool
}

type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }
func (e *envFlag) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	res, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	if res.Durability.Missing > 0 || res.Durability.Duplicates > 0 {
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var rate string
	var env envFlag
	fs.StringVar(&o.Bin, "bin", "", "the autonomous binary (default: go build ./cmd/autonomous)")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "Postgres URL: the server runs on a fresh schema of it (default: a fresh SQLite file)")
	fs.IntVar(&o.Connections, "connections", 32, "closed loop: concurrent senders; open loop: kept-alive connections")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long the load runs")
	fs.StringVar(&rate, "rate", "", "open loop at this many deliveries per second (e.g. 200/s); empty is closed loop")
	fs.DurationVar(&o.Soak, "soak", 0, "soak for this long (open loop at --rate, default 100/s), reporting RSS and heap every --report-every")
	fs.DurationVar(&o.ReportEvery, "report-every", time.Minute, "soak report interval")
	fs.DurationVar(&o.Idle, "idle", 10*time.Second, "once the workers have worked the backlog, wait this long before measuring the idle RSS")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", 5*time.Minute, "most time the workers get to work the backlog after the load")
	fs.BoolVar(&o.Kill, "kill", false, "SIGKILL the server at the end of the load, with deliveries in flight, instead of a graceful stop")
	fs.StringVar(&o.LogLevel, "log-level", "info", "the server's LOG_LEVEL")
	fs.Var(&env, "env", "extra server setting KEY=VALUE (repeatable), e.g. --env GITHUB_HTTP_CACHE_BYTES=0")
	fs.IntVar(&o.PayloadBytes, "payload-bytes", 23040, "approximate size of each workflow_run delivery")
	fs.IntVar(&o.MaxInFlight, "max-in-flight", 4096, "open loop: most outstanding deliveries")
	fs.BoolVar(&o.Keep, "keep", false, "keep the data directory (database, server.log) and the Postgres schema")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		return o, errors.New("unexpected argument")
	}
	o.Env = env
	if rate != "" {
		r, err := strconv.ParseFloat(strings.TrimSuffix(rate, "/s"), 64)
		if err != nil || r <= 0 || r > 1e6 {
			fmt.Fprintf(stderr, "--rate must be a positive number of deliveries per second, got %q\n", rate)
			return o, errors.New("bad rate")
		}
		o.Rate = r
	}
	if o.Soak > 0 && o.Rate == 0 {
		o.Rate = 100
	}
	if o.Connections < 1 || o.Duration <= 0 || o.Soak < 0 || o.ReportEvery <= 0 || o.PayloadBytes < 0 || o.MaxInFlight < 1 {
		fmt.Fprintln(stderr, "--connections, --duration, --report-every and --max-in-flight must be positive")
		return o, errors.New("bad flags")
	}
	return o, nil
}
