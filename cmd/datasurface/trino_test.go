package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/deploy/trino/trinotest"
)

func trinoCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runDeployCLI(t, newTrinoCmd, append([]string{"trino", "apply"}, args...)...)
}

func TestTrinoApplyCommand(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	code, out, errOut := trinoCLI(t, goldenTree, "--url", s.URL, "--user", "deployer")
	require.Equal(t, exitOK, code, errOut)
	q := s.Queries()
	require.Len(t, q, 7)
	assert.Equal(t, `CREATE SCHEMA IF NOT EXISTS "iceberg"."campaigns"`, q[0].SQL)
	assert.Equal(t, `CREATE SCHEMA IF NOT EXISTS "iceberg"."credit_audit"`, q[4].SQL)
	for _, x := range q {
		assert.Equal(t, "deployer", x.User)
	}
	assert.True(t, strings.HasSuffix(out, "\n7 statements from 2 files ran\n"), out)
	assert.Equal(t, 8, strings.Count(out, "\n"))
}

func TestTrinoApplyCommandFailure(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	dir := writeFiles(t, map[string]string{
		"MANIFEST.json":             "{}",
		"platforms/a/trino/w1.sql":  "-- first; file\nCREATE SCHEMA IF NOT EXISTS \"iceberg\".\"w1\";\nCREATE VIEW v AS SELECT ';' AS x FROM " + trinotest.DefaultFailMarker + ";\nCREATE SCHEMA z;",
		"platforms/b/trino/w0.sql":  "CREATE SCHEMA IF NOT EXISTS \"iceberg\".\"w0\";",
		"platforms/b/trino/x.sql":   "CREATE SCHEMA IF NOT EXISTS \"iceberg\".\"x\";",
		"platforms/b/trino/not.txt": "ignored",
	})
	code, out, errOut := trinoCLI(t, dir, "--url", s.URL)
	assert.Equal(t, exitProblems, code)
	// Files run sorted by path: platforms/a/... first, and the run stops there.
	assert.Equal(t, []string{`CREATE SCHEMA IF NOT EXISTS "iceberg"."w1"`, `CREATE VIEW v AS SELECT ';' AS x FROM FAIL_HERE`}, s.Statements())
	assert.Equal(t, "platforms/a/trino/w1.sql:2: CREATE SCHEMA: CREATE SCHEMA IF NOT EXISTS \"iceberg\".\"w1\"\n", out)
	assert.Equal(t, "datasurface: trino apply: platforms/a/trino/w1.sql:3: statement 2 of 3 failed: CREATE VIEW v AS SELECT ';' AS x FROM FAIL_HERE: "+
		"Trino: SYNTAX_ERROR (USER_ERROR): line 1:39: mismatched input 'FAIL_HERE'. Expecting: <query> [query 20260101_000000_00001_fake0]\n", errOut)
}

func TestTrinoApplyCommandDryRun(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	for _, args := range [][]string{{goldenTree, "--dry-run"}, {goldenTree, "--url", s.URL, "--dry-run"}} {
		code, out, errOut := trinoCLI(t, args...)
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, 7, strings.Count(out, ";\n"))
		assert.Contains(t, out, "-- dry run, nothing sent: 7 statements from 2 files\n")
	}
	assert.Empty(t, s.Queries())
}

func TestTrinoApplyCommandExitCodes(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	unterminated := writeFiles(t, map[string]string{"trino/a.sql": "SELECT 1;", "trino/b.sql": "SELECT 'oops"})
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no url", []string{goldenTree}, exitUnread, "--url is required"},
		{"not a deploy tree", []string{"../../examples", "--url", s.URL}, exitUnread, "is this a deploy tree?"},
		{"unterminated string", []string{unterminated, "--url", s.URL}, exitUnread, "trino/b.sql: line 1: string '… is never closed"},
		{"unreachable", []string{goldenTree, "--url", "http://127.0.0.1:1"}, exitProblems, "platforms/lakehouse/trino/campaigns.sql:5: statement 1 of 4 failed: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := trinoCLI(t, c.args...)
			assert.Equal(t, c.code, code, errOut)
			assert.Contains(t, errOut, c.want)
		})
	}
	assert.Empty(t, s.Queries(), "a file that cannot be split stops everything before anything runs")
}

// Not parallel: it sets the environment.
func TestTrinoApplyCommandEnvironment(t *testing.T) {
	s := trinotest.New(t)
	t.Setenv("DATASURFACE_TRINO_USER", "from-env")
	code, _, errOut := trinoCLI(t, goldenTree+"/platforms/lakehouse/trino", "--url", s.URL)
	require.Equal(t, exitOK, code, errOut)
	for _, q := range s.Queries() {
		assert.Equal(t, "from-env", q.User)
	}
	n := len(s.Queries())

	// --user wins over the environment.
	code, _, _ = trinoCLI(t, goldenTree, "--url", s.URL, "--user", "flag")
	require.Equal(t, exitOK, code)
	assert.Equal(t, "flag", s.Queries()[n].User)

	// No password over http.
	t.Setenv("DATASURFACE_TRINO_PASSWORD", "secret")
	code, _, errOut = trinoCLI(t, goldenTree, "--url", s.URL)
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "a password is sent only over https")
	assert.NotContains(t, errOut, "secret")
}
