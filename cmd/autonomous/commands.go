package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rcrowley/go-metrics"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/failureanalysis/loganalysis"
	"github.com/contexten/autonomous/workflows/failureanalysis/redact"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs, path := commonFlags("serve", stderr)
	if err := noArguments(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	problems := cfg.Validate()
	for _, p := range problems {
		logger.Warn().Msg(p)
	}
	if config.HasFatal(problems) {
		return fmt.Errorf("the configuration has errors; run autonomous init to list them")
	}
	app, err := buildApp(ctx, cfg, appOptions{Logger: logger, EnvFile: envFile})
	if err != nil {
		return err
	}
	return app.Run(ctx)
}

func cmdInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, path := commonFlags("init", stderr)
	if err := noArguments(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if printProblems(stdout, cfg.Validate()) {
		return exitError{1}
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database ready (%s)\n", st.Dialect)
	return nil
}

// openInsertOnly opens the database and an engine that enqueues and reads but runs no jobs.
func openInsertOnly(ctx context.Context, cfg config.Config) (*workflows.Engine, func(), error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	engine, err := workflows.NewEngine(st, workflows.Options{Logger: newLogger(cfg, os.Stderr)})
	if err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	registerBuilders(engine)
	return engine, func() { _ = engine.Stop(context.Background()); _ = st.Close() }, nil
}

// statusReport is `status --json`.
type statusReport struct {
	Health        monitor.Report        `json:"health"`
	Installations []store.Installation  `json:"installations"`
	Metrics       workflows.Metrics     `json:"metrics"`
	Executions    []workflows.Execution `json:"executions"`
	Alerts        []alerting.Record     `json:"alerts"`
	// Recoveries are the recovery manager's last actions.
	Recoveries []recovery.Action `json:"recoveries"`
}

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, path := commonFlags("status", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := noArguments(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	engine, closeAll, err := openInsertOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	checker, closeGitHub := cliHealthChecker(cfg, engine)
	defer func() { _ = closeGitHub() }()
	var rep statusReport
	rep.Health = checker.Check(ctx)
	if rep.Installations, err = engine.Store().Installations(ctx); err != nil {
		return err
	}
	if rep.Metrics, err = engine.Metrics(ctx); err != nil {
		return err
	}
	if rep.Executions, err = engine.List(ctx, workflows.ListFilter{Limit: 20}); err != nil {
		return err
	}
	if rep.Alerts, err = alerting.Recent(ctx, engine.Store(), 10); err != nil {
		return err
	}
	if rep.Recoveries, err = recovery.NewRecords(engine.Store()).Recent(ctx, 10); err != nil {
		return err
	}
	if rep.Installations == nil {
		rep.Installations = []store.Installation{}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printHealth(stdout, rep.Health)
	fmt.Fprintf(stdout, "\nInstallations: %d\n", len(rep.Installations))
	for _, inst := range rep.Installations {
		fmt.Fprintf(stdout, "  %d  %s (%s)  %d repositories\n", inst.ID, inst.Account, inst.AccountType, len(inst.Repositories))
	}
	fmt.Fprintf(stdout, "\nExecutions: %d  success rate %.0f%%  error rate %.0f%%  p50 %.0f ms  p95 %.0f ms\n",
		rep.Metrics.Total, rep.Metrics.SuccessRate*100, rep.Metrics.ErrorRate*100, rep.Metrics.DurationP50MS, rep.Metrics.DurationP95MS)
	kinds := make([]string, 0, len(rep.Metrics.Counts))
	for k := range rep.Metrics.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		var parts []string
		for state, n := range rep.Metrics.Counts[k] {
			parts = append(parts, fmt.Sprintf("%s=%d", state, n))
		}
		sort.Strings(parts)
		fmt.Fprintf(stdout, "  %-24s %s\n", k, strings.Join(parts, " "))
	}
	fmt.Fprintln(stdout, "\nLast executions:")
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tKIND\tSTATE\tREPO\tATTEMPT\tCREATED")
	for _, x := range rep.Executions {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\t%s\n", x.ID, x.Kind, x.State, x.Repo, x.Attempt, x.CreatedAt.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printAlerts(stdout, rep.Alerts)
	return printRecoveries(stdout, rep.Recoveries)
}

// printAlerts lists the recent alerts: state, severity, fingerprint, count, what became of
// their delivery.
func printAlerts(w io.Writer, alerts []alerting.Record) {
	fmt.Fprintf(w, "\nRecent alerts: %d\n", len(alerts))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, al := range alerts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%dx\t%s\t%s\n", al.State, al.Severity, al.Fingerprint, al.Occurrences,
			al.LastSeen.Format(time.RFC3339), oneLine(al.Delivery, 120))
	}
	_ = tw.Flush()
}

// printRecoveries lists the recovery manager's last actions for status.
func printRecoveries(w io.Writer, actions []recovery.Action) error {
	fmt.Fprintln(w, "\nRecent recovery actions:")
	if len(actions) == 0 {
		fmt.Fprintln(w, "  none")
		return nil
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  AT\tACTION\tCLASS\tKIND\tJOB\tREPO\tOUTCOME\tREASON")
	for _, a := range actions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", a.At.Format(time.RFC3339), a.Action, a.Class, a.Kind,
			a.JobID, a.Repo, oneLine(a.Outcome, 60), oneLine(a.Reason, 100))
	}
	return tw.Flush()
}

// oneLine keeps text on one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func printHealth(w io.Writer, r monitor.Report) {
	verdict := "healthy"
	if !r.Healthy {
		verdict = "unhealthy"
	}
	fmt.Fprintf(w, "Health: %s (score %d, threshold %g; worst component %s)\n", verdict, r.Score, r.Threshold, r.Status)
	for _, c := range r.Components {
		fmt.Fprintf(w, "  %-14s %-9s %s (%.1f ms)\n", c.Status, c.Name, c.Message, c.LatencyMS)
	}
	for _, k := range r.Workflows {
		if k.Finished == 0 {
			continue
		}
		fmt.Fprintf(w, "    %-24s %d finished  success %.0f%%  error rate %.1f%%  p50 %.0f ms  p95 %.0f ms\n",
			k.Kind, k.Finished, 100*k.SuccessRate, k.ErrorRatePercent, k.DurationP50MS, k.DurationP95MS)
	}
}

func cmdHealthCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, path := commonFlags("health-check", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := noArguments(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	engine, closeAll, err := openInsertOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	checker, closeGitHub := cliHealthChecker(cfg, engine)
	defer func() { _ = closeGitHub() }()
	report := checker.Check(ctx)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printHealth(stdout, report)
	}
	if !report.Healthy {
		return exitError{1}
	}
	return nil
}

// githubForCLI returns the app's GitHub clients when credentials are configured, else nil, and
// the func that removes their HTTP cache (call it when done). They are built as the server builds
// its own (ghapp.NewClientCreator), with the CLI's own metrics registry and its own temporary
// cache directory: GITHUB_HTTP_CACHE_DIR is the server's, which a CLI command run beside it must
// not empty. Credentials that cannot be used give clients that report why.
func githubForCLI(cfg config.Config) (ghapp.Clients, func() error) {
	noCache := func() error { return nil }
	if !cfg.HasAppCredentials() {
		return nil, noCache
	}
	cfg.GitHubHTTPCacheDir = ""
	creator, closeCache, err := ghapp.NewClientCreator(cfg, version, metrics.NewRegistry())
	if err != nil {
		return unusableCredentials{err: fmt.Errorf("failed to use the GitHub App credentials: %w", err)}, noCache
	}
	return ghapp.AppClients{Creator: creator}, closeCache
}

// unusableCredentials is the GitHubClients of credentials that are set but unusable (a
// malformed private key): every client is the error.
type unusableCredentials struct{ err error }

func (u unusableCredentials) ForRepo(context.Context, string, string, int64) (*githubClient, int64, error) {
	return nil, 0, u.err
}

func (u unusableCredentials) App() (*githubClient, error) { return nil, u.err }

func cmdAnalyze(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, _ := commonFlags("analyze", stderr)
	logPath := fs.String("log", "", "the log file to analyze, - for standard input")
	format := fs.String("format", "text", "output format: json or text")
	baselinePath := fs.String("baseline-log", "", "the log of the last passing run of the same job; lines also found there are not causes")
	if err := noArguments(fs, args, stderr); err != nil {
		return err
	}
	if *logPath == "" {
		fmt.Fprintln(stderr, "analyze needs --log FILE (or - for standard input)")
		return exitError{2}
	}
	if *format != "json" && *format != "text" {
		fmt.Fprintf(stderr, "--format must be json or text, got %q\n", *format)
		return exitError{2}
	}
	in := stdin
	if *logPath != "-" {
		f, err := os.Open(*logPath)
		if err != nil {
			return fmt.Errorf("failed to open the log: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return errors.New("failed to read the log: " + *logPath + " is a directory")
		}
		in = f
	}
	baseline, err := readBaseline(*baselinePath)
	if err != nil {
		return err
	}
	res, err := loganalysis.Analyze(in, loganalysis.Options{Baseline: baseline})
	if err != nil {
		return fmt.Errorf("failed to analyze the log: %w", err)
	}
	// The step and test names come from the log too: redact them as a posted report is.
	res.Summary, res.FailedStep = redact.String(res.Summary), redact.String(res.FailedStep)
	redact.Strings(res.FailedTests)
	redact.Strings(res.Evidence)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return loganalysis.WriteText(stdout, res)
}
