package dashboard

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/dashboard/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

var pageTemplate = template.Must(template.New("").Funcs(template.FuncMap{
	"when":     when,
	"clip":     clip,
	"statusOf": statusClass,
	"percent":  func(rate float64) string { return fmt.Sprintf("%.1f %%", 100*rate) },
	"duration": duration,
}).ParseFS(templateFS, "templates/*.html"))

// DefaultLimit is how many recent executions, alerts and recovery actions the page lists.
const DefaultLimit = 20

// sourceTimeout bounds each section's source, so one slow source cannot hold the page.
const sourceTimeout = 10 * time.Second

// states is the order of execution states in the counts table: waiting, working, finished.
var states = []string{"available", "scheduled", "pending", "running", "retryable", "completed", "cancelled", "discarded"}

// Options configure the page.
type Options struct {
	Health     Health
	Executions Executions
	Alerts     Alerts
	Recoveries Recoveries
	// RiverUI is River UI's path prefix ("/riverui"); executions link to RiverUI/jobs/<id>.
	RiverUI string
	// Limit is the length of the recent lists; DefaultLimit when zero.
	Limit int
	// LogoutToken gives the logout form's CSRF value for a request ("" hides the button).
	LogoutToken func(*http.Request) string
	// Version is the binary's version, shown in the footer.
	Version string
}

// Handler serves the page; see New.
type Handler struct{ opts Options }

// New returns the page's handler. Each request reads every source (concurrently, each bounded
// by a timeout); a source that fails shows its section as unreadable and is logged, and the
// rest of the page is still served.
func New(opts Options) *Handler {
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	if opts.RiverUI == "" {
		opts.RiverUI = "/riverui"
	}
	return &Handler{opts: opts}
}

// section is what one part of the page shows: Missing when no source is wired, Failed when
// the source did not answer.
type section struct {
	Missing, Failed bool
}

// view is the template's data.
type view struct {
	Nonce       string
	Title       string
	Version     string
	RiverUI     string
	LogoutToken string
	RenderedAt  time.Time

	Health        HealthReport
	HealthSection section

	Kinds             []kindCounts
	States            []string
	Recent            []ExecutionRow
	ExecutionsSection section

	Alerts        []AlertRow
	AlertsSection section

	Recoveries        []RecoveryRow
	RecoveriesSection section
}

// kindCounts is one row of the counts table: the kind's count per state of view.States.
type kindCounts struct {
	Kind   string
	Counts []int
	Total  int
}

// ServeHTTP renders the page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := h.load(r.Context())
	v.Title, v.Version, v.RiverUI = "Dashboard", h.opts.Version, strings.TrimSuffix(h.opts.RiverUI, "/")
	if h.opts.LogoutToken != nil {
		v.LogoutToken = h.opts.LogoutToken(r)
	}
	auth.Render(w, r, http.StatusOK, pageTemplate, "dashboard.html", func(nonce string) any {
		v.Nonce = nonce
		return v
	})
}

// load reads every source concurrently.
func (h *Handler) load(ctx context.Context) view {
	v := view{RenderedAt: time.Now().UTC()}
	var wg sync.WaitGroup
	run := func(name string, missing bool, s *section, read func(ctx context.Context) error) {
		if missing {
			s.Missing = true
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
			defer cancel()
			if err := read(ctx); err != nil {
				zerolog.Ctx(ctx).Error().Err(err).Str("section", name).Msg("Failed to read a dashboard section")
				s.Failed = true
			}
		}()
	}
	o := h.opts
	run("health", o.Health == nil, &v.HealthSection, func(ctx context.Context) (err error) {
		v.Health, err = o.Health.Health(ctx)
		return err
	})
	run("executions", o.Executions == nil, &v.ExecutionsSection, func(ctx context.Context) error {
		counts, err := o.Executions.ExecutionCounts(ctx)
		if err != nil {
			return err
		}
		v.Kinds, v.States = countTable(counts)
		v.Recent, err = o.Executions.RecentExecutions(ctx, o.Limit)
		return err
	})
	run("alerts", o.Alerts == nil, &v.AlertsSection, func(ctx context.Context) (err error) {
		v.Alerts, err = o.Alerts.RecentAlerts(ctx, o.Limit)
		return err
	})
	run("recoveries", o.Recoveries == nil, &v.RecoveriesSection, func(ctx context.Context) (err error) {
		v.Recoveries, err = o.Recoveries.RecentRecoveries(ctx, o.Limit)
		return err
	})
	wg.Wait()
	return v
}

// countTable turns counts into rows by kind (sorted) over the states that occur, in the order of
// states, then any state River adds later, sorted.
func countTable(counts ExecutionCounts) ([]kindCounts, []string) {
	seen := map[string]bool{}
	kinds := make([]string, 0, len(counts))
	for kind, byState := range counts {
		kinds = append(kinds, kind)
		for state, n := range byState {
			if n > 0 {
				seen[state] = true
			}
		}
	}
	sort.Strings(kinds)
	var cols []string
	for _, s := range states {
		if seen[s] {
			cols = append(cols, s)
			delete(seen, s)
		}
	}
	extra := make([]string, 0, len(seen))
	for s := range seen {
		extra = append(extra, s)
	}
	sort.Strings(extra)
	cols = append(cols, extra...)
	rows := make([]kindCounts, 0, len(kinds))
	for _, kind := range kinds {
		row := kindCounts{Kind: kind, Counts: make([]int, len(cols))}
		for i, s := range cols {
			row.Counts[i] = counts[kind][s]
			row.Total += row.Counts[i]
		}
		if row.Total > 0 {
			rows = append(rows, row)
		}
	}
	return rows, cols
}

// when formats a time for the page (UTC, to the second); the zero time is "—".
func when(t any) string {
	var tm time.Time
	switch v := t.(type) {
	case time.Time:
		tm = v
	case *time.Time:
		if v == nil {
			return "—"
		}
		tm = *v
	default:
		return fmt.Sprint(t)
	}
	if tm.IsZero() {
		return "—"
	}
	return tm.UTC().Format("2006-01-02 15:04:05Z")
}

// clip shortens untrusted text for a table cell: one line, at most n runes.
func clip(n int, s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// duration formats milliseconds: "850 ms", "12.3 s", "4.5 min".
func duration(ms float64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%.0f ms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.1f s", ms/1000)
	}
	return fmt.Sprintf("%.1f min", ms/60_000)
}

// statusClass maps a status to the CSS class that colours it.
func statusClass(status string) string {
	switch status {
	case "healthy", "completed", "resolved", "succeeded", "success", "ok":
		return "good"
	case "degraded", "retryable", "scheduled", "available", "pending", "running", "open", "medium", "low", "high":
		return "warn"
	case "down", "discarded", "failed", "critical", "failure":
		return "bad"
	}
	return "neutral"
}
