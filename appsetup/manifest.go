package appsetup

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"gopkg.in/yaml.v3"
)

// Paths of this server that the manifest points GitHub at.
const (
	hookPath     = "/api/github/hook"
	callbackPath = "/setup/callback"
)

// manifest is a parsed app.yml: the generic fields sent to GitHub and the parts the setup page shows.
type manifest struct {
	fields      map[string]any
	Name        string
	Description string
	URL         string
	Events      []string
	Permissions []permission
}

// permission is one entry of default_permissions, e.g. checks: write.
type permission struct {
	Name   string
	Access string
}

// parseManifest parses the app.yml contents and checks the fields the setup flow relies on.
func parseManifest(data []byte) (*manifest, error) {
	var fields map[string]any
	if err := yaml.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("failed to parse manifest YAML: %w", err)
	}
	if len(fields) == 0 {
		return nil, errors.New("failed to parse manifest YAML: empty document")
	}
	m := &manifest{fields: fields}
	var ok bool
	if m.Name, ok = fields["name"].(string); !ok || m.Name == "" {
		return nil, errors.New("invalid manifest: name must be a non-empty string")
	}
	m.Description, _ = fields["description"].(string)
	m.URL, _ = fields["url"].(string)
	if hook, present := fields["hook_attributes"]; present {
		if _, ok := hook.(map[string]any); !ok {
			return nil, errors.New("invalid manifest: hook_attributes must be a mapping")
		}
	}
	if raw, present := fields["default_events"]; present {
		list, ok := raw.([]any)
		if !ok {
			return nil, errors.New("invalid manifest: default_events must be a list")
		}
		for _, item := range list {
			event, ok := item.(string)
			if !ok {
				return nil, errors.New("invalid manifest: default_events must contain strings")
			}
			m.Events = append(m.Events, event)
		}
	}
	if raw, present := fields["default_permissions"]; present {
		perms, ok := raw.(map[string]any)
		if !ok {
			return nil, errors.New("invalid manifest: default_permissions must be a mapping")
		}
		for _, name := range slices.Sorted(maps.Keys(perms)) {
			access, ok := perms[name].(string)
			if !ok {
				return nil, fmt.Errorf("invalid manifest: permission %q must be a string", name)
			}
			m.Permissions = append(m.Permissions, permission{Name: name, Access: access})
		}
	}
	// Fail now, not on the first page view, if the document cannot be sent as JSON.
	if _, err := m.jsonFor("http://localhost"); err != nil {
		return nil, err
	}
	return m, nil
}

// jsonFor returns the manifest as JSON with the webhook and redirect URLs pointing at base
// (scheme://host[/prefix], no trailing slash). The homepage url is kept from app.yml.
func (m *manifest) jsonFor(base string) (string, error) {
	fields := maps.Clone(m.fields)
	hook := map[string]any{"active": true}
	if orig, ok := m.fields["hook_attributes"].(map[string]any); ok {
		hook = maps.Clone(orig)
	}
	hook["url"] = base + hookPath
	fields["hook_attributes"] = hook
	fields["redirect_url"] = base + callbackPath
	data, err := json.Marshal(fields)
	if err != nil {
		return "", fmt.Errorf("failed to encode manifest JSON: %w", err)
	}
	return string(data), nil
}
