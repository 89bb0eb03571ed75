package workflowaudit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const optionsWorkflow = `name: Options
on: pull_request
permissions:
  contents: read
jobs:
  build:
    runs-on: [self-hosted, linux]
    steps:
      - uses: actions/checkout@v4
      - uses: github/codeql-action/init@v3
      - uses: acme/tool@v1 # autonomous-ci: ignore[ self-hosted-runner , unpinned-action ]
`

func rulesAt(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%s:%02d:%02d", f.RuleID, f.Severity, f.Line, f.Column))
	}
	return out
}

func TestOptions(t *testing.T) {
	t.Parallel()
	src := []byte(optionsWorkflow)
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"defaults", Options{}, []string{"self-hosted-runner:low:07:15"}},
		{"public repo raises self-hosted", Options{PublicRepo: true}, []string{"self-hosted-runner:high:07:15"}},
		{"first party pinned on request", Options{PinFirstParty: true}, []string{
			"self-hosted-runner:low:07:15", "unpinned-action:medium:09:15", "unpinned-action:medium:10:15"}},
		{"disabled rule", Options{Disabled: []string{"self-hosted-runner"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs, err := Audit("w.yml", src, tc.opts)
			require.NoError(t, err)
			require.Equal(t, tc.want, rulesAt(fs))
		})
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	for _, tc := range []struct {
		name, src string
		wantErr   bool
	}{
		{"malformed yaml", "on: [push\njobs: {", true},
		{"empty", "", true},
		{"scalar document", "just a string", true},
		{"sequence", "- a\n- b\n", true},
		{"too large", "on: push\n#" + strings.Repeat("x", MaxFileSize) + "\n", true},
		{"tab indentation", "on: push\njobs:\n\tbuild: {}\n", true},
		{"unknown anchor", "on: &a push\njobs: *b\n", true},
		// Documents actionlint parses partly are audited as far as they go, without panicking.
		{"deeply nested", "on: push\njobs: " + deep + "\n", false},
		{"wrong types", "on: 5\njobs:\n  a:\n    steps: 3\n    runs-on: {x: 1}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Audit("w.yml", []byte(tc.src), Options{})
			if tc.wantErr {
				require.True(t, errors.Is(err, ErrInvalidWorkflow), "error %v", err)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestInvalidInputIsAnError(t *testing.T) {
	t.Parallel()
	_, err := Audit("w.yml", []byte("on: [push\njobs: {"), Options{})
	require.ErrorIs(t, err, ErrInvalidWorkflow)
	_, err = Uses("w.yml", []byte(""))
	require.ErrorIs(t, err, ErrInvalidWorkflow)
}

func TestUsesInventory(t *testing.T) {
	t.Parallel()
	src := `on: push
jobs:
  call:
    uses: acme/shared/.github/workflows/ci.yml@v2
  local:
    uses: ./.github/workflows/local.yml
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab
      - uses: "aws-actions/configure-aws-credentials/assume@v4"
      - uses: docker://ghcr.io/acme/img:1.2@sha256:aaaa
      - uses: ./tools/action
`
	refs, err := Uses("w.yml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, []ActionRef{
		{Raw: "acme/shared/.github/workflows/ci.yml@v2", Kind: KindWorkflow, Owner: "acme", Repo: "shared", Path: ".github/workflows/ci.yml", Ref: "v2", Line: 4, Col: 11},
		{Raw: "./.github/workflows/local.yml", Kind: KindLocal, Path: "./.github/workflows/local.yml", Line: 6, Col: 11},
		{Raw: "actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab", Kind: KindAction, Owner: "actions", Repo: "checkout", Ref: "8e5e7e5ab8b370d6c329ec480221332ada57f0ab", Line: 10, Col: 15},
		{Raw: "aws-actions/configure-aws-credentials/assume@v4", Kind: KindAction, Owner: "aws-actions", Repo: "configure-aws-credentials", Path: "assume", Ref: "v4", Line: 11, Col: 16},
		{Raw: "docker://ghcr.io/acme/img:1.2@sha256:aaaa", Kind: KindDocker, Owner: "ghcr.io/acme/img:1.2", Ref: "sha256:aaaa", Line: 12, Col: 15},
		{Raw: "./tools/action", Kind: KindLocal, Path: "./tools/action", Line: 13, Col: 15},
	}, refs)
	require.True(t, refs[2].Pinned())
	require.False(t, refs[3].Pinned())
	require.True(t, refs[4].Pinned())
}

func TestInjectionColumnsAndMessage(t *testing.T) {
	t.Parallel()
	src := "on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          echo ok\n          x=\"${{ github.event.issue.title }}\" y=\"${{github['event']['issue']['body']}}\"\n"
	fs, err := Audit("w.yml", []byte(src), Options{})
	require.NoError(t, err)
	require.Equal(t, []string{"template-injection:critical:09:14", "template-injection:critical:09:50"}, rulesAt(fs))
	require.Contains(t, fs[0].Message, "github.event.issue.title")
	require.Equal(t, Rules[RuleTemplateInjection].Link, fs[0].Link)
}
