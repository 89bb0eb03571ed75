package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadEnvFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want map[string]string
	}{
		{"empty", "", map[string]string{}},
		{"comments and blank lines", "# comment\n\n   # indented\nA=1\n", map[string]string{"A": "1"}},
		{"unquoted", "A=plain value  \nB=\nC = spaced\nD=x#y\n", map[string]string{"A": "plain value", "B": "", "C": "spaced", "D": "x#y"}},
		{"inline comment", "A=value # note\nB=value\t# note\n", map[string]string{"A": "value", "B": "value"}},
		{"export prefix", "export A=1\n", map[string]string{"A": "1"}},
		{"double quoted escapes", `A="line1\nline2\ttab \"q\" back\\slash \x"` + "\n", map[string]string{"A": "line1\nline2\ttab \"q\" back\\slash \\x"}},
		{"double quoted with comment", `A="v # not a comment" # comment` + "\n", map[string]string{"A": "v # not a comment"}},
		{"single quoted literal", `A='raw \n $HOME'` + "\n", map[string]string{"A": `raw \n $HOME`}},
		{"multi-line double quoted", "A=\"-----BEGIN-----\nabc\n-----END-----\"\nB=2\n", map[string]string{"A": "-----BEGIN-----\nabc\n-----END-----", "B": "2"}},
		{"CRLF", "A=1\r\nB=\"x\"\r\n", map[string]string{"A": "1", "B": "x"}},
		{"no trailing newline", "A=1", map[string]string{"A": "1"}},
		{"last wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), ".env")
			require.NoError(t, os.WriteFile(path, []byte(tt.text), 0o600))
			got, err := LoadEnvFile(path)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLoadEnvFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want string
	}{
		{"no equals", "A=1\nJUSTAKEY\n", "line 2: expected KEY=value"},
		{"invalid key", "1A=x\n", "line 1: expected KEY=value"},
		{"unterminated double quote", "A=\"open\nB=1\n", "line 1: unterminated quoted value"},
		{"unterminated single quote", "A='open\n", "line 1: unterminated quoted value"},
		{"text after quote", "A=\"x\" y\n", "line 1: unexpected text after quoted value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), ".env")
			require.NoError(t, os.WriteFile(path, []byte(tt.text), 0o600))
			_, err := LoadEnvFile(path)
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err := LoadEnvFile(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriteFileAtomicFailsWithoutDirectory(t *testing.T) {
	t.Parallel()
	err := WriteFileAtomic(filepath.Join(t.TempDir(), "missing", ".env"), []byte("A=1\n"))
	require.ErrorContains(t, err, "failed to create temporary env file")
}
