package testoptimization

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp/ghapptest"
)

type (
	httpResponseWriter = http.ResponseWriter
	httpRequest        = http.Request
	githubArtifact     = github.Artifact
)

func newArtifact(name string, created time.Time) *github.Artifact {
	return &github.Artifact{Name: github.String(name), CreatedAt: &github.Timestamp{Time: created}}
}

// writeContent answers a contents API request with a file.
func writeContent(w http.ResponseWriter, content string) {
	ghapptest.JSON(w, 200, map[string]any{"type": "file", "encoding": "base64", "content": base64.StdEncoding.EncodeToString([]byte(content)),
		"name": "autonomous.yml", "path": ".github/autonomous.yml", "size": len(content)})
}
