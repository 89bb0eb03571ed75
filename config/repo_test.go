package config_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/ghapptest"
)

func TestParseRepoConfig(t *testing.T) {
	t.Parallel()
	defaults := config.DefaultRepoConfig()
	for _, tc := range []struct {
		name    string
		content string
		want    func(*config.RepoConfig) // applied to the defaults; nil: the defaults
		wantErr []string                 // substrings of the error
	}{
		{name: "empty"},
		{name: "blank", content: " \n\t\n"},
		{name: "only comments", content: "# failure_analysis:\n#   enabled: false\n"},
		{name: "empty mapping", content: "{}\n"},
		{name: "partial failure analysis", content: "failure_analysis:\n  comment: false\n  auto_fix_enabled: true\n",
			want: func(c *config.RepoConfig) { c.FailureAnalysis.Comment = false; c.FailureAnalysis.AutoFixEnabled = true }},
		{name: "nested partial keeps sibling defaults", content: "failure_analysis:\n  auto_retry:\n    max_attempts: 3\n",
			want: func(c *config.RepoConfig) { c.FailureAnalysis.AutoRetry.MaxAttempts = 3 }},
		{name: "lists replace the default", content: "failure_analysis:\n  auto_retry:\n    classes: [timeout]\n  ignore_workflows: [Release, .github/workflows/nightly.yml]\n",
			want: func(c *config.RepoConfig) {
				c.FailureAnalysis.AutoRetry.Classes = []string{"timeout"}
				c.FailureAnalysis.IgnoreWorkflows = []string{"Release", ".github/workflows/nightly.yml"}
			}},
		{name: "commands", content: "commands:\n  prefix: /bot\n  permissions:\n    rerun: write\n    retry: admin\n  rate_limit:\n    per_pr_per_hour: 2\n",
			want: func(c *config.RepoConfig) {
				c.Commands.Prefix = "/bot"
				c.Commands.Permissions = map[string]string{"rerun": "write", "retry": "admin"}
				c.Commands.RateLimit.PerPRPerHour = 2
			}},
		{name: "disable everything", content: "failure_analysis:\n  enabled: false\ncommands:\n  enabled: false\n",
			want: func(c *config.RepoConfig) { c.FailureAnalysis.Enabled = false; c.Commands.Enabled = false }},
		{name: "log limit bounds", content: "failure_analysis:\n  log_bytes_limit: 1024\n",
			want: func(c *config.RepoConfig) { c.FailureAnalysis.LogBytesLimit = 1024 }},
		{name: "zero log limit means the server's", content: "failure_analysis:\n  log_bytes_limit: 0\n",
			want: func(c *config.RepoConfig) { c.FailureAnalysis.LogBytesLimit = 0 }},
		{name: "max attempts bounds", content: "failure_analysis:\n  auto_retry:\n    max_attempts: 5\n",
			want: func(c *config.RepoConfig) { c.FailureAnalysis.AutoRetry.MaxAttempts = 5 }},

		{name: "unknown top-level key", content: "failure_analysis:\n  enabled: true\ncommandz:\n  enabled: false\n", wantErr: []string{"commandz"}},
		{name: "unknown nested key", content: "failure_analysis:\n  colour: red\n", wantErr: []string{"colour"}},
		{name: "unknown deep key", content: "commands:\n  rate_limit:\n    per_day: 3\n", wantErr: []string{"per_day"}},
		{name: "wrong type", content: "failure_analysis:\n  enabled: maybe\n", wantErr: []string{"maybe"}},
		{name: "list instead of mapping", content: "- failure_analysis\n", wantErr: []string{config.RepoConfigPath}},
		{name: "not yaml", content: "failure_analysis: [\n", wantErr: []string{config.RepoConfigPath}},
		{name: "too many attempts", content: "failure_analysis:\n  auto_retry:\n    max_attempts: 6\n", wantErr: []string{"failure_analysis.auto_retry.max_attempts", "got 6"}},
		{name: "negative attempts", content: "failure_analysis:\n  auto_retry:\n    max_attempts: -1\n", wantErr: []string{"max_attempts"}},
		{name: "tiny log limit", content: "failure_analysis:\n  log_bytes_limit: 100\n", wantErr: []string{"failure_analysis.log_bytes_limit"}},
		{name: "huge log limit", content: "failure_analysis:\n  log_bytes_limit: 2147483648\n", wantErr: []string{"failure_analysis.log_bytes_limit"}},
		{name: "bad permission", content: "commands:\n  permissions:\n    rerun: root\n", wantErr: []string{"commands.permissions.rerun", `"root"`}},
		{name: "prefix with a space", content: "commands:\n  prefix: /c i\n", wantErr: []string{"commands.prefix"}},
		{name: "long prefix", content: "commands:\n  prefix: " + strings.Repeat("x", 33) + "\n", wantErr: []string{"commands.prefix"}},
		{name: "prefix starting with a letter", content: "commands:\n  prefix: ci\n", wantErr: []string{"commands.prefix must start with one of / ! . $ % & ? ; = ^ (like /ci or !ci)"}},
		{name: "prefix starting with a list marker", content: "commands:\n  prefix: \"-ci\"\n", wantErr: []string{"commands.prefix must start with one of"}},
		{name: "unquoted !ci is a YAML tag", content: "commands:\n  prefix: !ci\n", wantErr: []string{`line 2: YAML reads !ci as a tag, not as text: quote the value ("!ci")`}},
		{name: "prefix that is a mention", content: "commands:\n  prefix: \"@bot\"\n", wantErr: []string{"commands.prefix must start with one of"}},
		{name: "negative rate limit", content: "commands:\n  rate_limit:\n    per_repo_per_hour: -1\n", wantErr: []string{"commands.rate_limit"}},
		{name: "every problem at once", content: "failure_analysis:\n  auto_retry:\n    max_attempts: 9\ncommands:\n  prefix: a b\n  rate_limit:\n    per_pr_per_hour: -2\n",
			wantErr: []string{"max_attempts", "commands.prefix", "commands.rate_limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.ParseRepoConfig([]byte(tc.content))
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				require.Contains(t, err.Error(), "invalid "+config.RepoConfigPath)
				for _, want := range tc.wantErr {
					require.Contains(t, err.Error(), want)
				}
				require.Equal(t, defaults, got, "the defaults are returned with the error")
				return
			}
			require.NoError(t, err)
			want := config.DefaultRepoConfig()
			if tc.want != nil {
				tc.want(&want)
			}
			require.Equal(t, want, got)
		})
	}
}

func TestDefaultRepoConfig(t *testing.T) {
	t.Parallel()
	cfg := config.DefaultRepoConfig()
	require.Empty(t, cfg.Validate())
	require.True(t, cfg.FailureAnalysis.Enabled)
	require.True(t, cfg.FailureAnalysis.Comment)
	require.True(t, cfg.FailureAnalysis.CheckRun)
	require.False(t, cfg.FailureAnalysis.AutoFixEnabled)
	require.Equal(t, 1, cfg.FailureAnalysis.AutoRetry.MaxAttempts)
	require.Equal(t, "/ci", cfg.Commands.Prefix)

	// Every call returns fresh slices: a caller changing one cannot change the next.
	cfg.FailureAnalysis.AutoRetry.Classes[0] = "changed"
	require.NotEqual(t, "changed", config.DefaultRepoConfig().FailureAnalysis.AutoRetry.Classes[0])
}

// fakeGitHub serves the few REST endpoints appconfig calls on the shared fake GitHub
// (ghapptest). files maps "owner/repo/path" to content; repos lists existing repositories
// ("owner/repo").
type fakeGitHub struct {
	t     *testing.T
	srv   *ghapptest.Server
	mu    sync.Mutex
	files map[string]string
	repos map[string]bool
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, files: map[string]string{}, repos: map[string]bool{}, srv: ghapptest.New(t)}
	require.True(t, strings.HasPrefix(f.srv.URL(), "http://127.0.0.1:"), f.srv.URL())
	f.routes()
	return f
}

func (f *fakeGitHub) client(t *testing.T) *github.Client {
	t.Helper()
	return f.srv.Client(ghapptest.ClientOptions{})
}

// fail forces a status on GET path.
func (f *fakeGitHub) fail(path string, code int) {
	f.srv.Fail(ghapptest.Fault{Method: http.MethodGet, Path: path, Status: code, Body: fmt.Sprintf(`{"message":%q}`, http.StatusText(code))})
}

// requests are the "GET /path[?ref=…]" requests received.
func (f *fakeGitHub) requests() []string {
	var out []string
	for _, r := range f.srv.Requests() {
		rec := r.String()
		if q, _ := url.ParseQuery(r.Query); q.Get("ref") != "" {
			rec += "?ref=" + q.Get("ref")
		}
		out = append(out, rec)
	}
	return out
}

func (f *fakeGitHub) routes() {
	notFound := map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
	repo := func(r *http.Request) (string, bool) {
		full := r.PathValue("owner") + "/" + r.PathValue("repo")
		f.mu.Lock()
		defer f.mu.Unlock()
		return full, f.repos[full]
	}
	f.srv.HandleFunc("GET /repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request) {
		full, ok := repo(r)
		if !ok {
			ghapptest.JSON(w, http.StatusNotFound, notFound)
			return
		}
		ghapptest.JSON(w, http.StatusOK, map[string]any{"name": r.PathValue("repo"), "full_name": full, "default_branch": "main"})
	})
	f.srv.HandleFunc("GET /repos/{owner}/{repo}/contents/{path...}", func(w http.ResponseWriter, r *http.Request) {
		full, ok := repo(r)
		path := r.PathValue("path")
		f.mu.Lock()
		content, found := f.files[full+"/"+path]
		f.mu.Unlock()
		if !ok || !found {
			ghapptest.JSON(w, http.StatusNotFound, notFound)
			return
		}
		// The shape GitHub documents for a file: base64 content with line breaks.
		encoded := base64.StdEncoding.EncodeToString([]byte(content))
		var wrapped strings.Builder
		for len(encoded) > 60 {
			wrapped.WriteString(encoded[:60] + "\n")
			encoded = encoded[60:]
		}
		wrapped.WriteString(encoded + "\n")
		ghapptest.JSON(w, http.StatusOK, map[string]any{
			"type": "file", "encoding": "base64", "size": len(content),
			"name": path[strings.LastIndex(path, "/")+1:], "path": path,
			"content": wrapped.String(), "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
		})
	})
}

func TestRepoConfigLoaderLoad(t *testing.T) {
	t.Parallel()
	const (
		repoPath = "GET /repos/octo/app/contents/.github/autonomous.yml"
		orgRepo  = "GET /repos/octo/.github"
		orgPath  = "GET /repos/octo/.github/contents/autonomous.yml?ref=main"
	)
	for _, tc := range []struct {
		name     string
		setup    func(f *fakeGitHub)
		want     func(*config.RepoConfig) // nil with wantErr "": the defaults
		wantZero bool                     // a GitHub error: the zero config
		wantErr  []string
		wantReqs []string
	}{
		{
			name: "repository file",
			setup: func(f *fakeGitHub) {
				f.repos["octo/app"] = true
				f.files["octo/app/.github/autonomous.yml"] = "failure_analysis:\n  comment: false\n  ignore_workflows: [" + strings.Repeat("Nightly, ", 20) + "Release]\n"
				f.repos["octo/.github"] = true
				f.files["octo/.github/autonomous.yml"] = "commands:\n  enabled: false\n"
			},
			want: func(c *config.RepoConfig) {
				c.FailureAnalysis.Comment = false
				c.FailureAnalysis.IgnoreWorkflows = append(strings.Split(strings.Repeat("Nightly,", 20), ",")[:20], "Release")
			},
			wantReqs: []string{repoPath},
		},
		{
			name: "organization default",
			setup: func(f *fakeGitHub) {
				f.repos["octo/app"] = true
				f.repos["octo/.github"] = true
				f.files["octo/.github/autonomous.yml"] = "commands:\n  enabled: false\n"
			},
			want:     func(c *config.RepoConfig) { c.Commands.Enabled = false },
			wantReqs: []string{repoPath, orgRepo, orgPath},
		},
		{
			name:     "no file and no .github repository",
			setup:    func(f *fakeGitHub) { f.repos["octo/app"] = true },
			wantReqs: []string{repoPath, orgRepo},
		},
		{
			name: "no file anywhere",
			setup: func(f *fakeGitHub) {
				f.repos["octo/app"] = true
				f.repos["octo/.github"] = true
			},
			wantReqs: []string{repoPath, orgRepo, orgPath},
		},
		{
			name: "repository file does not parse",
			setup: func(f *fakeGitHub) {
				f.repos["octo/app"] = true
				f.files["octo/app/.github/autonomous.yml"] = "failure_analysis:\n  colour: red\n"
			},
			wantErr:  []string{"colour", config.RepoConfigPath, "octo/app"},
			wantReqs: []string{repoPath},
		},
		{
			name: "organization default does not parse",
			setup: func(f *fakeGitHub) {
				f.repos["octo/app"] = true
				f.repos["octo/.github"] = true
				f.files["octo/.github/autonomous.yml"] = "commands:\n  prefix: a b\n"
			},
			wantErr:  []string{"commands.prefix", "octo/.github@main"},
			wantReqs: []string{repoPath, orgRepo, orgPath},
		},
		{
			name: "contents API fails",
			setup: func(f *fakeGitHub) {
				f.repos["octo/app"] = true
				f.fail("/repos/octo/app/contents/.github/autonomous.yml", http.StatusInternalServerError)
			},
			wantZero: true,
			wantErr:  []string{"failed to load", "octo/app", "500"},
			wantReqs: []string{repoPath},
		},
		{
			name: "organization repository lookup fails",
			setup: func(f *fakeGitHub) {
				f.repos["octo/app"] = true
				f.fail("/repos/octo/.github", http.StatusBadGateway)
			},
			wantZero: true,
			wantErr:  []string{"failed to load", "502"},
			wantReqs: []string{repoPath, orgRepo},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGitHub(t)
			tc.setup(f)
			loader := config.NewRepoConfigLoader(0)
			got, err := loader.Load(context.Background(), f.client(t), "octo", "app")
			t.Logf("requests: %q", f.requests())
			require.Equal(t, tc.wantReqs, f.requests())
			switch {
			case tc.wantZero:
				require.Error(t, err)
				require.Equal(t, config.RepoConfig{}, got)
			case len(tc.wantErr) > 0:
				require.Error(t, err)
				require.Equal(t, config.DefaultRepoConfig(), got, "a file that does not parse yields the defaults")
			default:
				require.NoError(t, err)
				want := config.DefaultRepoConfig()
				if tc.want != nil {
					tc.want(&want)
				}
				require.Equal(t, want, got)
			}
			for _, want := range tc.wantErr {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestRepoConfigLoaderCache(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	f.repos["octo/app"] = true
	f.repos["octo/bad"] = true
	f.repos["octo/down"] = true
	f.files["octo/app/.github/autonomous.yml"] = "commands:\n  prefix: /one\n"
	f.files["octo/bad/.github/autonomous.yml"] = "nope: 1\n"
	f.fail("/repos/octo/down/contents/.github/autonomous.yml", http.StatusServiceUnavailable)
	client := f.client(t)
	ctx := context.Background()
	loader := config.NewRepoConfigLoader(time.Hour)

	first, err := loader.Load(ctx, client, "octo", "app")
	require.NoError(t, err)
	require.Equal(t, "/one", first.Commands.Prefix)
	require.Len(t, f.requests(), 1)

	// Within the TTL no request is made, even when the file changed.
	f.mu.Lock()
	f.files["octo/app/.github/autonomous.yml"] = "commands:\n  prefix: /two\n"
	f.mu.Unlock()
	second, err := loader.Load(ctx, client, "octo", "app")
	require.NoError(t, err)
	require.Equal(t, first, second)
	require.Len(t, f.requests(), 1)

	// Forget drops the entry: the next Load reads the new file.
	loader.Forget("octo", "app")
	third, err := loader.Load(ctx, client, "octo", "app")
	require.NoError(t, err)
	require.Equal(t, "/two", third.Commands.Prefix)
	require.Len(t, f.requests(), 2)

	// Forgetting another repository (or one never loaded) keeps this one.
	loader.Forget("octo", "other")
	_, err = loader.Load(ctx, client, "octo", "app")
	require.NoError(t, err)
	require.Len(t, f.requests(), 2)

	// A parse error is cached with the defaults.
	cfg, err := loader.Load(ctx, client, "octo", "bad")
	require.ErrorContains(t, err, "nope")
	require.Equal(t, config.DefaultRepoConfig(), cfg)
	require.Len(t, f.requests(), 3)
	cfg, err = loader.Load(ctx, client, "octo", "bad")
	require.ErrorContains(t, err, "nope")
	require.Equal(t, config.DefaultRepoConfig(), cfg)
	require.Len(t, f.requests(), 3)

	// A GitHub error is not cached: the next Load asks again.
	_, err = loader.Load(ctx, client, "octo", "down")
	require.Error(t, err)
	require.Len(t, f.requests(), 4)
	_, err = loader.Load(ctx, client, "octo", "down")
	require.Error(t, err)
	require.Len(t, f.requests(), 5)
}

func TestRepoConfigLoaderWithoutCache(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	f.repos["octo/app"] = true
	f.files["octo/app/.github/autonomous.yml"] = "commands:\n  prefix: /one\n"
	client := f.client(t)
	loader := config.NewRepoConfigLoader(0)
	for i := 1; i <= 3; i++ {
		cfg, err := loader.Load(context.Background(), client, "octo", "app")
		require.NoError(t, err)
		require.Equal(t, "/one", cfg.Commands.Prefix)
		require.Len(t, f.requests(), i, "ttl 0 disables caching")
	}
}

func TestRepoConfigLoaderExpiry(t *testing.T) {
	t.Parallel()
	f := newFakeGitHub(t)
	f.repos["octo/app"] = true
	f.files["octo/app/.github/autonomous.yml"] = "commands:\n  prefix: /one\n"
	client := f.client(t)
	loader := config.NewRepoConfigLoader(50 * time.Millisecond)
	_, err := loader.Load(context.Background(), client, "octo", "app")
	require.NoError(t, err)
	require.Len(t, f.requests(), 1)
	require.Eventually(t, func() bool {
		_, err := loader.Load(context.Background(), client, "octo", "app")
		require.NoError(t, err)
		return len(f.requests()) == 2
	}, 5*time.Second, 20*time.Millisecond)
}
