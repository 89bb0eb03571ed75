package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// standIn is the local GitHub the server talks to during a load test: it answers what the app
// and its workers ask at once, so workers finish quickly instead of stalling on the network.
// Workflow runs (about 9 KB each, like GitHub's) come back "cancelled", which the failure analysis records as not failed and
// finishes without further requests. GET answers carry an ETag and Cache-Control like GitHub's,
// so the server's HTTP cache fills as it would in production.
type standIn struct {
	server *http.Server
	url    string

	mu     sync.Mutex
	counts map[string]int
}

func startStandIn() (*standIn, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the GitHub stand-in: %w", err)
	}
	g := &standIn{url: "http://" + l.Addr().String() + "/", counts: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app", g.answer("GET /app", `{"id":1,"slug":"autonomous-loadtest","name":"Autonomous load test"}`))
	mux.HandleFunc("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		g.count("POST /app/installations/{id}/access_tokens")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":"ghs_loadtest%s","expires_at":%q}`, r.PathValue("id"), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	})
	mux.HandleFunc("GET /repos/{owner}/{repo}/installation", g.answer("GET /repos/{owner}/{repo}/installation", `{"id":4242}`))
	mux.HandleFunc("GET /rate_limit", g.answer("GET /rate_limit", `{"resources":{"core":{"limit":5000,"remaining":4999,"reset":4102444800,"used":1}},"rate":{"limit":5000,"remaining":4999,"reset":4102444800,"used":1}}`))
	runAnswer, err := newRunTemplate()
	if err != nil {
		l.Close()
		return nil, err
	}
	// The repository (performance monitoring reads its default branch).
	mux.HandleFunc("GET /repos/{owner}/{repo}", g.answer("GET /repos/{owner}/{repo}",
		fmt.Sprintf(`{"id":186853002,"name":%q,"full_name":%q,"private":true,"default_branch":"main","owner":{"login":%q,"id":9919,"type":"Organization"}}`,
			repoName, owner+"/"+repoName, owner)))
	run := func(pattern string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			g.count(pattern)
			id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
			if err != nil || id < firstRunID || id > maxRunID {
				http.NotFound(w, r)
				return
			}
			cacheHeaders(w, r.PathValue("id"))
			body := make([]byte, len(runAnswer.body))
			runAnswer.render(body, id)
			_, _ = w.Write(body)
		}
	}
	// The runs of a commit (performance monitoring compares a pull request's runs with the base
	// branch's): none listed, so it finds nothing to compare and finishes.
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", g.answer("GET /repos/{owner}/{repo}/actions/runs", `{"total_count":0,"workflow_runs":[]}`))
	mux.HandleFunc("GET /app/installations", g.answer("GET /app/installations", `[]`))
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{id}", run("GET /repos/{owner}/{repo}/actions/runs/{id}"))
	// An attempt of the run (test optimization reads the attempt it collects from).
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{id}/attempts/{attempt}", run("GET /repos/{owner}/{repo}/actions/runs/{id}/attempts/{attempt}"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		g.count("404 " + r.Method + " " + digits.ReplaceAllString(r.URL.Path, "{n}"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
	})
	g.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := g.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("GitHub stand-in stopped:", err)
		}
	}()
	return g, nil
}

func cacheHeaders(w http.ResponseWriter, etag string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
	w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	w.Header().Set("ETag", `W/"`+etag+`"`)
}

func (g *standIn) answer(route, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g.count(route)
		cacheHeaders(w, route)
		fmt.Fprint(w, body)
	}
}

func (g *standIn) count(route string) {
	g.mu.Lock()
	g.counts[route]++
	g.mu.Unlock()
}

// summary lists the requests answered, by route.
// digits are the numbers of a path the stand-in does not answer, left out of its count's name.
var digits = regexp.MustCompile(`[0-9]+`)

func (g *standIn) summary() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var parts []string
	for route, n := range g.counts {
		parts = append(parts, fmt.Sprintf("%s: %d", route, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (g *standIn) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = g.server.Shutdown(ctx)
}
