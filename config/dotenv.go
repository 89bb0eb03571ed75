package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Keys the setup page (package appsetup) writes to the env file, in the order it appends them.
const (
	// EnvAppID is the env key of the numeric GitHub App ID.
	EnvAppID = "GITHUB_APP_ID"
	// EnvAppSlug is the env key of the app's URL slug (also its @mention name).
	EnvAppSlug = "GITHUB_APP_SLUG"
	// EnvClientID is the env key of the app's OAuth client ID.
	EnvClientID = "GITHUB_CLIENT_ID"
	// EnvClientSecret is the env key of the app's OAuth client secret.
	EnvClientSecret = "GITHUB_CLIENT_SECRET"
	// EnvWebhookSecret is the env key of the secret that signs webhook deliveries.
	EnvWebhookSecret = "GITHUB_WEBHOOK_SECRET"
	// EnvPrivateKey is the env key of the app's private key (PEM, double-quoted with \n escapes).
	EnvPrivateKey = "GITHUB_PRIVATE_KEY"
)

var (
	envKeyPattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)
	bareValuePattern = regexp.MustCompile(`^[A-Za-z0-9_./:@+,-]*$`)
)

// envEntry is one logical entry of an env file: an assignment (key set) or a comment/blank line.
// raw is the original text, possibly several lines for a multi-line quoted value.
type envEntry struct {
	key   string
	value string
	raw   string
}

// EnvFile is a parsed env (.env) file that can be edited without losing unrelated lines.
type EnvFile struct {
	entries []envEntry
}

// LoadEnvFile reads a dotenv-style file: KEY=value lines (optionally prefixed by "export "),
// KEY="double-quoted" values with \n, \r, \t, \" and \\ escapes (which may also span lines),
// KEY='single-quoted' literal values, # comments and blank lines. Unquoted values end at
// " #". When a key repeats, the last value wins.
func LoadEnvFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read env file: %w", err)
	}
	doc, err := parseEnv(string(data))
	if err != nil {
		return nil, fmt.Errorf("failed to parse env file %s: %w", path, err)
	}
	values := make(map[string]string, len(doc.entries))
	for _, e := range doc.entries {
		if e.key != "" {
			values[e.key] = e.value
		}
	}
	return values, nil
}

// ReadEnvFile reads and parses path for editing; a missing file is an empty document.
func ReadEnvFile(path string) (*EnvFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &EnvFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read env file: %w", err)
	}
	doc, err := parseEnv(string(data))
	if err != nil {
		return nil, fmt.Errorf("failed to parse env file %s: %w", path, err)
	}
	return doc, nil
}

// HasAppCredentials reports whether the document holds a GitHub App's credentials: an app id and
// a private key (inline or as a path).
func (d *EnvFile) HasAppCredentials() bool {
	values := map[string]string{}
	for _, e := range d.entries {
		if e.key != "" {
			values[e.key] = strings.TrimSpace(e.value)
		}
	}
	return values[EnvAppID] != "" && (values[EnvPrivateKey] != "" || values["GITHUB_PRIVATE_KEY_PATH"] != "")
}

// parseEnv splits the file into entries, decoding assignment values.
func parseEnv(data string) (*EnvFile, error) {
	data = strings.ReplaceAll(data, "\r\n", "\n")
	lines := strings.Split(data, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	doc := &EnvFile{}
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			doc.entries = append(doc.entries, envEntry{raw: lines[i]})
			continue
		}
		key, rest, ok := strings.Cut(strings.TrimPrefix(trimmed, "export "), "=")
		key = strings.TrimSpace(key)
		if !ok || !envKeyPattern.MatchString(key) {
			return nil, fmt.Errorf("line %d: expected KEY=value", i+1)
		}
		value, extra, err := parseEnvValue(strings.TrimSpace(rest), lines[i+1:])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		raw := strings.Join(lines[i:i+1+extra], "\n")
		doc.entries = append(doc.entries, envEntry{key: key, value: value, raw: raw})
		i += extra
	}
	return doc, nil
}

// parseEnvValue decodes the text after "=". A quoted value may continue on the following
// lines; extra is the number of those lines consumed.
func parseEnvValue(text string, more []string) (value string, extra int, err error) {
	if text == "" || (text[0] != '"' && text[0] != '\'') {
		if i := strings.Index(text, " #"); i >= 0 {
			text = text[:i]
		}
		if i := strings.Index(text, "\t#"); i >= 0 {
			text = text[:i]
		}
		return strings.TrimSpace(text), 0, nil
	}
	quote := text[0]
	text = text[1:]
	var b strings.Builder
	for i := 0; ; i++ {
		if i >= len(text) || (quote == '"' && text[i] == '\\' && i == len(text)-1) {
			if extra >= len(more) {
				return "", 0, errors.New("unterminated quoted value")
			}
			text += "\n" + more[extra]
			extra++
		}
		c := text[i]
		switch {
		case c == quote:
			tail := strings.TrimSpace(text[i+1:])
			if tail != "" && !strings.HasPrefix(tail, "#") {
				return "", 0, errors.New("unexpected text after quoted value")
			}
			return b.String(), extra, nil
		case c == '\\' && quote == '"':
			i++
			switch text[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\':
				b.WriteByte(text[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(text[i])
			}
		default:
			b.WriteByte(c)
		}
	}
}

// formatEnvLine renders KEY=value, double-quoting and escaping the value unless it is plain.
func formatEnvLine(key, value string) string {
	if bareValuePattern.MatchString(value) {
		return key + "=" + value
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return key + `="` + r.Replace(value) + `"`
}

// Set replaces the first assignment of each key, drops later duplicates and appends the keys
// that were missing, in the order given.
func (d *EnvFile) Set(pairs [][2]string) {
	values := make(map[string]string, len(pairs))
	for _, p := range pairs {
		values[p[0]] = p[1]
	}
	placed := make(map[string]bool, len(pairs))
	entries := d.entries[:0:0]
	for _, e := range d.entries {
		value, managed := values[e.key]
		switch {
		case !managed:
			entries = append(entries, e)
		case !placed[e.key]:
			placed[e.key] = true
			entries = append(entries, envEntry{key: e.key, value: value, raw: formatEnvLine(e.key, value)})
		}
	}
	header := false
	for _, p := range pairs {
		if placed[p[0]] {
			continue
		}
		if !header {
			if len(entries) > 0 && strings.TrimSpace(entries[len(entries)-1].raw) != "" {
				entries = append(entries, envEntry{})
			}
			entries = append(entries, envEntry{raw: "# GitHub App credentials saved by the setup page of autonomous serve."})
			header = true
		}
		placed[p[0]] = true
		entries = append(entries, envEntry{key: p[0], value: p[1], raw: formatEnvLine(p[0], p[1])})
	}
	d.entries = entries
}

// Bytes renders the document, one entry per line, ending with a newline.
func (d *EnvFile) Bytes() []byte {
	var b strings.Builder
	for _, e := range d.entries {
		b.WriteString(e.raw)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// WriteFileAtomic writes data to path with mode 0600 through a temporary file in the same
// directory that is renamed over path, so readers never see a partial file.
func WriteFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to create temporary env file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("failed to restrict temporary env file: %w", err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("failed to write temporary env file: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("failed to sync temporary env file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("failed to close temporary env file: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to replace env file: %w", err)
	}
	return nil
}
