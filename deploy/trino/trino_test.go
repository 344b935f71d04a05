package trino_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/deploy/trino"
	"github.com/datasurface/datasurface/deploy/trino/trinotest"
)

const golden = "../../golden/customer-cdc"

// goldenStatements are the statements of golden/customer-cdc's SQL files,
// in the order they run: campaigns.sql, then credit_audit.sql.
var goldenStatements = []string{
	`CREATE SCHEMA IF NOT EXISTS "iceberg"."campaigns"`,
	`CREATE OR REPLACE VIEW "iceberg"."campaigns"."customers"`,
	`CREATE OR REPLACE VIEW "iceberg"."campaigns"."addresses"`,
	`CREATE OR REPLACE VIEW "iceberg"."campaigns"."products"`,
	`CREATE SCHEMA IF NOT EXISTS "iceberg"."credit_audit"`,
	`CREATE OR REPLACE VIEW "iceberg"."credit_audit"."customers"`,
	`CREATE OR REPLACE VIEW "iceberg"."credit_audit"."customers_history"`,
}

func client(t *testing.T, s *trinotest.Server, user string) *trino.Client {
	t.Helper()
	c, err := trino.NewClient(s.URL, user, "")
	require.NoError(t, err)
	c.Backoff = []time.Duration{time.Millisecond, time.Millisecond}
	return c
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func TestTrinoLoadGolden(t *testing.T) {
	t.Parallel()
	files, err := trino.Load(golden)
	require.NoError(t, err)
	require.Len(t, files, 2)
	assert.Equal(t, "platforms/lakehouse/trino/campaigns.sql", files[0].Path)
	assert.Equal(t, "platforms/lakehouse/trino/credit_audit.sql", files[1].Path)
	assert.Len(t, files[0].Statements, 4)
	assert.Len(t, files[1].Statements, 3)
	assert.Equal(t, trino.Statement{SQL: goldenStatements[0], Line: 5}, files[0].Statements[0])
	assert.Equal(t, 7, files[0].Statements[1].Line)
	assert.Equal(t, `CREATE OR REPLACE VIEW "iceberg"."campaigns"."customers"
COMMENT 'One row per customer.'
SECURITY DEFINER AS
SELECT "id", "first_name", "last_name", "dob", "email", "phone", "credit_limit", "created_at"
FROM "iceberg"."customer_db"."customers"`, files[0].Statements[1].SQL)
	for _, f := range files {
		for _, s := range f.Statements {
			assert.NotContains(t, s.SQL, "--", "header comments are dropped")
			assert.False(t, strings.HasSuffix(s.SQL, ";"))
		}
	}
	// A platform's folder and the trino folder itself load the same.
	for _, dir := range []string{golden + "/platforms/lakehouse", golden + "/platforms/lakehouse/trino"} {
		got, err := trino.Load(dir)
		require.NoError(t, err, dir)
		require.Len(t, got, 2)
		assert.Equal(t, files[1].Statements, got[1].Statements)
	}
}

func TestTrinoRunGolden(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	s.ExtraPolls = 2
	files, err := trino.Load(golden)
	require.NoError(t, err)
	var out bytes.Buffer
	n, err := trino.Run(context.Background(), client(t, s, ""), files, trino.Options{Out: &out})
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	got := s.Queries()
	require.Len(t, got, len(goldenStatements))
	for i, q := range got {
		assert.True(t, strings.HasPrefix(q.SQL, goldenStatements[i]), "statement %d: %s", i, q.SQL)
		assert.Equal(t, trino.DefaultUser, q.User)
		assert.Equal(t, "datasurface", q.Source)
	}
	assert.Equal(t, files[0].Statements[1].SQL, got[1].SQL)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 8)
	assert.Equal(t, `platforms/lakehouse/trino/campaigns.sql:5: CREATE SCHEMA: CREATE SCHEMA IF NOT EXISTS "iceberg"."campaigns"`, lines[0])
	assert.True(t, strings.HasPrefix(lines[1], `platforms/lakehouse/trino/campaigns.sql:7: CREATE VIEW: CREATE OR REPLACE VIEW "iceberg"."campaigns"."customers" COMMENT`), lines[1])
	assert.Equal(t, "7 statements from 2 files ran", lines[7])
}

func TestTrinoStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	dir := writeTree(t, map[string]string{
		"MANIFEST.json": "{}",
		"p/trino/a.sql": "CREATE SCHEMA IF NOT EXISTS \"iceberg\".\"a\";\n\n" +
			"-- the broken one\nCREATE OR REPLACE VIEW \"iceberg\".\"a\".\"v\" AS\nSELECT 1\n" + trinotest.DefaultFailMarker + " x;\n" +
			"CREATE SCHEMA IF NOT EXISTS \"iceberg\".\"never\";\n",
		"p/trino/b.sql": "CREATE SCHEMA IF NOT EXISTS \"iceberg\".\"b\";\n",
	})
	files, err := trino.Load(dir)
	require.NoError(t, err)
	var out bytes.Buffer
	n, err := trino.Run(context.Background(), client(t, s, ""), files, trino.Options{Out: &out})
	require.Error(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, s.Queries(), 2, "nothing after the failing statement is sent")
	var f *trino.Failure
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "p/trino/a.sql", f.File)
	assert.Equal(t, 2, f.Index)
	var qf *trino.QueryFailed
	require.ErrorAs(t, err, &qf)
	assert.Equal(t, "SYNTAX_ERROR", qf.Err.ErrorName)
	assert.Equal(t, "USER_ERROR", qf.Err.ErrorType)
	assert.Equal(t, 1, qf.Err.ErrorCode)
	assert.Equal(t, `p/trino/a.sql:6: statement 2 of 3 failed: CREATE OR REPLACE VIEW "iceberg"."a"."v" AS SELECT 1 FAIL_HERE x: `+
		`Trino: SYNTAX_ERROR (USER_ERROR): line 3:1: mismatched input 'FAIL_HERE'. Expecting: <query> [query 20260101_000000_00001_fake0]`, err.Error())
	assert.Equal(t, "p/trino/a.sql:1: CREATE SCHEMA: CREATE SCHEMA IF NOT EXISTS \"iceberg\".\"a\"\n", out.String())
}

func TestTrinoDryRunSendsNothing(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	files, err := trino.Load(golden)
	require.NoError(t, err)
	var out bytes.Buffer
	n, err := trino.Run(context.Background(), client(t, s, ""), files, trino.Options{DryRun: true, Out: &out})
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, s.Queries())
	o := out.String()
	assert.True(t, strings.HasPrefix(o, "-- platforms/lakehouse/trino/campaigns.sql:5 (statement 1 of 4)\nCREATE SCHEMA IF NOT EXISTS \"iceberg\".\"campaigns\";\n\n"), o)
	assert.Contains(t, o, "-- platforms/lakehouse/trino/credit_audit.sql:14 (statement 3 of 3)\nCREATE OR REPLACE VIEW \"iceberg\".\"credit_audit\".\"customers_history\"\n")
	assert.True(t, strings.HasSuffix(o, "-- dry run, nothing sent: 7 statements from 2 files\n"))
	// What a dry run prints is the same statements again.
	again, err := trino.Split(o)
	require.NoError(t, err)
	require.Len(t, again, 7)
	assert.Equal(t, files[1].Statements[2].SQL, again[6].SQL)
}

func TestTrinoUserAndSession(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	dir := writeTree(t, map[string]string{
		"trino/a.sql": "USE iceberg.sales;\nSET SESSION query_max_run_time = '10m';\nCREATE SCHEMA IF NOT EXISTS x;\n",
		"trino/b.sql": "CREATE SCHEMA IF NOT EXISTS y;\n",
	})
	files, err := trino.Load(filepath.Join(dir, "trino"))
	require.NoError(t, err)
	_, err = trino.Run(context.Background(), client(t, s, "alice"), files, trino.Options{})
	require.NoError(t, err)
	q := s.Queries()
	require.Len(t, q, 4)
	for _, x := range q {
		assert.Equal(t, "alice", x.User)
		assert.Empty(t, x.Auth, "no password, no basic auth")
	}
	assert.Equal(t, "", q[0].Catalog)
	assert.Equal(t, []string{"iceberg", "sales"}, []string{q[1].Catalog, q[1].Schema})
	assert.Equal(t, []string{"iceberg", "sales"}, []string{q[2].Catalog, q[2].Schema})
	assert.Equal(t, []string{"query_max_run_time=10m"}, q[2].Session)
	// A file starts a new session.
	assert.Equal(t, []string{"", ""}, []string{q[3].Catalog, q[3].Schema})
	assert.Empty(t, q[3].Session)
}

func TestTrinoRetriesUnavailable(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	s.Unavailable(2)
	res, err := client(t, s, "").Exec(context.Background(), nil, "CREATE SCHEMA s")
	require.NoError(t, err)
	assert.Equal(t, "FINISHED", res.State)
	assert.Equal(t, "CREATE SCHEMA", res.UpdateType)
	assert.Len(t, s.Queries(), 1)

	s.Unavailable(100)
	_, err = client(t, s, "").Exec(context.Background(), nil, "CREATE SCHEMA s")
	var he *trino.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 503, he.Status)
	assert.Equal(t, "POST /v1/statement: HTTP 503: Service Unavailable", err.Error())
}

func TestTrinoPassword(t *testing.T) {
	t.Parallel()
	_, err := trino.NewClient("http://trino:8080", "u", "secret")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a password is sent only over https")

	s := trinotest.NewTLS(t)
	s.Password = "secret"
	c, err := trino.NewClient(s.URL, "bob", "secret")
	require.NoError(t, err)
	c.HTTP = s.Client()
	_, err = c.Exec(context.Background(), nil, "CREATE SCHEMA s")
	require.NoError(t, err)
	require.Len(t, s.Queries(), 1)
	assert.Equal(t, "bob", s.Queries()[0].Auth)

	wrong, err := trino.NewClient(s.URL, "bob", "nope")
	require.NoError(t, err)
	wrong.HTTP = s.Client()
	_, err = wrong.Exec(context.Background(), nil, "CREATE SCHEMA s")
	var he *trino.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 401, he.Status)
}

func TestTrinoCancelOnContextEnd(t *testing.T) {
	t.Parallel()
	s := trinotest.New(t)
	s.ExtraPolls = 1 << 30 // never finishes
	c := client(t, s, "")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Exec(ctx, nil, "SELECT 1")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), err)
	require.Len(t, s.Queries(), 1)
	assert.True(t, s.Queries()[0].Cancelled)
}

func TestTrinoLoadRefuses(t *testing.T) {
	t.Parallel()
	_, err := trino.Load(writeTree(t, map[string]string{"README.md": "hi"}))
	require.ErrorIs(t, err, trino.ErrNotDeployTree)

	_, err = trino.Load(writeTree(t, map[string]string{
		"p/trino/a.sql": "SELECT 'x",
		"p/trino/b.sql": "SELECT 1; /* open",
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "p/trino/a.sql: line 1: string '… is never closed")
	assert.Contains(t, err.Error(), "p/trino/b.sql: line 1: block comment /* is never closed")

	files, err := trino.Load(writeTree(t, map[string]string{"MANIFEST.json": "{}", ".git/trino/x.sql": "junk '"}))
	require.NoError(t, err)
	assert.Empty(t, files)
}
