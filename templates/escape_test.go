package templates_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/templates"
)

// nasty are strings every escaper must survive.
var nasty = []string{
	"", "plain", " padded ", `"`, `'`, "`", `"""`, `'''`, `\`, `\\`, `\"`, "\\\n", `\x41`, `\u0041`, `\N{BULLET}`,
	"a\nb", "a\r\nb", "a\rb", "\r", "\n", "\t\v\f", "\x00", "a\x00b", "\x00'\x00", "\x01\x1b\x7f",
	"\xff", "a\xc3", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3\x00\xa9", "\ufffd",
	"é", "€", "中文", "😀", "e\u0301", "\u0085", "\u2028\u2029", "\ufeff", "\u202e", "\U0010ffff",
	"{{ x }}", "{% if x %}", "{# c #}", "# x", "-- x", "/* x */", "*/", "'; DROP TABLE t; --",
	"\"); import os #", "\"\"\")\nimport os\n#", "${file:/x:y}", "%s %d", "<script>&amp;",
}

// valid is what the escapers make of invalid UTF-8: U+FFFD per byte.
func valid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// sqlText is what the SQL and comment escapers keep of s.
func sqlText(s string) string { return strings.ReplaceAll(valid(s), "\x00", "") }

// lines splits text as the comment escapers do: \r\n, \r and \n end a line.
func lines(s string) []string {
	return strings.Split(strings.ReplaceAll(strings.ReplaceAll(sqlText(s), "\r\n", "\n"), "\r", "\n"), "\n")
}

func TestPython(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"plain text", `"plain text"`},
		{`"`, `"\""`},
		{`\`, `"\\"`},
		{`'`, `"'"`},
		{`"""`, `"\"\"\""`},
		{"'''", `"'''"`},
		{"a\nb\rc\td", `"a\nb\rc\td"`},
		{"\x00", `"\x00"`},
		{"\x01\x1b\x7f", `"\x01\x1b\x7f"`},
		{"é", `"\xe9"`},
		{"€", `"\u20ac"`},
		{"\u2028", `"\u2028"`},
		{"\ufeff", `"\ufeff"`},
		{"😀", `"\U0001f600"`},
		{"\xff", `"\ufffd"`},
		{"a\xc3", `"a\ufffd"`},
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"\ufffd", `"\ufffd"`},
		{"{{ x }} {% y %}", `"{{ x }} {% y %}"`},
		{"# -- */", `"# -- */"`},
	} {
		assert.Equal(t, c.want, templates.Python(c.in), "Python(%q)", c.in)
	}
	for _, s := range nasty {
		out := templates.Python(s)
		assert.True(t, strings.HasPrefix(out, `"`) && strings.HasSuffix(out, `"`) && len(out) >= 2, out)
		for i := 0; i < len(out); i++ {
			assert.True(t, out[i] >= 0x20 && out[i] < 0x7f, "Python(%q) has byte %#x: only printable ASCII", s, out[i])
		}
	}
}

func TestPythonList(t *testing.T) {
	assert.Equal(t, "[]", templates.PythonList(nil))
	assert.Equal(t, `["a"]`, templates.PythonList([]string{"a"}))
	assert.Equal(t, `["a", "\"", "\n"]`, templates.PythonList([]string{"a", `"`, "\n"}))
}

func TestSQLIdent(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"name", `"name"`},
		{`a"b`, `"a""b"`},
		{`""`, `""""""`},
		{"a\x00b", `"ab"`},
		{"é", `"é"`},
		{"\xff", "\"\ufffd\""},
		{"it's", `"it's"`},
	} {
		assert.Equal(t, c.want, templates.SQLIdent(c.in), "SQLIdent(%q)", c.in)
	}
}

func TestSQLString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `''`},
		{"it's", `'it''s'`},
		{"''", `''''''`},
		{`\`, `'\'`},
		{"a\nb", "'a\nb'"},
		{"\x00", `''`},
		{"a\x00'b", `'a''b'`},
		{"\xc3\x00\xa9", "'\ufffd\ufffd'"},
		{"-- x", `'-- x'`},
		{"😀", "'😀'"},
	} {
		assert.Equal(t, c.want, templates.SQLString(c.in), "SQLString(%q)", c.in)
	}
	for _, s := range nasty {
		out := templates.SQLString(s)
		assert.True(t, utf8.ValidString(out), "SQLString(%q) is not valid UTF-8", s)
		assert.NotContains(t, out, "\x00")
		// One literal: quotes come in pairs inside, and undoubling gives the text back.
		inner := out[1 : len(out)-1]
		assert.Equal(t, "'", out[:1])
		assert.Equal(t, "'", out[len(out)-1:])
		assert.NotContains(t, strings.ReplaceAll(inner, "''", ""), "'", "SQLString(%q) ends early", s)
		assert.Equal(t, sqlText(s), strings.ReplaceAll(inner, "''", "'"))
	}
}

func TestSQLComment(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "-- "},
		{"one", "-- one"},
		{"a\nb", "-- a\n-- b"},
		{"a\r\nb", "-- a\n-- b"},
		{"a\rb", "-- a\n-- b"},
		{"a\n", "-- a\n-- "},
		{"x\x00y", "-- xy"},
		{"*/ -- '", "-- */ -- '"},
		{"\xff", "-- \ufffd"},
	} {
		assert.Equal(t, c.want, templates.SQLComment(c.in), "SQLComment(%q)", c.in)
	}
	checkComments(t, "-- ", templates.SQLComment)
}

func TestPythonComment(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "# "},
		{"one", "# one"},
		{"a\nb", "# a\n# b"},
		{"a\r\nb", "# a\n# b"},
		{"a\rb", "# a\n# b"},
		{"x\x00y", "# xy"},
		{"\xff", "# \ufffd"},
		{`"""`, `# """`},
	} {
		assert.Equal(t, c.want, templates.PythonComment(c.in), "PythonComment(%q)", c.in)
	}
	checkComments(t, "# ", templates.PythonComment)
}

// checkComments checks that every nasty text becomes prefixed lines only,
// valid UTF-8 without NUL, that give the text back.
func checkComments(t *testing.T, prefix string, f func(string) string) {
	t.Helper()
	for _, s := range nasty {
		out := f(s)
		assert.True(t, utf8.ValidString(out), "%q is not valid UTF-8", out)
		assert.NotContains(t, out, "\x00")
		assert.NotContains(t, out, "\r")
		var got []string
		for _, l := range strings.Split(out, "\n") {
			require.True(t, strings.HasPrefix(l, prefix), "line %q of %q", l, out)
			got = append(got, strings.TrimPrefix(l, prefix))
		}
		assert.Equal(t, lines(s), got, "comment of %q", s)
	}
}

func TestJSON(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{"x", `"x"`},
		{`"\`, `"\"\\"`},
		{"<a&b>", `"\u003ca\u0026b\u003e"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"\x00\n", `"\u0000\n"`},
		{"\xff", `"\ufffd"`},
		{"{{ x }}", `"{{ x }}"`},
		{map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`},
		{[]string{"a"}, `["a"]`},
		{nil, `null`},
	} {
		got, err := templates.JSON(c.in)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "JSON(%#v)", c.in)
	}
	_, err := templates.JSON(make(chan int))
	assert.Error(t, err)
	for _, s := range nasty {
		out, err := templates.JSON(s)
		require.NoError(t, err)
		assert.NotContains(t, out, "\n")
		var back string
		require.NoError(t, json.Unmarshal([]byte(out), &back), out)
		assert.Equal(t, valid(s), back, "JSON(%q) round trip", s)
	}
}

// pythonCheck evaluates the escapers' output with python3: every Python()
// literal with ast.literal_eval (and it must be one string constant), every
// PythonList() as a list, and every PythonComment() as comments before a
// statement that must stay the module's only statement.
const pythonCheck = `
import ast, io, json, sys, tokenize
req = json.load(sys.stdin)
out = {"strings": [], "lists": [], "comments": []}
for src in req["strings"]:
    node = ast.parse(src, mode="eval").body
    if not (isinstance(node, ast.Constant) and type(node.value) is str):
        raise SystemExit("not one string constant: %r" % src)
    out["strings"].append(ast.literal_eval(src))
for src in req["lists"]:
    out["lists"].append(ast.literal_eval(src))
for src in req["comments"]:
    mod = src + "\nx = 1\n"
    tree = ast.parse(mod)
    only = len(tree.body) == 1 and ast.dump(tree.body[0]) == ast.dump(ast.parse("x = 1").body[0])
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(mod).readline) if t.type == tokenize.COMMENT]
    out["comments"].append({"only": only, "comments": comments})
json.dump(out, sys.stdout)
`

func TestPythonRoundTrip(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 is required (CI=true): %v", err)
		}
		t.Skip("python3 not found; the round trip runs in CI")
	}
	var req struct {
		Strings  []string `json:"strings"`
		Lists    []string `json:"lists"`
		Comments []string `json:"comments"`
	}
	for _, s := range nasty {
		req.Strings = append(req.Strings, templates.Python(s))
		c := templates.PythonComment(s)
		require.True(t, utf8.ValidString(c))
		req.Comments = append(req.Comments, c)
	}
	req.Lists = append(req.Lists, templates.PythonList(nasty))
	in, err := json.Marshal(req)
	require.NoError(t, err)
	cmd := exec.Command(py, "-c", pythonCheck)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var res struct {
		Strings  []string   `json:"strings"`
		Lists    [][]string `json:"lists"`
		Comments []struct {
			Only     bool     `json:"only"`
			Comments []string `json:"comments"`
		} `json:"comments"`
	}
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res.Strings, len(nasty))
	var want []string
	for i, s := range nasty {
		want = append(want, valid(s))
		assert.Equal(t, valid(s), res.Strings[i], "ast.literal_eval(Python(%q))", s)
		c := res.Comments[i]
		assert.True(t, c.Only, "PythonComment(%q) let code through", s)
		var wantComments []string
		for _, l := range lines(s) {
			wantComments = append(wantComments, strings.TrimRight("# "+l, " \t\f"))
		}
		var got []string
		for _, g := range c.Comments {
			got = append(got, strings.TrimRight(g, " \t\f"))
		}
		assert.Equal(t, wantComments, got, "the comments of PythonComment(%q)", s)
	}
	require.Len(t, res.Lists, 1)
	assert.Equal(t, want, res.Lists[0])
}
