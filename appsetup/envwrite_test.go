package appsetup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
)

func TestEnvRoundTrip(t *testing.T) {
	t.Parallel()
	creds := Credentials{
		AppID:         987654,
		Slug:          "autonomous-ci",
		ClientID:      "Iv1.abc",
		ClientSecret:  `s3cr3t "quoted" \ back # hash`,
		WebhookSecret: "tab\there\r\nand newline",
		PrivateKeyPEM: testPEM,
	}
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	original := "# keep me\nPORT=8080\nGITHUB_WEBHOOK_SECRET=old\nLOG_LEVEL='debug'\n"
	require.NoError(t, os.WriteFile(path, []byte(original), 0o644))

	for range 2 { // writing twice replaces, never duplicates
		doc, err := config.ReadEnvFile(path)
		require.NoError(t, err)
		doc.Set(creds.envPairs())
		require.NoError(t, config.WriteFileAtomic(path, doc.Bytes()))
	}

	got, err := config.LoadEnvFile(path)
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"PORT":                  "8080",
		"LOG_LEVEL":             "debug",
		"GITHUB_APP_ID":         "987654",
		"GITHUB_APP_SLUG":       "autonomous-ci",
		"GITHUB_CLIENT_ID":      "Iv1.abc",
		"GITHUB_CLIENT_SECRET":  creds.ClientSecret,
		"GITHUB_WEBHOOK_SECRET": creds.WebhookSecret,
		"GITHUB_PRIVATE_KEY":    testPEM,
	}, got)

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "# keep me\nPORT=8080\n"+
		`GITHUB_WEBHOOK_SECRET="tab\there\r\nand newline"`+"\n"+
		"LOG_LEVEL='debug'\n\n"+
		"# GitHub App credentials saved by the setup page of autonomous serve.\n"+
		"GITHUB_APP_ID=987654\n"+
		"GITHUB_APP_SLUG=autonomous-ci\n"+
		"GITHUB_CLIENT_ID=Iv1.abc\n"+
		`GITHUB_CLIENT_SECRET="s3cr3t \"quoted\" \\ back # hash"`+"\n"+
		`GITHUB_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtest0key0material0line0one\nZmFrZSBrZXkgbWF0ZXJpYWwgbGluZSB0d28=\n-----END RSA PRIVATE KEY-----\n"`+"\n",
		string(raw))

	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
}
