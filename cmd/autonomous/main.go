// Command autonomous is the Autonomous CI GitHub App: `autonomous serve` runs the bot; the other
// subcommands operate it (init, status, execute, health-check, analyze, version).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// exitError carries a process exit code out of a subcommand.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// The server serves no heap profile, so it keeps none: the sampled allocations' stacks are a
// table of a megabyte or two the idle server would hold for nothing.
func init() { runtime.MemProfileRate = 0 }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	var exit exitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &exit):
		os.Exit(exit.code)
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

const usage = `usage: autonomous <command> [flags]

commands:
  serve          run the bot (webhooks, workflows, health endpoints)
  init           validate the configuration and create or migrate the database
  status         engine health, installations, execution counts and the last executions
  execute KIND   enqueue a workflow execution (--repo owner/name --param k=v --parameters JSON --wait)
  health-check   run the health check now and print it; exit 1 below ALERT_HEALTH_SCORE
  analyze        analyze a saved CI log offline (--log FILE|-, --format json|text)
  version        print the version

Every command takes --config FILE (optional YAML with the environment variables' names in
lower case); the environment and a .env file in the working directory are read too.
`

// run dispatches to a subcommand; it is main without the process, for tests.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stderr)
	case "init":
		return cmdInit(ctx, rest, stdout, stderr)
	case "status":
		return cmdStatus(ctx, rest, stdout, stderr)
	case "execute":
		return cmdExecute(ctx, rest, stdout, stderr)
	case "health-check":
		return cmdHealthCheck(ctx, rest, stdout, stderr)
	case "analyze":
		return cmdAnalyze(rest, stdin, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "autonomous", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return exitError{2}
}
