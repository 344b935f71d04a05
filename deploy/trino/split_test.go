package trino

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrinoSplit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, sql string
		want      []Statement
	}{
		{"empty", "", nil},
		{"only space and semicolons", " ;\n ; ;", nil},
		{"comment only", "-- a; b\n/* c; d */;\n-- e", nil},
		{"one without semicolon", "SELECT 1", []Statement{{"SELECT 1", 1}}},
		{"two", "SELECT 1;\nSELECT 2;\n", []Statement{{"SELECT 1", 1}, {"SELECT 2", 2}}},
		{"semicolon in string", "SELECT 'a;b';SELECT 2", []Statement{{"SELECT 'a;b'", 1}, {"SELECT 2", 1}}},
		{"doubled quote in string", "SELECT 'it''s; fine', 'x'';'';y';", []Statement{{"SELECT 'it''s; fine', 'x'';'';y'", 1}}},
		{"string that is one quote", "SELECT '''';SELECT 2", []Statement{{"SELECT ''''", 1}, {"SELECT 2", 1}}},
		{"empty string", "SELECT '';SELECT ''", []Statement{{"SELECT ''", 1}, {"SELECT ''", 1}}},
		{"quoted identifier", `SELECT "a;b" FROM "x""; y";`, []Statement{{`SELECT "a;b" FROM "x""; y"`, 1}}},
		{"single quote in identifier", `SELECT "it's" FROM t; SELECT 2`, []Statement{{`SELECT "it's" FROM t`, 1}, {"SELECT 2", 1}}},
		{"double quote in string", `SELECT 'say "hi;"'; SELECT 2`, []Statement{{`SELECT 'say "hi;"'`, 1}, {"SELECT 2", 1}}},
		{"line comment with semicolon and quote", "SELECT 1 -- it's; not the end\n, 2;", []Statement{{"SELECT 1 -- it's; not the end\n, 2", 1}}},
		{"block comment with semicolon and quote", "SELECT /* ';\" */ 1;", []Statement{{"SELECT /* ';\" */ 1", 1}}},
		{"block comment is not nested", "SELECT /* /* */ 1; SELECT 2", []Statement{{"SELECT /* /* */ 1", 1}, {"SELECT 2", 1}}},
		{"comment markers in strings", "SELECT '--', '/*';\nSELECT 2", []Statement{{"SELECT '--', '/*'", 1}, {"SELECT 2", 2}}},
		{"comment right after a token", "SELECT 1--x;\n;SELECT a/*;*/b", []Statement{{"SELECT 1", 1}, {"SELECT a/*;*/b", 2}}},
		{"leading and trailing comments dropped", "-- head\n/* more\n */\n  CREATE SCHEMA s -- tail\n;\n-- end\n", []Statement{{"CREATE SCHEMA s", 4}}},
		{"multi-line string counts lines", "SELECT 'a\nb';\n\nSELECT 3", []Statement{{"SELECT 'a\nb'", 1}, {"SELECT 3", 4}}},
		{"crlf", "SELECT 1;\r\nSELECT 2;\r\n", []Statement{{"SELECT 1", 1}, {"SELECT 2", 2}}},
		{"unicode", "COMMENT ON TABLE t IS 'café; ü';SELECT 'ü'", []Statement{{"COMMENT ON TABLE t IS 'café; ü'", 1}, {"SELECT 'ü'", 1}}},
		{"minus and slash alone", "SELECT 4-1/2;SELECT -1", []Statement{{"SELECT 4-1/2", 1}, {"SELECT -1", 1}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Split(c.sql)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestTrinoSplitUnterminated(t *testing.T) {
	t.Parallel()
	for sql, want := range map[string]string{
		"SELECT 1;\nSELECT 'abc;":       "line 2: string '… is never closed",
		"SELECT 'it''s":                 "line 1: string '… is never closed",
		"SELECT 1;\n\nSELECT \"a":       "line 3: quoted identifier \"… is never closed",
		"SELECT 1 /* no end;\nSELECT 2": "line 1: block comment /* is never closed",
	} {
		_, err := Split(sql)
		require.Error(t, err, sql)
		assert.Equal(t, want, err.Error(), sql)
	}
	// A line comment may end the text.
	got, err := Split("SELECT 1 -- done")
	require.NoError(t, err)
	assert.Equal(t, []Statement{{"SELECT 1", 1}}, got)
}

func TestTrinoShorten(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "SELECT a FROM t", Shorten("SELECT a\n  FROM t", 100))
	assert.Equal(t, "SELECT…", Shorten("SELECT a FROM t", 6))
	assert.Equal(t, "ab…", Shorten("abüc", 3)) // not inside ü
}
