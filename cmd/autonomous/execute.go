package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/contexten/autonomous/workflows"
)

// paramFlags collects repeated --param key=value flags.
type paramFlags []string

func (p *paramFlags) String() string     { return strings.Join(*p, ",") }
func (p *paramFlags) Set(v string) error { *p = append(*p, v); return nil }

func cmdExecute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, path := commonFlags("execute", stderr)
	repo := fs.String("repo", "", "repository owner/name")
	var params paramFlags
	fs.Var(&params, "param", "parameter key=value (repeatable)")
	parameters := fs.String("parameters", "", "parameters as a JSON object")
	wait := fs.Bool("wait", false, "wait for the execution to finish; exit 0 only on success")
	timeout := fs.Duration("timeout", 35*time.Minute, "how long --wait waits")
	asJSON := fs.Bool("json", false, "print JSON")
	// The kind may stand before, between or after the flags.
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError{2}
	}
	switch {
	case len(positional) == 0:
		fmt.Fprintf(stderr, "execute needs a workflow kind: %s\n", strings.Join(workflows.KindNames(), ", "))
		return exitError{2}
	case len(positional) > 1:
		fmt.Fprintf(stderr, "execute takes one workflow kind, got %q (flags may stand before or after the kind)\n",
			strings.Join(positional, " "))
		return exitError{2}
	}
	kind := positional[0]
	raw := map[string]any{}
	if *parameters != "" {
		dec := json.NewDecoder(strings.NewReader(*parameters))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("--parameters must be a JSON object: %w", err)
		}
	}
	for _, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return fmt.Errorf("--param must be key=value, got %q", p)
		}
		raw[k] = v
	}
	var target workflows.Repo
	if *repo != "" {
		if target, err = workflows.ParseRepo(*repo); err != nil {
			return fmt.Errorf("--repo must be owner/name: %w", err)
		}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if spec, ok := workflows.SpecFor(workflows.Kind(kind)); ok && spec.NeedsRepo && !cfg.HasAppCredentials() {
		// Repository workflows act on GitHub: a server configured like this CLI cannot run them.
		const missing = "this configuration has no GitHub App credentials (GITHUB_APP_ID, GITHUB_PRIVATE_KEY or " +
			"GITHUB_PRIVATE_KEY_PATH, GITHUB_WEBHOOK_SECRET): register the app on the setup page of autonomous serve, or set them"
		if *wait {
			return fmt.Errorf("%s needs GitHub and %s; nothing was enqueued", kind, missing)
		}
		fmt.Fprintf(stderr, "warning: %s\n", missing)
	}
	engine, closeAll, err := openInsertOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	ins, err := engine.Trigger(ctx, workflows.Kind(kind), target, raw)
	if err != nil {
		return err
	}
	if !*wait {
		if *asJSON {
			return json.NewEncoder(stdout).Encode(ins)
		}
		fmt.Fprintf(stdout, "enqueued %s execution %d\n", kind, ins.ID)
		return nil
	}
	waitCtx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	x, err := waitTerminal(waitCtx, engine, ins.ID, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		_ = json.NewEncoder(stdout).Encode(x)
	} else if report := outputReport(x.Output); report != "" {
		// A workflow whose output carries a report (performance_monitoring) is printed as one.
		fmt.Fprintf(stdout, "execution %d %s\n\n%s\n", x.ID, x.State, report)
	} else {
		fmt.Fprintf(stdout, "execution %d %s\n%s\n", x.ID, x.State, string(x.Output))
	}
	if x.State != "completed" {
		return exitError{1}
	}
	return nil
}

// waitTerminal polls an execution until it finishes; a running `autonomous serve` sharing the
// database executes it. Every failed attempt's error is printed on stderr as it appears, and
// when ctx ends first the error says where the execution stands and why.
func waitTerminal(ctx context.Context, engine *workflows.Engine, id int64, stderr io.Writer) (workflows.Execution, error) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var x workflows.Execution
	reported := 0
	for {
		got, err := engine.Status(ctx, id)
		switch {
		case err == nil:
			x = got
		case ctx.Err() == nil:
			return got, err
		}
		for ; reported < len(x.Errors); reported++ {
			fmt.Fprintf(stderr, "execution %d: attempt %d failed: %s\n", id, reported+1, x.Errors[reported])
		}
		if err == nil && x.Terminal() {
			return x, nil
		}
		select {
		case <-ctx.Done():
			return x, fmt.Errorf("stopped waiting for execution %d: %s: %w", id, waitingFor(x), ctx.Err())
		case <-tick.C:
		}
	}
}

// waitingFor says why an execution has not finished yet.
func waitingFor(x workflows.Execution) string {
	switch {
	case x.ID == 0:
		return "its state could not be read"
	case len(x.Errors) > 0:
		return fmt.Sprintf("it is %s after %d failed attempts; the last error: %s", x.State, len(x.Errors), x.Errors[len(x.Errors)-1])
	case x.State == "running":
		return fmt.Sprintf("attempt %d is still running", x.Attempt)
	case x.Attempt == 0:
		return fmt.Sprintf("it is %s and no worker has started it: is autonomous serve running on this database?", x.State)
	}
	return "it is " + x.State
}

// outputReport is the "report" text of an execution's output, or "" when it has none.
func outputReport(output []byte) string {
	var o struct {
		Report string `json:"report"`
	}
	if len(output) == 0 || json.Unmarshal(output, &o) != nil {
		return ""
	}
	return o.Report
}
