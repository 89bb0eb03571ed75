package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// chromiumPath finds Debian's chromium (or another Chromium-family browser); the browser tests
// skip without one. CHROMIUM_PATH names one explicitly.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium binary found (Debian: apt-get install chromium; .ci/run installs it)")
	return ""
}

// browserConsole is a headless Chromium tab and everything its pages wrote to the console:
// console calls, uncaught exceptions (runtime.EventExceptionThrown) and browser log entries
// (CSP violations, failed loads).
type browserConsole struct {
	ctx context.Context
	mu  sync.Mutex
	all []chromedp.ConsoleMessage
}

// marker is logged through the console API after the checks: once it is read, every message
// the page wrote before it has been read too (the browser sends them in order).
const consoleMarker = "autonomous-browser-test-done"

func newBrowser(t *testing.T) *browserConsole {
	t.Helper()
	bin := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	b := &browserConsole{ctx: tabCtx}
	messages := chromedp.Console(tabCtx) // subscribes now: starts the browser and opens the tab
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.all = append(b.all, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancelTab(); <-done })
	return b
}

// messages logs the marker, waits for it and returns what came before it.
func (b *browserConsole) messages(t *testing.T) []chromedp.ConsoleMessage {
	t.Helper()
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`console.info("`+consoleMarker+`")`)))
	var out []chromedp.ConsoleMessage
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, m := range b.all {
			if m.Text == consoleMarker {
				out = append([]chromedp.ConsoleMessage(nil), b.all[:i]...)
				b.all = b.all[i+1:]
				return true
			}
		}
		return false
	}, time.Minute, 10*time.Millisecond, "the console marker never arrived")
	return out
}

// problems are the errors and exceptions among messages.
func problems(messages []chromedp.ConsoleMessage) []string {
	var out []string
	for _, m := range messages {
		if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning && m.Source == "security" {
			out = append(out, m.String()+" ("+m.URL+")")
		}
	}
	return out
}

// TestDashboardInBrowser signs in through the form in headless Chromium, sees the score, and
// finds no console errors on the way.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "browser-1", failedRun(t, 1500, 1)))
	ctx := browser.ctx

	// Unauthenticated: the dashboard sends the browser to the login form.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app.URL()+"/"), chromedp.WaitVisible(chromedp.ID("token"))))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, app.URL()+"/login?next=%2F", loc)

	// A wrong token is refused on the form.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("token"), "not-the-token"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("login-problem")),
	))
	problem, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("login-problem")))
	require.NoError(t, err)
	require.Contains(t, problem, "not the operator token")
	refused := problems(browser.messages(t))
	require.Len(t, refused, 1, "only the refused login's 401")
	require.Contains(t, refused[0], "401")

	// The right one signs in and lands on the dashboard with its score.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("token"), "admin-token"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("health-score")),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, app.URL()+"/", loc)
	score, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("health-score")))
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`^\d{1,3}$`), strings.TrimSpace(score))
	components, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("components")))
	require.NoError(t, err)
	for _, name := range []string{"database", "river", "github"} {
		require.Contains(t, components, name)
	}
	recent, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("recent-executions")))
	require.NoError(t, err)
	require.Contains(t, recent, "failure_analysis")
	// The session cookie is HttpOnly: the page's script cannot read it.
	cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	require.NoError(t, err)
	require.NotContains(t, cookies, "autonomous_session")

	require.Empty(t, problems(browser.messages(t)), "the login form and the dashboard write no console errors")

	// The execution's link opens it in River UI, on the same session, without console errors.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.Search(`//*[@id="recent-executions"]//tr[contains(., "failure_analysis")]//a[starts-with(@href, "/riverui/jobs/")]`))))
	defer func() {
		if !t.Failed() {
			return
		}
		dbg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.body.innerText.slice(0, 2000)`))
		t.Logf("the page at the failure (%v): %s", err, dbg)
	}()
	require.Eventually(t, func() bool {
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`/\/riverui\/jobs\/\d+$/.test(location.pathname) && document.body.innerText.includes("failure_analysis")`))
		return err == nil && shown
	}, time.Minute, 50*time.Millisecond, "River UI shows the execution")
	require.Empty(t, problems(browser.messages(t)), "River UI behind the session cookie")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app.URL()+"/"), chromedp.WaitVisible(chromedp.ID("health-score"))))

	// Signing out goes back to the login form, and the dashboard is closed again.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("token"))))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app.URL()+"/"), chromedp.WaitVisible(chromedp.ID("token"))))
	require.Empty(t, problems(browser.messages(t)))
}

// TestBrowserConsoleCatchesErrors proves the console check can fail: a page that throws and
// breaks its CSP is reported.
func TestBrowserConsoleCatchesErrors(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'")
		_, _ = w.Write([]byte(`<!doctype html><link rel="icon" href="data:,"><style>p{}</style><p id="p">x</p>` +
			`<script>console.error("page error"); throw new Error("uncaught boom")</script>`))
	}))
	t.Cleanup(srv.Close)
	require.NoError(t, chromedp.Do(browser.ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("p"))))
	got := strings.Join(problems(browser.messages(t)), "\n")
	require.Contains(t, got, "page error")
	require.Contains(t, got, "uncaught boom")
	require.Contains(t, got, "Content Security Policy", "the blocked inline style is reported")
}
