package config

import (
	"strings"

	"github.com/palantir/go-githubapp/githubapp"
)

// GitHubApp returns the GitHub section as go-githubapp's githubapp.Config: the REST (v3) and
// GraphQL (v4) endpoints derived from GITHUB_API_URL (GitHub Enterprise Server's /api/v3/ gives
// /api/graphql), the web URL, and the app's id, webhook secret and PEM private key (PrivateKey).
func (c Config) GitHubApp() (githubapp.Config, error) {
	var gc githubapp.Config
	key, err := c.PrivateKey()
	if err != nil {
		return gc, err
	}
	v3 := strings.TrimSuffix(c.GitHubAPIURL, "/") + "/"
	v4 := strings.TrimSuffix(v3, "/") + "/graphql"
	if strings.HasSuffix(v3, "/api/v3/") { // GitHub Enterprise Server
		v4 = strings.TrimSuffix(v3, "/api/v3/") + "/api/graphql"
	}
	gc.WebURL, gc.V3APIURL, gc.V4APIURL = c.GitHubURL, v3, v4
	gc.App.IntegrationID = c.GitHubAppID
	gc.App.WebhookSecret = c.GitHubWebhookSecret
	gc.App.PrivateKey = string(key)
	return gc, nil
}
