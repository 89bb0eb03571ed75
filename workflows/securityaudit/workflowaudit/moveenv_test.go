package workflowaudit

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// notMechanical lists the corpus findings MoveExpressionToEnv must refuse (file:message).
var notMechanical = map[string]bool{
	// a YAML double-quoted script: rewriting it is not minimal
	"inj-folded-quoted.yml:${{ github.event.issue.title }} expands attacker-controlled input into the run: script; pass it through env: and use the variable instead": true,
}

// TestMoveExpressionToEnvCorpusRoundTrip fixes every template-injection finding of the
// corpus one at a time, re-auditing after each: each edit changes only the expression's
// line and adds the env lines, and the finding is gone without any new finding appearing.
func TestMoveExpressionToEnvCorpusRoundTrip(t *testing.T) {
	t.Parallel()
	moved := 0
	for name, src := range corpus(t) {
		others := otherRules(t, src)
		refused := map[string]bool{}
		for step := 0; step < 20; step++ {
			var f *Finding
			for _, x := range audit(t, src, RuleTemplateInjection) {
				if !refused[name+":"+x.Message] {
					f = &x
					break
				}
			}
			if f == nil {
				break
			}
			out, err := MoveExpressionToEnv(src, *f)
			if notMechanical[name+":"+f.Message] {
				require.ErrorIs(t, err, ErrNotMechanical, name)
				refused[name+":"+f.Message] = true
				continue
			}
			require.NoError(t, err, "%s:%d", name, f.Line)
			moved++
			del, add := lineDiff(string(src), string(out))
			old := newSource(src).line(f.Line)
			require.Equal(t, []string{old + "\n"}, del, "%s:%d only the expression's line may change", name, f.Line)
			require.NotEmpty(t, add)
			inner := f.Message[len("${{ "):strings.Index(f.Message, " }}")]
			envLines := 0
			for _, l := range add {
				if strings.Contains(l, "${{ "+inner+" }}") || strings.TrimSpace(l) == "env:" {
					envLines++
				}
			}
			require.Equal(t, len(add)-1, envLines, "%s:%d added %q", name, f.Line, add)
			require.Len(t, audit(t, out, RuleTemplateInjection), len(audit(t, src, RuleTemplateInjection))-1, "%s:%d finding not gone", name, f.Line)
			src = out
		}
		require.Equal(t, others, otherRules(t, src), "%s: the fix changed other findings", name)
	}
	require.GreaterOrEqual(t, moved, 20)
}

func otherRules(t *testing.T, src []byte) []string {
	fs, err := Audit("w.yml", src, Options{})
	require.NoError(t, err)
	var out []string
	for _, f := range fs {
		if f.RuleID != RuleTemplateInjection {
			out = append(out, f.RuleID)
		}
	}
	sort.Strings(out)
	return out
}

func TestMoveExpressionToEnvEdits(t *testing.T) {
	t.Parallel()
	head := "on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
	for _, tc := range []struct{ name, in, want string }{
		{"unquoted, new env after a block script",
			"      - run: |\n          echo ${{ github.event.issue.title }}\n\n      - run: make\n",
			"      - run: |\n          echo \"${ISSUE_TITLE}\"\n        env:\n          ISSUE_TITLE: ${{ github.event.issue.title }}\n\n      - run: make\n"},
		{"double quotes, existing env extended",
			"      - name: x\n        env:\n          A: b\n        run: echo \"t=${{ github.event.issue.title }}\"\n",
			"      - name: x\n        env:\n          A: b\n          ISSUE_TITLE: ${{ github.event.issue.title }}\n        run: echo \"t=${ISSUE_TITLE}\"\n"},
		{"single quotes are closed around the variable",
			"      - run: echo 'x ${{ github.event.issue.body }} y'\n        shell: bash\n",
			"      - run: echo 'x '\"${ISSUE_BODY}\"' y'\n        env:\n          ISSUE_BODY: ${{ github.event.issue.body }}\n        shell: bash\n"},
		{"a whole single-quoted word becomes double-quoted",
			"      - run: cmd='${{ github.event.comment.body }}'\n",
			"      - run: cmd=\"${COMMENT_BODY}\"\n        env:\n          COMMENT_BODY: ${{ github.event.comment.body }}\n"},
		{"github-script inside a longer string is concatenated",
			"      - uses: actions/github-script@v7\n        with:\n          script: |\n            core.info('Checked `${{ github.head_ref }}` ok');\n",
			"      - uses: actions/github-script@v7\n        with:\n          script: |\n            core.info('Checked `' + process.env.HEAD_REF + '` ok');\n        env:\n          HEAD_REF: ${{ github.head_ref }}\n"},
		{"github-script template literal",
			"      - uses: actions/github-script@v7\n        with:\n          script: core.info(`Hi ${{ github.event.issue.title }}!`)\n",
			"      - uses: actions/github-script@v7\n        with:\n          script: core.info(`Hi ${process.env.ISSUE_TITLE}!`)\n        env:\n          ISSUE_TITLE: ${{ github.event.issue.title }}\n"},
		{"pwsh by the step's shell",
			"      - shell: pwsh\n        run: Write-Output \"t=${{ github.event.issue.title }}\"\n",
			"      - shell: pwsh\n        run: Write-Output \"t=$env:ISSUE_TITLE\"\n        env:\n          ISSUE_TITLE: ${{ github.event.issue.title }}\n"},
		{"variable already there is reused",
			"      - env:\n          ISSUE_TITLE: ${{ github.event.issue.title }}\n        run: echo \"${{ github.event.issue.title }}\"\n",
			"      - env:\n          ISSUE_TITLE: ${{ github.event.issue.title }}\n        run: echo \"${ISSUE_TITLE}\"\n"},
		{"github-script string literal",
			"      - uses: actions/github-script@v7\n        with:\n          script: |\n            const t = \"${{ github.event.issue.title }}\";\n",
			"      - uses: actions/github-script@v7\n        with:\n          script: |\n            const t = process.env.ISSUE_TITLE;\n        env:\n          ISSUE_TITLE: ${{ github.event.issue.title }}\n"},
	} {
		src := []byte(head + tc.in)
		fs := audit(t, src, RuleTemplateInjection)
		require.Len(t, fs, 1, tc.name)
		out, err := MoveExpressionToEnv(src, fs[0])
		require.NoError(t, err, tc.name)
		require.Equal(t, head+tc.want, string(out), tc.name)
		require.Empty(t, audit(t, out, RuleTemplateInjection), tc.name)
	}
	for name, in := range map[string]string{
		"plain scalar starting with it": "      - run: ${{ github.event.issue.title }} --flag\n",
		"javascript outside a string":   "      - uses: actions/github-script@v7\n        with:\n          script: console.log(${{ github.event.issue.title }})\n",
		"python shell":                  "      - shell: python\n        run: print(\"${{ github.event.issue.title }}\")\n",
		"flow env":                      "      - env: {A: b}\n        run: echo \"${{ github.event.issue.title }}\"\n",
	} {
		src := []byte(head + in)
		fs := audit(t, src, RuleTemplateInjection)
		require.Len(t, fs, 1, name)
		_, err := MoveExpressionToEnv(src, fs[0])
		require.ErrorIs(t, err, ErrNotMechanical, name)
	}
	matrix := []byte("on: issues\npermissions: {}\njobs:\n  a:\n    strategy: {matrix: {os: [ubuntu-latest, windows-latest]}}\n    runs-on: ${{ matrix.os }}\n    steps:\n      - run: echo \"${{ github.event.issue.title }}\"\n")
	fs := audit(t, matrix, RuleTemplateInjection)
	require.Len(t, fs, 1)
	_, err := MoveExpressionToEnv(matrix, fs[0])
	require.ErrorIs(t, err, ErrNotMechanical, "the runner's OS, so its default shell, is unknown")
	_, err = MoveExpressionToEnv([]byte(head), Finding{RuleID: RuleUnpinnedAction})
	require.ErrorIs(t, err, ErrNotMechanical)
	_, err = MoveExpressionToEnv([]byte(head+"      - run: make\n"), Finding{RuleID: RuleTemplateInjection, Line: 7, Column: 9})
	require.ErrorIs(t, err, ErrNotMechanical)
}
