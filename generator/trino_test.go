package generator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
	"github.com/datasurface/datasurface/templates"
)

// The generated Trino SQL is parsed with a real Trino grammar: dt-sql-parser's
// TrinoSQL, run by tools/sqlcheck/sqlcheck.mjs under Node.js. Its install step
// is
//
//	npm ci --prefix tools/sqlcheck
//
// which .ci/run does before go test; without it these tests skip locally and
// fail in CI (CI set).

const sqlcheckInstall = "npm ci --prefix tools/sqlcheck"

// sqlcheckScript returns the absolute path of sqlcheck.mjs, skipping the test
// (failing it when CI is set) when Node.js or the installed parser is missing.
func sqlcheckScript(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../tools/sqlcheck")
	require.NoError(t, err)
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := "the Trino SQL check is not installed: " + fmt.Sprintf(format, args...) +
			"; run `" + sqlcheckInstall + "` from the repository root (Node.js >= 20.6 needed)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node is not on PATH")
	}
	var want, got struct {
		Dependencies map[string]string `json:"dependencies"`
		Version      string            `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &want))
	b, err = os.ReadFile(filepath.Join(dir, "node_modules", "dt-sql-parser", "package.json"))
	if err != nil {
		unavailable("tools/sqlcheck/node_modules is missing")
	}
	require.NoError(t, json.Unmarshal(b, &got))
	if w := want.Dependencies["dt-sql-parser"]; got.Version != w {
		unavailable("tools/sqlcheck/node_modules has dt-sql-parser %s, package.json pins %s", got.Version, w)
	}
	return filepath.Join(dir, "sqlcheck.mjs")
}

// sqlcheckResult is one run of sqlcheck.mjs over several files.
type sqlcheckResult struct {
	Output string
	Failed bool           // the checker exited 1: some file has a syntax error
	OK     map[string]int // file -> statements, for each file that parsed
}

var okLine = regexp.MustCompile(`(?m)^(.+): OK \((\d+) statements?\)$`)

// runSQLCheck runs one node process over all files.
func runSQLCheck(t *testing.T, files ...string) sqlcheckResult {
	t.Helper()
	script := sqlcheckScript(t)
	require.NotEmpty(t, files)
	cmd := exec.Command("node", append([]string{script}, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	res := sqlcheckResult{Output: out.String(), OK: map[string]int{}}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		res.Failed = true
	default:
		t.Fatalf("node %s: %v\n%s", script, err, res.Output)
	}
	for _, m := range okLine.FindAllStringSubmatch(res.Output, -1) {
		n, _ := strconv.Atoi(m[2])
		res.OK[m[1]] = n
	}
	return res
}

// writeSQL writes a tree's .sql files under dir and returns their paths by
// tree path.
func writeSQL(t *testing.T, dir string, tree *generator.Tree) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, p := range tree.Paths() {
		if !strings.HasSuffix(p, ".sql") {
			continue
		}
		f := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(f), 0o755))
		require.NoError(t, os.WriteFile(f, tree.Files[p], 0o644))
		files[p] = f
	}
	return files
}

// statementLine is how the Trino template starts each statement.
var statementLine = regexp.MustCompile(`(?m)^(CREATE SCHEMA IF NOT EXISTS|CREATE OR REPLACE VIEW) `)

// TestTrinoSQLParses parses every generated Trino file of every example with
// the Trino grammar, in one node process.
func TestTrinoSQLParses(t *testing.T) {
	sqlcheckScript(t) // skip (or fail in CI) before rendering anything
	dir := t.TempDir()
	files := map[string]string{} // temp file -> its content
	for _, ex := range examples(t) {
		tree := generateExample(t, ex)
		for p, f := range writeSQL(t, filepath.Join(dir, ex), tree) {
			files[f] = string(tree.Files[p])
		}
	}
	require.NotEmpty(t, files, "the examples generate no Trino SQL")
	var list []string
	for f := range files {
		list = append(list, f)
	}
	sort.Strings(list)
	res := runSQLCheck(t, list...)
	require.False(t, res.Failed, "generated Trino SQL does not parse:\n%s", res.Output)
	for _, f := range list {
		n, ok := res.OK[f]
		if assert.True(t, ok, "no OK line for %s:\n%s", f, res.Output) {
			// The grammar accepts statements without ";" between them, so a
			// count that differs means a statement was split or swallowed.
			assert.Equal(t, len(statementLine.FindAllString(files[f], -1)), n, "statements the grammar found in %s:\n%s", f, files[f])
		}
	}
	t.Logf("%d generated Trino SQL files parse", len(list))
}

// TestSQLCheckCatchesErrors makes sure the checker is not a no-op: broken
// SQL fails with its position, valid SQL passes.
func TestSQLCheckCatchesErrors(t *testing.T) {
	sqlcheckScript(t) // skip (or fail in CI) before rendering anything
	dir := t.TempDir()
	good := filepath.Join(dir, "good.sql")
	bad := filepath.Join(dir, "bad.sql")
	require.NoError(t, os.WriteFile(good, []byte("CREATE OR REPLACE VIEW x AS SELECT 1;\n"), 0o644))
	require.NoError(t, os.WriteFile(bad, []byte("CREATE OR REPLACE VIEW x AS SELEC 1;\n"), 0o644))

	res := runSQLCheck(t, good)
	assert.False(t, res.Failed, res.Output)
	assert.Equal(t, 1, res.OK[good], res.Output)

	res = runSQLCheck(t, good, bad)
	assert.True(t, res.Failed, "a syntax error was not reported:\n%s", res.Output)
	assert.Contains(t, res.Output, bad+":1:29: ", "the error names file, line and column")
	assert.Contains(t, res.Output, "SELEC")
	assert.NotContains(t, res.OK, bad)
	assert.Contains(t, res.OK, good)

	// A real generated file broken in its Trino-specific part: SECURITY
	// DEFINER must come after COMMENT and before AS.
	tree := generateExample(t, examples(t)[0])
	var broken []string
	for p, f := range writeSQL(t, filepath.Join(dir, "generated"), tree) {
		sql := string(tree.Files[p])
		require.Contains(t, sql, "\nSECURITY DEFINER AS\n")
		sql = strings.Replace(sql, "\nSECURITY DEFINER AS\n", "\nSECURITY DEFINER\n", 1)
		require.NoError(t, os.WriteFile(f, []byte(sql), 0o644))
		broken = append(broken, f)
	}
	require.NotEmpty(t, broken)
	res = runSQLCheck(t, broken...)
	assert.True(t, res.Failed, "a view without AS was not reported:\n%s", res.Output)
	assert.Empty(t, res.OK, "every broken file must fail:\n%s", res.Output)
}

// hostile is documentation that tries every way out of an SQL comment or
// string literal.
const hostile = "It's \"quoted\" -- not a comment; /* nor this */ /* or this\n" +
	"'; DROP TABLE x; --\n" +
	"CREATE OR REPLACE VIEW \"iceberg\".\"x\".\"y\" AS SELECT 1;\r\n" +
	"*/ ''' \\' \\\\ $$ ; ;; -- end\n" +
	"\ttab, unicode é ✓, NUL \x00 and a trailing newline\n"

// setDocumentation sets every documentation field that can reach a
// generated Trino file (workspaces' and datasets') to doc.
func setDocumentation(m *model.Model, doc string) (n int) {
	for _, z := range m.Zones {
		for _, team := range z.Defs {
			for _, w := range team.Workspaces {
				w.Documentation = doc
				n++
			}
			for _, ds := range team.Datastores {
				for i := range ds.Datasets {
					ds.Datasets[i].Documentation = doc
					n++
				}
			}
		}
	}
	return n
}

func generateWithDocumentation(t *testing.T, name, doc string) *generator.Tree {
	t.Helper()
	m, errs, err := model.LoadDir(context.Background(), filepath.Join("../examples", name))
	require.NoError(t, err)
	require.Empty(t, errs)
	require.NotZero(t, setDocumentation(m, doc))
	if n, _, _ := lint.Count(lint.Lint(m)); n > 0 {
		t.Fatalf("example %s with hostile documentation has lint errors", name)
	}
	m.Source = "examples/" + name
	tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "golden"})
	require.NoError(t, err)
	return tree
}

// TestTrinoSQLHostileDocumentation renders every example with documentation
// full of quotes, comment markers, newlines and semicolons: the SQL must
// still parse, with exactly the statements of the plain rendering.
func TestTrinoSQLHostileDocumentation(t *testing.T) {
	sqlcheckScript(t) // skip (or fail in CI) before rendering anything
	dir := t.TempDir()
	var list []string
	expect := map[string]int{} // temp file -> statements
	comments, literals := 0, 0
	for _, ex := range examples(t) {
		plain := generateExample(t, ex)
		tree := generateWithDocumentation(t, ex, hostile)
		for p, f := range writeSQL(t, filepath.Join(dir, ex), tree) {
			sql := string(tree.Files[p])
			if strings.Contains(sql, templates.SQLComment(hostile)) {
				comments++
			}
			if strings.Contains(sql, "COMMENT "+templates.SQLString(hostile)+"\n") {
				literals++
			}
			expect[f] = len(statementLine.FindAllString(string(plain.Files[p]), -1))
			list = append(list, f)
		}
	}
	// The test means something only if the text reached both escapers.
	require.NotZero(t, comments, "no generated file has the documentation as an SQL comment")
	require.NotZero(t, literals, "no generated file has the documentation as a view COMMENT")
	sort.Strings(list)
	res := runSQLCheck(t, list...)
	require.False(t, res.Failed, "Trino SQL with hostile documentation does not parse:\n%s", res.Output)
	for _, f := range list {
		assert.Equal(t, expect[f], res.OK[f], "statements the grammar found in %s (the documentation must not add or merge any):\n%s", f, res.Output)
	}
}
