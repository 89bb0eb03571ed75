package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rcrowley/go-metrics"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"
	"riverqueue.com/riverui"

	"github.com/contexten/autonomous"
	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/appsetup"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/dashboard/auth"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/handlers"
	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/integrations/slack"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// appOptions are the knobs tests turn; production uses the zero value.
type appOptions struct {
	Logger zerolog.Logger
	// Addr overrides cfg.ListenAddr() (tests listen on 127.0.0.1:0).
	Addr string
	// Engine overrides individual engine options (poll interval, rescue window, client id).
	FetchPollInterval    time.Duration
	RescueStuckJobsAfter time.Duration
	ClientID             string
	// EnvFile is where the setup page writes credentials.
	EnvFile string
	// IngestOnly leaves River stopped: webhooks are stored but not worked (ingest benchmarks).
	IngestOnly bool
}

// App is the running bot: HTTP server, webhook dispatcher and workflow engine.
type App struct {
	cfg      config.Config
	logger   zerolog.Logger
	store    *store.Store
	engine   *workflows.Engine
	server   *http.Server
	listener net.Listener
	registry metrics.Registry
	checker  *monitor.Checker
	riverUI  *riverui.Handler
	guard    *auth.Guard
	// recovery is the middleware every job runs through (retries, snoozes, escalations).
	recovery *recovery.Manager
	// idleGC is set while the GC runs at idleGCPercent (releaseMemory), activeGCPercent being
	// its target before; both belong to releaseMemoryWhenIdle's goroutine.
	idleGC          bool
	activeGCPercent int
	opts            appOptions
	// alerts records and delivers alerts (Slack, Linear); always set, even with no channel.
	alerts *alerting.Service
	// inbox stores webhook work before the answer and moves it into River (inboxStore).
	inbox      *workflows.Inbox
	inboxStore *store.Inbox
	// closeHTTPCache removes the GitHub clients' HTTP cache files (ghapp.NewClientCreator).
	closeHTTPCache func() error
}

// buildApp wires everything, top to bottom: database, GitHub clients, workers, engine,
// webhook handlers, HTTP routes. Nothing runs until Run.
func buildApp(ctx context.Context, cfg config.Config, opts appOptions) (_ *App, err error) {
	logger := opts.Logger
	a := &App{cfg: cfg, logger: logger, registry: monitor.NewRegistry(), opts: opts,
		closeHTTPCache: func() error { return nil }}
	defer func() {
		if err != nil {
			_ = a.closeHTTPCache()
		}
	}()
	// Operators: ADMIN_TOKEN guards the dashboard, River UI and /api/* (a bearer header, or the
	// login form's session cookie); without it they are closed.
	guard, err := auth.New(auth.Options{Token: cfg.AdminToken, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, err
	}
	a.guard = guard

	// 1. Database: SQLite file by default, Postgres when DATABASE_URL says so; migrated.
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.store = st
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}

	// 2. GitHub clients, all with go-githubapp's metrics and logging middleware and an HTTP cache.
	var clients ghapp.Clients = missingCredentials{}
	slug := cfg.GitHubAppSlug
	if cfg.HasAppCredentials() {
		creator, closeHTTPCache, err := ghapp.NewClientCreator(cfg, version, a.registry)
		if err != nil {
			_ = st.Close()
			return nil, err
		}
		a.closeHTTPCache = closeHTTPCache
		clients = ghapp.AppClients{Creator: creator}
		if slug == "" {
			slug = lookupAppSlug(ctx, clients, logger)
		}
	}

	// 2b. Integrations: Slack and Linear, each only when configured (nil otherwise); the alerts
	// delivered through them are recorded either way.
	var codegenClient *codegen.Client
	if cfg.CodegenToken != "" && cfg.CodegenOrgID != "" {
		if codegenClient, err = codegen.New(cfg.CodegenOrgID, cfg.CodegenToken, codegen.WithURL(cfg.CodegenAPIURL)); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	var slackClient *slack.Client
	if cfg.SlackWebhookURL != "" {
		if slackClient, err = slack.New(cfg.SlackWebhookURL); err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("failed to create the Slack client: %w", err)
		}
	}
	var linearClient *linear.Client
	if cfg.LinearAPIKey != "" {
		if linearClient, err = linear.New(cfg.LinearAPIKey, linear.WithURL(cfg.LinearAPIURL)); err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("failed to create the Linear client: %w", err)
		}
	}
	alertDeps := alerting.Deps{Store: st, Cooldown: cfg.AlertCooldown, Metrics: a.registry}
	if slackClient != nil {
		alertDeps.Slack = slackClient
	}
	if linearClient != nil && cfg.LinearTeamID != "" {
		alertDeps.Linear, alertDeps.LinearTeamID = linearClient, cfg.LinearTeamID
	}
	a.alerts = alerting.New(alertDeps)

	// 3. Workers and the engine; every job runs through the recovery manager.
	a.recovery = newRecovery(cfg, st, a.alerts, a.registry, logger)
	repoConfigs := config.NewRepoConfigLoader(time.Minute)
	a.checker = healthChecker(cfg, nil, codegenClient, slackClient, linearClient)
	a.checker.RequireRunning = true
	if cfg.HasAppCredentials() {
		a.checker.GitHub = clients
	}
	workers, schedules := newWorkers(workerDeps{
		cfg: cfg, clients: clients, repoConfigs: repoConfigs, store: st, checker: a.checker, appSlug: slug,
		alerts: a.alerts, healthAlerts: a.alerts, healer: a.recovery, recovery: a.recovery, codegen: codegenClient,
	})
	engine, err := workflows.NewEngine(st, workflows.Options{
		Workers:              workers,
		PeriodicJobs:         schedules,
		MaxWorkers:           cfg.MaxConcurrentWorkflows,
		JobTimeout:           cfg.WorkflowDefaultTimeout,
		RetryDelay:           cfg.WorkflowRetryDelay,
		FetchPollInterval:    opts.FetchPollInterval,
		RescueStuckJobsAfter: opts.RescueStuckJobsAfter,
		ID:                   opts.ClientID,
		Logger:               logger,
		Middleware:           []rivertype.Middleware{a.recovery},
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	a.engine = engine
	// 3b. The inbox: a delivery's jobs are stored there before its answer and moved into River
	// by a pump (Run), off the ack path; SQLite keeps it in its own file.
	inboxStore, err := store.OpenInbox(ctx, st)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	a.inbox, err = workflows.NewInbox(ctx, inboxStore, engine, workflows.InboxOptions{Kinds: handlers.Kinds, Logger: logger})
	if err != nil {
		_ = inboxStore.Close()
		_ = st.Close()
		return nil, err
	}
	a.inboxStore = inboxStore
	metrics.NewRegisteredFunctionalGauge("inbox.backlog", a.registry, a.inbox.Backlog)
	a.recovery.Attach(engine)
	a.checker.Engine = engine
	a.alerts.SetClient(engine.Client()) // raises outside jobs; workers use their job's client
	registerBuilders(engine)

	// 4. Webhooks: go-githubapp's dispatcher with the synchronous scheduler, so the answer is
	// sent only after the delivery's jobs are in the inbox.
	mux := http.NewServeMux()
	if cfg.HasAppCredentials() {
		hooks := webhookHandlers(a.inbox, st, slug, cfg.GitHubAppID)
		dispatcher := githubapp.NewEventDispatcher(hooks, cfg.GitHubWebhookSecret, githubapp.WithErrorCallback(webhookErrorCallback))
		// JSON payloads skip the dispatcher's second read and signature check, and store the
		// delivery's jobs in one inbox commit (http.go directDispatch).
		dispatcher = directDispatch(hooks, a.inbox, webhookErrorCallback, dispatcher)
		mux.Handle("POST /api/github/hook", countWebhooks(a.registry, limitBody(verifySignature(cfg.GitHubWebhookSecret, dispatcher))))
	} else {
		mux.HandleFunc("POST /api/github/hook", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "the GitHub App is not configured yet: open / to register it", http.StatusServiceUnavailable)
		})
		setup, err := appsetup.NewHandler(appsetup.Config{
			Manifest: autonomous.AppManifest, GitHubURL: cfg.GitHubURL, APIURL: cfg.GitHubAPIURL,
			PublicURL: cfg.PublicURL, EnvFile: opts.EnvFile,
			OnRegistered: func(c appsetup.Credentials) {
				logger.Info().Str("app_slug", c.Slug).Int64("app_id", c.AppID).Msg("GitHub App registered; restart autonomous serve to use it")
			},
		})
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("failed to create the setup page: %w", err)
		}
		mux.Handle("/", setup)
	}

	// 5. Health and operator endpoints.
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	a.guard.Routes(mux) // GET and POST /login, POST /logout
	if cfg.HasAppCredentials() {
		mux.Handle("GET /{$}", a.guard.Browser(a.newDashboard())) // the setup page has "/" until then
	}
	a.routeOperatorAPI(mux)
	// River UI: every workflow execution, its attempts, errors and output, for operators.
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(engine.Client(), nil),
		Logger:    slog.New(zerolog.NewSlogHandler(logger.Level(max(logger.GetLevel(), zerolog.WarnLevel)))),
		Prefix:    "/riverui",
	})
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("failed to create River UI: %w", err)
	}
	a.riverUI = ui
	mux.Handle("/riverui/", a.guard.Browser(ui))

	addr := opts.Addr
	if addr == "" {
		addr = cfg.ListenAddr() // loopback while unconfigured, unless BIND_ADDR or PUBLIC_URL
	}
	a.server = &http.Server{
		Addr:              addr,
		Handler:           requestLogging(logger, mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return logger.WithContext(context.Background()) },
	}
	return a, nil
}

// webhookHandlers are the event handlers, one per event; app.yml subscribes to their events.
func webhookHandlers(jobs handlers.Enqueuer, st handlers.InstallationStore, slug string, appID int64) []githubapp.EventHandler {
	base := handlers.Base{Jobs: jobs}
	return []githubapp.EventHandler{
		&handlers.WorkflowRunHandler{Base: base},
		&handlers.PushHandler{Base: base},
		&handlers.CheckRunHandler{Base: base, AppSlug: slug, AppID: appID},
		&handlers.CheckSuiteHandler{Base: base, AppSlug: slug},
		&handlers.IssueCommentHandler{Base: base, AppSlug: slug},
		&handlers.PushHandler{Base: base},
		&handlers.PullRequestHandler{Base: base},
		&handlers.InstallationHandler{Installations: st},
		handlers.PingHandler{},
	}
}

// lookupAppSlug asks GitHub for the app's slug (GET /app) when GITHUB_APP_SLUG is not set; the
// slug makes "@<slug> <command>" work and tells the bot's own comments apart. Failure is logged
// and leaves "/ci" commands working.
func lookupAppSlug(ctx context.Context, clients ghapp.Clients, logger zerolog.Logger) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	app, err := clients.App()
	if err == nil {
		var me *github.App
		// GET /app — https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app
		if me, _, err = app.Apps.Get(ctx, ""); err == nil {
			return me.GetSlug()
		}
	}
	logger.Warn().Err(err).Msg("Failed to look up the app's slug; set GITHUB_APP_SLUG")
	return ""
}

// missingCredentials is the GitHubClients of a server that has not been registered yet.
type missingCredentials struct{}

var errNoCredentials = errors.New("the GitHub App has no credentials: register it on the setup page")

func (missingCredentials) ForRepo(context.Context, string, string, int64) (*githubClient, int64, error) {
	return nil, 0, errNoCredentials
}

func (missingCredentials) App() (*githubClient, error) { return nil, errNoCredentials }

// Run serves until ctx is cancelled, then shuts down gracefully: stop accepting requests, let
// running jobs finish within the soft-stop bound, close the database. Failing to start, it still
// removes the HTTP cache's files.
func (a *App) Run(ctx context.Context) error {
	if err := a.Listen(); err != nil {
		return errors.Join(err, a.closeHTTPCache())
	}
	go a.inbox.Run(ctx)
	go releaseMemoryWhenIdle(ctx, a.appActivity, a.releaseMemory, a.resumeMemory, idleReleaseEvery, idleRelease)
	if !a.opts.IngestOnly {
		if err := a.engine.Start(context.WithoutCancel(ctx)); err != nil {
			return errors.Join(err, a.closeHTTPCache())
		}
		go a.recovery.Watch(ctx) // restarts a stuck River client (AUTO_RESTART_ENABLED), prunes records
	}
	if err := a.riverUI.Start(ctx); err != nil {
		return errors.Join(fmt.Errorf("failed to start River UI: %w", err), a.closeHTTPCache())
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(a.listener) }()
	a.logger.Info().Str("addr", a.listener.Addr().String()).Str("database", string(a.store.Dialect)).
		Bool("app_configured", a.cfg.HasAppCredentials()).Msg("Serving")
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("failed to serve: %w", err)
		}
	}
	return errors.Join(runErr, a.Shutdown())
}

// Listen binds the server's address (separate from Run so tests learn the port first).
func (a *App) Listen() error {
	if a.listener != nil {
		return nil
	}
	l, err := net.Listen("tcp", a.server.Addr)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", a.server.Addr, err)
	}
	a.listener = l
	return nil
}

// URL is the server's base URL once listening.
func (a *App) URL() string { return "http://" + a.listener.Addr().String() }

// Shutdown stops the server, the engine and the database, and removes the HTTP cache's files.
func (a *App) Shutdown() error {
	a.logger.Info().Msg("Shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if err := a.server.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("failed to stop the HTTP server: %w", err))
	}
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer stopCancel()
	// What the inbox holds goes into River first; what does not fit in the time stays for the
	// next start.
	drainCtx, drainCancel := context.WithTimeout(stopCtx, 15*time.Second)
	defer drainCancel()
	if err := a.inbox.Stop(drainCtx); err != nil {
		errs = append(errs, err)
	}
	if err := a.engine.Stop(stopCtx); err != nil {
		errs = append(errs, err)
	}
	if err := a.inboxStore.Close(); err != nil {
		errs = append(errs, fmt.Errorf("failed to close the inbox: %w", err))
	}
	if err := a.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("failed to close the database: %w", err))
	}
	if err := a.closeHTTPCache(); err != nil {
		errs = append(errs, fmt.Errorf("failed to remove the GitHub HTTP cache: %w", err))
	}
	return errors.Join(errs...)
}

type githubClient = github.Client
