package failureanalysis

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWorkerPostsNoSecret runs an analysis of a log full of secrets (random, in real shapes)
// and checks every request the bot sent to GitHub, the comment, the check run and the
// execution's output: none holds any of them.
func TestWorkerPostsNoSecret(t *testing.T) {
	t.Parallel()
	password := "u8jzPde0" + "IgxLd6GncfBAepfJ"
	token := "gh" + "p_" + "ox9yimTcfipZGnzPbDFDyFKm51zfFoWbSrHA"
	npm := "npm" + "_" + "k2j4h6g8f0d2s4a6q8w0e2r4t6y8u0i2o4p6"
	stsKey := "wJalrXUt" + "nFEMI/K7MDENG/bPxRfiCYzq9PlkQ0vb"
	urlPass := "s3/cr@t" + "Pw9Xq"
	keyBody := []string{
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
		"MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
		"NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ",
	}
	docker := base64.StdEncoding.EncodeToString([]byte("ci:" + password))
	secrets := append([]string{password, token, npm, stsKey, urlPass, docker}, keyBody...)

	log := actionsLog("docker login -u ci -p "+password+" ghcr.io && go build ./...",
		"# github.com/acme/widgets/internal/store",
		"internal/store/store.go:42:17: undefined: sqlx.Connectx token="+token,
		`{"auths":{"ghcr.io":{"auth":"`+docker+`"}}}`,
		`        "SecretAccessKey": "`+stsKey+`",`,
		keyBody[0], keyBody[1], keyBody[2],
		"-----END RSA PRIVATE KEY-----",
		"fetching https://ci:"+urlPass+"@git.example.com/acme/widgets.git",
		"NODE_AUTH_TOKEN="+npm+" url=x%3A"+token,
	)
	run := singleJobRun(log, 1)
	run.Attempts[0].Jobs[0].Name = "deploy " + token
	run.Attempts[0].Jobs[0].FailedStep = "Run docker login -u ci -p " + password + " ghcr.io && go build ./..."
	h := newHarness(t)
	h.gh.setConfig(repoConfig)
	h.gh.addRun(run)

	out := h.analyze(t, webhookArgs(runID, 1))

	comments := h.gh.Comments(7)
	require.Len(t, comments, 1)
	body := comments[0].Body
	require.Contains(t, body, "undefined: sqlx.Connectx")
	check := h.gh.BotCheckRuns()[out.CheckRunID]
	require.NotNil(t, check)
	title, summary, annotations := checkRunOutput(t, check)
	require.NotEmpty(t, annotations)
	output, err := json.Marshal(out)
	require.NoError(t, err)
	posted := []string{body, title, summary, string(output)}
	for _, a := range annotations {
		raw, err := json.Marshal(a)
		require.NoError(t, err)
		posted = append(posted, string(raw))
	}
	for _, r := range h.gh.Requests() {
		posted = append(posted, r.Body)
	}
	for _, p := range posted {
		// Markdown escapes ("ghp\_…", "@\u200b") must not hide a secret from the check.
		p = strings.NewReplacer(`\`, "", "\u200b", "").Replace(p)
		for _, s := range secrets {
			require.NotContains(t, p, s)
		}
	}
	require.GreaterOrEqual(t, strings.Count(body, "[REDACTED]"), 5, "the secret lines are in the excerpt, masked:\n%s", body)
}
