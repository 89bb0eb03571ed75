package appsetup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestNewHandlerRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"invalid YAML", Config{Manifest: []byte("name: [unclosed")}, "failed to parse manifest YAML"},
		{"empty manifest", Config{Manifest: []byte("")}, "empty document"},
		{"not a mapping", Config{Manifest: []byte("- a\n- b\n")}, "failed to parse manifest YAML"},
		{"missing name", Config{Manifest: []byte("url: https://example.com\n")}, "name must be a non-empty string"},
		{"events not a list", Config{Manifest: []byte("name: x\ndefault_events: push\n")}, "default_events must be a list"},
		{"events not strings", Config{Manifest: []byte("name: x\ndefault_events: [{a: b}]\n")}, "default_events must contain strings"},
		{"permissions not a mapping", Config{Manifest: []byte("name: x\ndefault_permissions: [checks]\n")}, "default_permissions must be a mapping"},
		{"permission not a string", Config{Manifest: []byte("name: x\ndefault_permissions: {checks: [write]}\n")}, `permission "checks" must be a string`},
		{"hook_attributes not a mapping", Config{Manifest: []byte("name: x\nhook_attributes: yes\n")}, "hook_attributes must be a mapping"},
		{"not JSON-encodable", Config{Manifest: []byte("name: x\nextra: {1: one}\n")}, "failed to encode manifest JSON"},
		{"relative GitHubURL", Config{Manifest: []byte("name: x\n"), GitHubURL: "github.com"}, "invalid GitHubURL"},
		{"APIURL with query", Config{Manifest: []byte("name: x\n"), APIURL: "https://api.github.com/?a=b"}, "invalid APIURL"},
		{"PublicURL not http", Config{Manifest: []byte("name: x\n"), PublicURL: "ftp://bot.example.com"}, "invalid PublicURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewHandler(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestManifestJSONMatchesAppYAML(t *testing.T) {
	t.Parallel()
	data := appYAML(t)
	var want struct {
		Name        string            `yaml:"name"`
		URL         string            `yaml:"url"`
		Public      bool              `yaml:"public"`
		Events      []string          `yaml:"default_events"`
		Permissions map[string]string `yaml:"default_permissions"`
	}
	require.NoError(t, yaml.Unmarshal(data, &want))
	require.NotEmpty(t, want.Events)
	require.NotEmpty(t, want.Permissions)

	m, err := parseManifest(data)
	require.NoError(t, err)
	raw, err := m.jsonFor("https://bot.example.com")
	require.NoError(t, err)

	var got struct {
		Name           string            `json:"name"`
		URL            string            `json:"url"`
		Public         bool              `json:"public"`
		Events         []string          `json:"default_events"`
		Permissions    map[string]string `json:"default_permissions"`
		RedirectURL    string            `json:"redirect_url"`
		HookAttributes struct {
			URL    string `json:"url"`
			Active bool   `json:"active"`
		} `json:"hook_attributes"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &got))
	require.Equal(t, want.Name, got.Name)
	require.Equal(t, want.URL, got.URL)
	require.Equal(t, want.Public, got.Public)
	require.Equal(t, want.Events, got.Events)
	require.Equal(t, want.Permissions, got.Permissions)
	require.Equal(t, "https://bot.example.com/api/github/hook", got.HookAttributes.URL)
	require.True(t, got.HookAttributes.Active)
	require.Equal(t, "https://bot.example.com/setup/callback", got.RedirectURL)

	// The parsed manifest is not modified by rendering it for a base URL.
	again, err := m.jsonFor("http://other:8080")
	require.NoError(t, err)
	require.Contains(t, again, `"http://other:8080/api/github/hook"`)
	require.NotContains(t, again, "bot.example.com")
}

func TestManifestWithoutHookAttributes(t *testing.T) {
	t.Parallel()
	m, err := parseManifest([]byte("name: Minimal\n"))
	require.NoError(t, err)
	raw, err := m.jsonFor("http://127.0.0.1:3000")
	require.NoError(t, err)
	require.JSONEq(t, `{
		"name": "Minimal",
		"hook_attributes": {"url": "http://127.0.0.1:3000/api/github/hook", "active": true},
		"redirect_url": "http://127.0.0.1:3000/setup/callback"
	}`, raw)
}

func TestRepositoryAppYAML(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "app.yml"))
	require.NoError(t, err)
	repo, err := parseManifest(data)
	require.NoError(t, err, "app.yml must be valid YAML: quote values that contain \": \"")
	fixture, err := parseManifest(appYAML(t))
	require.NoError(t, err)
	require.Equal(t, fixture.fields, repo.fields, "testdata/app.yml is out of date")
}
