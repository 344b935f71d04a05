package yamlnode

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseCases are small documents covering the subset model files use, plus
// malformed ones; each is compared against the yaml.v3 reference and they
// seed FuzzParseMatchesReference.
var parseCases = []string{
	// empty documents
	"",
	"\n\n",
	"# only a comment\n",
	"   \n# c\n  # d\n",
	"---\n",
	"---",
	"--- # c\n",
	"---\n...\n",
	"...\n",
	"\xEF\xBB\xBF",
	"\xEF\xBB\xBFa: 1\n",
	"\xEF\xBB\xBF---\na: 1\n",

	// scalars at the root
	"a",
	"hello world",
	"'single'",
	"\"double\"",
	"~",
	"null",
	"--- a",
	"--- 'a'\n...\n",
	"a\n...\n",
	"a\n...\n# trailing comment\n",

	// block mappings
	"a: 1\nb: 2\n",
	"a: 1\r\nb: 2\r\n",
	"a: 1\rb: 2\r",
	"a:\n  b:\n    c: d\n  e: f\ng: h\n",
	"  a: 1\n  b: 2\n",
	"a:\nb:\n",
	"a:",
	"a: ~\nb: null\nc: Null\nd: NULL\n",
	"a:    spaced    \n",
	"a:\t1\n",
	"a:\t# c\n",
	"a: 1 # trailing\nb: 2\t# tab then comment\n",
	"key with spaces: value with spaces\n",
	"'quoted key': 1\n\"dq key\": 2\n",
	"a: b: c\n",
	"a:\n  b\nc: d\n",
	"a:\n  - b\n  -\nc: d\n",
	"x: 1\ny\n",
	"x: 1\n  y: 2\n",
	"x:\n  y: 1\n z: 2\n",
	"? a\n: b\n",
	": a\n",
	"a: 1\na: 2\n",
	"<<: 1\n",
	"a: -1\nb: - c\n",
	"a: -\n",
	"a: [\n",

	// block sequences
	"- a\n- b\n",
	"- a\n-\n- c\n",
	"-\n",
	"- ",
	"key:\n- a\n- b\nother: c\n",
	"key:\n  - a\n  - b\n",
	"- key: v\n  key2: v2\n- key: w\n",
	"- - a\n  - b\n- c\n",
	"- - - deep\n",
	"-   a\n-   b: c\n    d: e\n",
	"- a\n - b\n",
	"- a\nb: c\n",
	"a:\n- b\n- c: d\n  e: f\n- g\n",
	"a:\n  - b\n   - c\n",
	"- a: b\n c: d\n",
	"- \t# c\n",
	"- # c\n  - a\n",
	"-\n  a: 1\n",
	"- |\n  x\n- >\n  y\n",

	// flow collections
	"{a: 1, b: [x, y]}",
	"[a, b]",
	"[]",
	"{}",
	"[a, b, ]",
	"{a: 1, }",
	"[a,,b]",
	"[,]",
	"{,}",
	"[a b]",
	"[a\n b]",
	"{a: 1,\n b: 2}\n",
	"a: {b: 1, c: [d, e]}\n",
	"a: [\n  b,\n  c\n]\n",
	"a: [b,\n\tc]\n",
	"a: [b\n\tc]\n",
	"[a: 1, b]",
	"[a: ]",
	"{a: }",
	"{a, b: c,}",
	"{a:b}",
	"{a :b}",
	"{\"a\":b}",
	"[[a, b], [c, {d: e}]]",
	"{a: {b: {c: {}}}}",
	"[a]\nb",
	"[a]: b",
	"{[a]: b}",
	"{url: http://x?y=1}",
	"[a, b",
	"{a: 1",
	"[a}",
	"a: [b, c] d\n",
	"a: {b: c}\n  d: e\n",
	"- {name: c1, type: varchar(20)}\n- {name: c2, type: 'decimal(10,2)'}\n",
	"- {name: c1, type: decimal(10,2)}\n",
	"[a, # comment\n b]\n",
	"[a #comment\n]\n",
	"{a: [b, c], # c\n d: e}\n",
	"[\"a\", 'b', c]",
	"[- a]",
	"[a, - b]",
	"{a: - b}",
	"[|]",
	"[a, b]: c",

	// plain scalars
	"url: http://x:9000/a\n",
	"a: b:c\n",
	"a: b :c\n",
	"a: b#c\n",
	"a: b #c\n",
	"type: decimal(10,2)\n",
	"type: varchar(20)\n",
	"cron: '*/5 * * * *'\n",
	"cron: \"*/5 * * * *\"\n",
	"a: x*y\n",
	"a: x&y!z\n",
	"a: ?x\n",
	"a: :x\n",
	"a: -x\n",
	"a: 1.5e3\n",
	"a: héllo wörld ✓ 😀\n",
	"ключ: значение\n",
	"a: b\n c\n",
	"a: b\n  c\n\n  d\n\n\n  e\n",
	"a: b  \n  c  \n",
	"a: b\n# c\nd: e\n",
	"a: b\n  # c\n  d\n",
	"a: b\n \tc\n",
	"a: b\n\tc\n",
	"x:\n  a: b\n   \tc\n",
	"- a\n  b\n",
	"a\nb\nc\n",
	"a: b\n---\n",
	"a: b\n...\n",
	"a: b\n--- \nc: d\n",
	"a: b\n... # end\n",
	"a: b\n---x\n",
	"a: b\n...x\n",
	"a: @x\n",
	"a: `x\n",
	"a: %x\n",
	"%x\n",
	"a: |x\n",
	"a: >x\n",
	"a: 'b'c\n",
	"a: \"b\"#c\n",
	"a: \"b\" #c\n",
	"a: b: c: d\n",
	"a b: c\n",
	"a:b: c\n",
	"a:\n  b: c\n d: e\n",
	"a: b\n\n\n",
	"a: " + strings.Repeat("x", 1100) + "\n",
	strings.Repeat("k", 1030) + ": v\n",
	"{" + strings.Repeat("k", 1030) + ": v}\n",
	"\"" + strings.Repeat("k", 1020) + "\": v\n",

	// quoted scalars
	"a: 'it''s'\n",
	"a: ''\n",
	"a: \"\"\n",
	"a: ' lead and trail '\n",
	"a: 'one\n  two'\n",
	"a: 'one\n\n  two'\n",
	"a: 'one   \n   two  \n\n\n   three'\n",
	"a: \"esc \\n \\t \\\" \\\\ \\0 \\a \\b \\e \\f \\r \\v \\N \\_ \\L \\P \\x41 \\u00e9 \\U0001F600 \\  \\' \\\t\"\n",
	"a: \"line\\\n  continued\"\n",
	"a: \"x\\\n\n  y\"\n",
	"a: \"bad \\/ escape\"\n",
	"a: \"bad \\q escape\"\n",
	"a: \"\\xZZ\"\n",
	"a: \"\\uD800\"\n",
	"a: \"\\U00110000\"\n",
	"a: \"\\x",
	"a: \"unterminated\n",
	"a: 'unterminated\n",
	"a: 'x\n---\n'\n",
	"a: \"x\n...\n\"\n",
	"a: 'multi\n line' b\n",
	"'a\n b': c\n",
	"a: \"tab\there\"\n",
	"a: 'é''ü'\n",
	"a: \"é\\\"ü\"\n",
	"a: 'back\\slash'\n",
	"a: \"single ' inside\"\n",
	"a: 'double \" inside'\n",

	// block scalars
	"a: |\n  line1\n  line2\n",
	"a: |-\n  line1\n  line2\n\n",
	"a: |+\n  line1\n  line2\n\n\nb: 1\n",
	"a: >\n  folded\n  text\n\n  para\n",
	"a: >-\n  folded\n   more indented\n  back\n",
	"a: >+\n  x\n\n",
	"a: |2\n    two extra\n  base\n",
	"a: |1-\n  x\n",
	"a: |-1\n  x\n",
	"a: |0\n  x\n",
	"a: | # comment\n  x\n",
	"a: |x\n  y\n",
	"a: |\n\n  leading blank\n",
	"a: |\n  x\n    y\n  z\n",
	"a: |\n  x\n \ty\n",
	"a: |\n  x\n  \ty\n",
	"a: |\n\tx\n",
	"a: |\n",
	"a: |",
	"a: >\n",
	"a: |\nb: 1\n",
	"- |\n x\n- y\n",
	"a:\n  b: |\n    deep\n  c: d\n",
	"a: >\n  a\n\n\n  b\n   c\n  d\n",
	"|\n  root literal\n",
	">\n root folded\n",
	"a: |\n  x\r\n  y\r\n",

	// comments and blank lines
	"# head\na: 1 # line\n# foot\n\nb: 2\n",
	"a: 1\n\t# tab comment\n",
	"a: 1\n# c\n\t# d\n",
	"a: b\n  # c\n\t# d\n",
	"  \n  \t\na: 1\n",
	"a: 1\n  \nb: 2\n",
	"a:\n  # c\n  b: 1\n",
	"[a, b] # c\n",
	"a: 'b' # c\n",
	"#c\n#d\n---\n#e\na: 1\n#f\n...\n#g\n",

	// comment runs: yaml.v3 looks up to 512 bytes ahead for the next
	// comment and skips tab-indented comment lines inside a run
	"a: 1\n# c\n" + strings.Repeat(" ", 400) + "\n\t# d\n",
	"a: 1\n# c\n" + strings.Repeat(" ", 520) + "\n\t# d\n",
	"a: 1\n# c" + strings.Repeat("\n", 600) + "\t# d\n",
	"a: 1 # c\n\t# d\n",
	"[a, # c\n\t# d\n b]\n",

	// tabs
	"\ta: 1\n",
	"a:\n\tb: 1\n",
	"- a\n\t- b\n",
	"a: 1\n\t\n",

	// long lines and deep nesting (token queue growth, many BLOCK-ENDs)
	"[" + strings.Repeat("1, ", 300) + "2]: v\n",
	"k: [" + strings.Repeat("'x', ", 300) + "y]\n",
	deepBlock(300) + "z: 1\n",
	strings.Repeat("- ", 200) + "a\n- b\n",
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("- ", 10001) + "a\n",
	strings.Repeat("{a: ", 50) + "b" + strings.Repeat("}", 50) + "\n",

	// refused constructs
	"a: &x 1\n",
	"a: *x\n",
	"a: !!str 1\n",
	"a: ! b\n",
	"! a",
	"%YAML 1.1\n---\na: 1\n",
	"a: 1\n---\nb: 2\n",
	"? a\n",
	"cron: */5 * * * *\n",
}

// deepBlock returns n nested block mappings, each one space deeper.
func deepBlock(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat(" ", i) + "k" + strconv.Itoa(i) + ":\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "leaf\n")
	return b.String()
}

func TestParseMatchesReference(t *testing.T) {
	for _, in := range parseCases {
		checkAgainstReference(t, []byte(in))
	}
}

// checkAgainstReference parses data with both implementations and fails
// when they disagree; see FuzzParseMatchesReference for the rules.
func checkAgainstReference(t *testing.T, data []byte) {
	t.Helper()
	want, werr := safeParseReference("f.yaml", data)
	got, gerr := Parse("f.yaml", data)
	if gerr != nil {
		var e *Error
		if !errors.As(gerr, &e) {
			t.Fatalf("input %q: Parse returned %T, want *Error", data, gerr)
		}
		if e.File != "f.yaml" || e.Line < 1 || e.Column < 1 || e.Msg == "" {
			t.Fatalf("input %q: malformed error %#v", data, e)
		}
		if isRefusal(e) {
			if why := refusalMismatch(data, e); why != "" {
				t.Fatalf("input %q: refusal %q does not point at the refused construct: %s", data, gerr, why)
			}
			return
		}
		if werr == nil {
			t.Fatalf("input %q: reference parsed it but Parse failed: %v\nreference tree:\n%s", data, gerr, dumpNode(want))
		}
		// When both report the same problem, they must report it on the
		// same line. (They can report different problems: yaml.v3 loses
		// some scanner errors, for example after a comment, and then
		// reports a later parser error.)
		var we *Error
		if errors.As(werr, &we) && strings.HasPrefix(e.Msg, strings.TrimPrefix(we.Msg, "yaml: ")) {
			wantLine, refLine := e.Line, e.Line
			if pe, ok := parserErrorMarks(e.Msg); ok {
				wantLine, refLine = pe.ourLine(), pe.v3Line()
			}
			if we.Line != refLine || e.Line != wantLine {
				t.Fatalf("input %q: error line %d (want %d), reference says line %d (want %d)\nParse:     %v\nreference: %v",
					data, e.Line, wantLine, we.Line, refLine, gerr, werr)
			}
		}
		return
	}
	if werr != nil {
		t.Fatalf("input %q: reference failed (%v) but Parse succeeded:\n%s", data, werr, dumpNode(got))
	}
	if d := diffNodes("$", want, got); d != "" {
		t.Fatalf("input %q: trees differ: %s\nreference:\n%sParse:\n%s", data, d, dumpNode(want), dumpNode(got))
	}
}

// parserMarks are the two positions a parser error's message states
// (1-based), and whether the error is about a flow collection.
type parserMarks struct {
	flow                     bool
	hasContext               bool
	contextLine, problemLine int
}

var (
	flowErrRE    = regexp.MustCompile(`the '[\[{]' at line (\d+), column \d+ is not closed.*stopped at line (\d+), column \d+\)`)
	contextErrRE = regexp.MustCompile(`\(while parsing [a-z ]+ that starts at line (\d+), column \d+; found at line (\d+), column \d+\)$`)
	problemErrRE = regexp.MustCompile(`^did not find expected .*\(found at line (\d+), column \d+\)$`)
)

// parserErrorMarks reads the positions out of a parser error's message; ok
// is false for errors that are not parser errors.
func parserErrorMarks(msg string) (parserMarks, bool) {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if m := flowErrRE.FindStringSubmatch(msg); m != nil {
		return parserMarks{flow: true, hasContext: true, contextLine: atoi(m[1]), problemLine: atoi(m[2])}, true
	}
	if m := contextErrRE.FindStringSubmatch(msg); m != nil {
		return parserMarks{hasContext: true, contextLine: atoi(m[1]), problemLine: atoi(m[2])}, true
	}
	if m := problemErrRE.FindStringSubmatch(msg); m != nil {
		return parserMarks{problemLine: atoi(m[1])}, true
	}
	return parserMarks{}, false
}

// ourLine is where Parse reports a parser error: at the opening bracket of
// a flow collection, else where the parser stopped.
func (m parserMarks) ourLine() int {
	if m.flow {
		return m.contextLine
	}
	return m.problemLine
}

// v3Line is the line yaml.v3 reports: parser#fail (decode.go) prints the
// 0-based line of the context mark, or of the problem mark when the
// context mark is on line 0, and no line at all (which v3Error turns into
// line 1) when both are on line 0.
func (m parserMarks) v3Line() int {
	switch {
	case m.hasContext && m.contextLine > 1:
		return m.contextLine - 1
	case m.problemLine > 1:
		return m.problemLine - 1
	}
	return 1
}

// safeParseReference turns a panic in yaml.v3 into an error.
func safeParseReference(file string, data []byte) (n *Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, &Error{File: file, Line: 1, Column: 1, Msg: fmt.Sprint("yaml.v3 panicked: ", r)}
		}
	}()
	return parseReference(file, data)
}

func isRefusal(e *Error) bool { return strings.Contains(e.Msg, "not supported in model files") }

// refusalMismatch checks that a refusal points at what it refuses; it
// returns "" when it does.
func refusalMismatch(data []byte, e *Error) string {
	switch {
	case strings.Contains(e.Msg, "UTF-16"):
		if e.Line == 1 && e.Column == 1 && len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF) {
			return ""
		}
		return "no UTF-16 byte order mark"
	}
	rest, ok := atPosition(data, e.Line, e.Column)
	if !ok {
		return "position is outside the input"
	}
	r, _ := utf8.DecodeRune(rest)
	var want string
	switch {
	case strings.Contains(e.Msg, "anchors"):
		want = "&"
	case strings.Contains(e.Msg, "aliases"):
		want = "*"
	case strings.Contains(e.Msg, "tags"):
		want = "!"
	case strings.Contains(e.Msg, "'?'"), strings.Contains(e.Msg, "'? key'"):
		want = "?"
	case strings.Contains(e.Msg, "a sequence or mapping used as a key"):
		if r == '[' || r == '{' {
			return ""
		}
		return "no collection at the position"
	case strings.Contains(e.Msg, "single-pair mapping inside a flow sequence"):
		want = ":"
	case strings.Contains(e.Msg, "directives"):
		want = "%"
	case strings.Contains(e.Msg, "more than one YAML document"):
		want = "---"
	case strings.Contains(e.Msg, "line separator"):
		if r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ""
		}
		return "no line separator at the position"
	case strings.Contains(e.Msg, "byte order mark"):
		if r == 0xFEFF {
			return ""
		}
		return "no byte order mark at the position"
	default:
		return "unknown refusal"
	}
	if !strings.HasPrefix(string(rest), want) {
		return "expected " + want + " at the position"
	}
	if (want == "%" || want == "---") && e.Column != 1 {
		return "not at the start of a line"
	}
	return ""
}

// atPosition returns the input from the 1-based line and column (counted in
// characters, after a leading BOM, with CR LF, CR and LF as line breaks).
func atPosition(data []byte, line, col int) ([]byte, bool) {
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		data = data[3:]
	}
	l, c := 1, 1
	for i := 0; i <= len(data); {
		if l == line && c == col {
			return data[i:], true
		}
		if i == len(data) {
			break
		}
		switch {
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			i += 2
			l, c = l+1, 1
		case data[i] == '\r' || data[i] == '\n':
			i++
			l, c = l+1, 1
		default:
			_, w := utf8.DecodeRune(data[i:])
			i += w
			c++
		}
	}
	return nil, false
}

// FuzzParseMatchesReference compares Parse with the yaml.v3 reference:
//
//   - when Parse refuses a construct outside the subset (anchor, alias, tag,
//     complex key, directive, second document, ...), the error must point at
//     that construct, and the input is otherwise skipped: whatever yaml.v3
//     made of it does not matter;
//   - otherwise, when the reference parses the input, Parse must succeed and
//     build an identical tree;
//   - when the reference fails, Parse must fail too, on the same line when
//     both report the same problem.
//
// Run it with
//
//	go test -run='^$' -fuzz=FuzzParseMatchesReference -fuzztime=3m ./model/internal/yamlnode/
func FuzzParseMatchesReference(f *testing.F) {
	for _, in := range parseCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstReference(t, data)
	})
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		in       string
		line     int
		col      int
		contains string
	}{
		{"a: 1\nb: &x 2\n", 2, 4, "anchors"},
		{"a: 1\nb:\n  - *x\n", 3, 5, "aliases"},
		{"a: 1\nb: !!str 2\n", 2, 4, "tags"},
		{"a: 1\nb: ! 2\n", 2, 4, "tags"},
		{"a: 1\n? b\n: c\n", 2, 1, "complex mapping keys"},
		{"a: [x, ?y]\n", 1, 8, "complex mapping key"},
		{"a: [x, y: ]\n", 1, 9, "[key: ]"},
		{"a: 1\n[b]: c\n", 2, 1, "complex mapping keys"},
		{"a: {b: 1, {c: d}: e}\n", 1, 11, "complex mapping keys"},
		{"# c\n%YAML 1.1\n---\na: 1\n", 2, 1, "directives"},
		{"a: 1\n---\nb: 2\n", 2, 1, "more than one YAML document"},
		{"a: 1\n...\n---\nb: 2\n", 3, 1, "more than one YAML document"},
		{"\xFF\xFEa\x00", 1, 1, "UTF-16"},
		{"a: 1\nb: x\u2028y\n", 2, 5, "line separator"},
		{"a: 1\nb: \xEF\xBB\xBFx\n", 2, 4, "byte order mark"},
		{"schedule: */5 * * * *\n", 1, 11, "quote values that start with '*'"},
	}
	for _, tc := range cases {
		_, err := Parse("m.yaml", []byte(tc.in))
		var e *Error
		require.ErrorAs(t, err, &e, "input %q", tc.in)
		assert.Equal(t, "m.yaml", e.File, "input %q", tc.in)
		assert.Equal(t, tc.line, e.Line, "input %q: %v", tc.in, err)
		assert.Equal(t, tc.col, e.Column, "input %q: %v", tc.in, err)
		assert.Contains(t, e.Msg, tc.contains, "input %q", tc.in)
		assert.Contains(t, e.Msg, "not supported in model files", "input %q", tc.in)
		assert.Empty(t, refusalMismatch([]byte(tc.in), e), "input %q", tc.in)
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		in       string
		line     int
		col      int // 0: not asserted
		contains string
	}{
		{"a: 1\n\tb: 2\n", 2, 0, "tab"},
		{"a:\n\tb: 2\n", 2, 0, "indent with spaces"},
		// The parser stops at " c", which is indented less than "b" and more
		// than "a": that token, not the line before it, is the problem.
		{"a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key"},
		{"a:\n  - 1\n  b: 2\n", 3, 3, "did not find expected '-' indicator"},
		// An unclosed bracket is reported at the bracket, not where the
		// parser gave up (the next line or the end of the file).
		{"a: [b, c\n", 1, 4, "the '[' at line 1, column 4 is not closed"},
		{"a: 1\nb: [c, d\ne: 2\n", 2, 4, "the '[' at line 2, column 4 is not closed"},
		{"a: 1\nb: {c: 1\nd: 2\n", 2, 4, "the '{' at line 2, column 4 is not closed"},
		{"datastore: x\ncolumns:\n  - {name: id, type: int32\n  - {name: v, type: text}\n", 3, 5, "add the missing '}' or ','"},
		{"a: 'x\n", 2, 0, "unexpected end of stream"},
		{"a: b: c\n", 1, 0, "mapping values are not allowed"},
		{"a: \"\\q\"\n", 1, 0, "unknown escape"},
		{"a: 1\nb: \x01\n", 2, 0, "control character"},
		{"a: 1\nb: \xC3\n", 2, 0, "invalid UTF-8"},
		{"x:\n  y: 1\n  z\n", 3, 0, "could not find expected ':'"},
	}
	for _, tc := range cases {
		_, err := Parse("m.yaml", []byte(tc.in))
		var e *Error
		require.ErrorAs(t, err, &e, "input %q", tc.in)
		assert.Equal(t, tc.line, e.Line, "input %q: %v", tc.in, err)
		if tc.col != 0 {
			assert.Equal(t, tc.col, e.Column, "input %q: %v", tc.in, err)
		}
		assert.Contains(t, e.Msg, tc.contains, "input %q", tc.in)
		assert.NotContains(t, e.Msg, "not supported in model files", "input %q", tc.in)
	}
}

// TestValidate checks the character checks at every offset, so that the
// eight-bytes-at-a-time fast path cannot hide a bad byte.
func TestValidate(t *testing.T) {
	base := []byte("a: " + strings.Repeat("x", 29))
	for i := 3; i < len(base); i++ {
		for _, bad := range []string{"\x00", "\x01", "\x1f", "\x7f", "\x80", "\xc3", "\xed\xa0\x80", "\xef\xbf\xbe", "\u0085", "\u2028", "\ufeff"} {
			in := append(append(append([]byte{}, base[:i]...), bad...), base[i:]...)
			_, err := Parse("v.yaml", in)
			var e *Error
			require.ErrorAs(t, err, &e, "bad %q at %d", bad, i)
			assert.Equal(t, 1, e.Line, "bad %q at %d: %v", bad, i, err)
			assert.Equal(t, i+1, e.Column, "bad %q at %d: %v", bad, i, err)
		}
		for _, good := range []string{" ", "~", "\t", "é", "\u00a0", "😀"} {
			in := append(append(append([]byte{}, base[:i]...), good...), base[i:]...)
			_, err := Parse("v.yaml", in)
			assert.NoError(t, err, "good %q at %d", good, i)
			checkAgainstReference(t, in)
		}
	}
}

// TestParseConcurrent runs Parse from several goroutines at once (run with
// -race to check that parsers share no state).
func TestParseConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				for _, in := range parseCases {
					if _, err := Parse("c.yaml", []byte(in)); err != nil {
						_ = err.Error()
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestParseValues(t *testing.T) {
	n, err := Parse("v.yaml", []byte("\xEF\xBB\xBFa: 'x''y'\nb: \"\\u00e9\\t\"\nc: |\n  l1\n  l2\nd: plain\n  folded\ne:\nf: [1, {g: h}]\n"))
	require.NoError(t, err)
	require.Equal(t, MappingNode, n.Kind)
	get := func(k string) *Node {
		for i := 0; i < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				return n.Content[i+1]
			}
		}
		t.Fatalf("no key %q", k)
		return nil
	}
	assert.Equal(t, "x'y", get("a").Value)
	assert.Equal(t, SingleQuoted, get("a").Style)
	assert.Equal(t, "é\t", get("b").Value)
	assert.Equal(t, "l1\nl2\n", get("c").Value)
	assert.Equal(t, Literal, get("c").Style)
	assert.Equal(t, "plain folded", get("d").Value)
	assert.True(t, get("e").IsNull())
	assert.Equal(t, int32(8), get("e").Line)
	assert.Equal(t, int32(3), get("e").Column)
	f := get("f")
	assert.Equal(t, Flow, f.Style)
	assert.Equal(t, int32(4), f.Column)
	assert.Equal(t, "h", f.Content[1].Content[1].Value)
}
