package inventory_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

func TestParseRequirements(t *testing.T) {
	t.Parallel()
	src := "# top\n" +
		"Django==4.2.7\n" +
		"  requests[socks, security]  ==  2.31.0 ; python_version >= \"3.8\"  # note\n" +
		"numpy>=1.24,<2\r\n" +
		"certifi==2023.7.22 \\\n" +
		"    --hash=sha256:aaa \\\n" +
		"    --hash sha256:bbb\n" +
		"pkg#notacomment==1.0\n" +
		"-r base.txt\n" +
		"--requirement=other.txt\n" +
		"-c constraints.txt\n" +
		"-e ./local\n" +
		"-i https://pypi.example/simple\n" +
		"name @ https://example.com/name-1.0.zip\n" +
		"./dist/wheel-1.0-py3-none-any.whl\n" +
		"plain\n" +
		"exact===1.0+local\n"
	deps, incs := inventory.ParseRequirements("requirements.txt", []byte(src))
	require.Equal(t, []brief{
		{"Django", "4.2.7", "==4.2.7", 2, 9, true, false},
		{"requests", "2.31.0", "==  2.31.0", 3, 34, true, false},
		{"numpy", "", ">=1.24,<2", 4, 6, true, false},
		{"certifi", "2023.7.22", "==2023.7.22", 5, 10, true, false},
		{"plain", "", "", 16, 0, true, false},
		{"exact", "1.0+local", "===1.0+local", 17, 9, true, false},
	}, briefs(deps))
	require.Equal(t, []string{"socks", "security"}, deps[1].Extras)
	require.Equal(t, `python_version >= "3.8"`, deps[1].Marker)
	require.Equal(t, []string{"sha256:aaa", "sha256:bbb"}, deps[3].Hashes)
	require.Equal(t, []inventory.Include{
		{Manifest: "requirements.txt", Line: 9, Target: "base.txt"},
		{Manifest: "requirements.txt", Line: 10, Target: "other.txt"},
		{Manifest: "requirements.txt", Line: 11, Target: "constraints.txt", Constraint: true},
	}, incs)
}

func TestParsePyProject(t *testing.T) {
	t.Parallel()
	src := "[project]\n" +
		"dependencies = [\"attrs==23.1.0\", 'six >= 1.16',\n  \"esc\\u0061ped==1.0\"]\n" +
		"[project.optional-dependencies]\n" +
		"test = [\"pytest==7.4.3\"]\r\n" +
		"extra = [\"ujson\"]\n" +
		"[dependency-groups]\n" +
		"lint = [\"ruff==0.1.6\"]\n" +
		"[tool.poetry.dependencies]\n" +
		"python = \"^3.10\"\n" +
		"flask = \"2.3.3\"   # exact in Poetry\n" +
		"httpx = {version = \"^0.25\", optional = true}\n" +
		"[tool.poetry.dev-dependencies]\n" +
		"mypy = \"==1.7.0\"\n" +
		"[tool.poetry.group.docs.dependencies]\n" +
		"sphinx = { git = \"https://github.com/sphinx-doc/sphinx.git\" }\n"
	got, err := inventory.ParsePyProject("pyproject.toml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, []brief{
		{"attrs", "23.1.0", "==23.1.0", 2, 25, true, false},
		{"six", "", ">= 1.16", 2, 39, true, false},
		{"escaped", "1.0", "==1.0", 3, 0, true, false},
		{"pytest", "7.4.3", "==7.4.3", 5, 18, true, true},
		{"ujson", "", "", 6, 0, true, false},
		{"ruff", "0.1.6", "==0.1.6", 8, 16, true, true},
		{"flask", "2.3.3", "2.3.3", 11, 10, true, false},
		{"httpx", "", "^0.25", 12, 21, true, false},
		{"mypy", "1.7.0", "==1.7.0", 14, 11, true, true},
		{"sphinx", "", "", 0, 0, true, true},
	}, briefs(got))
	require.True(t, got[7].Optional)
	require.True(t, got[3].Optional)
	require.Equal(t, "test", got[3].Group)

	_, err = inventory.ParsePyProject("pyproject.toml", []byte("a = 1\nb = = 2\n"))
	var pe *inventory.ParseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, 2, pe.Line)
}

func TestParseRequirementsSpecAcrossContinuation(t *testing.T) {
	t.Parallel()
	// Found by FuzzParsers: a specifier split by a continuation has no
	// single position to edit.
	deps, _ := inventory.ParseRequirements("requirements.txt", []byte("a>=1,\\\n<2\nb==1.0 \\\n  ; python_version<'4'\n"))
	require.Equal(t, []brief{
		{"a", "", ">=1,<2", 1, 0, true, false},
		{"b", "1.0", "==1.0", 3, 4, true, false},
	}, briefs(deps))
}
