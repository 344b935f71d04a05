package generator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// freeTextFields are the model's free-text fields, by Go field name:
// documentation of every element (datastores, datasets, columns, workspaces,
// groups, teams, zones, platforms, containers, credentials, ...),
// deprecation reasons and the descriptions of legacy platforms.
var freeTextFields = map[string]bool{"Documentation": true, "Reason": true, "Description": true, "Contact": true}

// setFreeText puts text into every free-text field of m, deprecating every
// datastore and dataset so that their deprecation reasons carry it too.
func setFreeText(m *model.Model, text string) {
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, ds := range tm.Datastores {
				if ds.Deprecated == nil {
					ds.Deprecated = &model.Deprecation{}
				}
				for i := range ds.Datasets {
					if ds.Datasets[i].Deprecated == nil {
						ds.Datasets[i].Deprecated = &model.Deprecation{}
					}
				}
			}
		}
	}
	setStrings(reflect.ValueOf(m), text, map[uintptr]bool{})
}

var legacyType = reflect.TypeFor[model.Legacy]()

func setStrings(v reflect.Value, text string, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		setStrings(v.Elem(), text, seen)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			setStrings(v.Index(i), text, seen)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.String {
				if (freeTextFields[f.Name] || v.Type() == legacyType) && fv.CanSet() {
					fv.SetString(text)
				}
				continue
			}
			setStrings(fv, text, seen)
		}
	}
}

// fuzzSeeds are the nasty cases every run checks.
var fuzzSeeds = []string{
	"", " ", "\n", "plain documentation.", "  padded  ",
	`"`, `'`, "`", `"""`, `'''`, `""""""`, `\`, `\\`, `\"`, `\'`, "\\\n", "x\\", `\N{BULLET}`, `\x41`, `\u0041`,
	"line one\nline two", "a\r\nb", "a\rb", "\r", "\n\n\n",
	"{{ x }}", "{% for x in range(3) %}{{ x }}{% endfor %}", "{# comment #}", "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
	"\x00", "a\x00b", "\x00'\x00", "\xc3\x00\xa9",
	"\xff", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "caf\xe9",
	"😀", "e\u0301", "\u2028\u2029", "\u0085", "\ufeff", "\u202e", "\x1b[31mred", "\f\v\x7f",
	"# not a comment", "-- not a comment", "/* not a comment", "*/", "'; DROP TABLE customers; --",
	"\"); import os; os.system('id') #", "\"\"\")\nimport os\nos.system('id')\n(\"\"\"", "')\nimport os\n#",
	"${file:/etc/passwd:x}", "PLACEHOLDER", "README.md", "%s %d %%", "$(id) `id`",
}

// fuzzPlaceholder is the free text of the baseline generation.
const fuzzPlaceholder = "PLACEHOLDER"

// fuzzState is what every fuzz input of this process shares: the models (the
// customer-cdc example as is, and on Airflow 2 with kubernetes and an
// externally triggered store), their baseline trees and DAG descriptions,
// and one python3 process checking DAGs.
type fuzzState struct {
	mu       sync.Mutex
	models   []*model.Model
	base     []*generator.Tree
	baseDAGs []map[string]dagDesc
	py       *pyServer // nil without python3 (outside CI)
}

var (
	fuzzOnce   sync.Once
	fuzzShared *fuzzState
	fuzzErr    error
)

func sharedFuzzState(t testing.TB) *fuzzState {
	t.Helper()
	py, havePython := lookPython(t)
	fuzzOnce.Do(func() {
		fuzzErr = errors.New("preparing the fuzz models failed; see the first input's failure")
		st := &fuzzState{}
		a := loadExample(t, "customer-cdc")
		b := loadExample(t, "customer-cdc")
		setAirflow(b, 2, "kubernetes")
		datastore(b, "product_catalog").Capture.Trigger = model.Trigger{External: true}
		st.models = []*model.Model{a, b}
		if havePython {
			var err error
			if st.py, err = startPyServer(py); err != nil {
				fuzzErr = err
				return
			}
		}
		for _, m := range st.models {
			setFreeText(m, fuzzPlaceholder)
			tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "fuzz"})
			if err != nil {
				fuzzErr = err
				return
			}
			st.base = append(st.base, tree)
			descs := map[string]dagDesc{}
			if st.py != nil {
				res, err := st.py.check(dagFiles(tree))
				if err != nil {
					fuzzErr = err
					return
				}
				for p, r := range res {
					if !r.OK {
						fuzzErr = fmt.Errorf("baseline: %s", r.Error)
						return
					}
					descs[p] = r.Dag
				}
			}
			st.baseDAGs = append(st.baseDAGs, descs)
		}
		fuzzShared, fuzzErr = st, nil
	})
	require.NoError(t, fuzzErr)
	return fuzzShared
}

// FuzzFreeText puts arbitrary text into every free-text field of a model,
// generates, and checks that the text changed nothing but the places that
// show it: every DAG still passes dagcheck with the same description, its
// doc_md carrying the text exactly (ast.literal_eval round trip; invalid
// UTF-8 as U+FFFD); the SQL has the same tokens, the text only inside
// comments and correctly doubled '...' literals (NUL removed); the JSON files
// are valid and unchanged.
//
//	go test -fuzz=FuzzFreeText -fuzztime=2m ./generator/
func FuzzFreeText(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add(hostileText)
	f.Cleanup(func() {
		if fuzzShared != nil && fuzzShared.py != nil {
			fuzzShared.py.close()
		}
	})
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			t.Skip("long texts add nothing but time")
		}
		st := sharedFuzzState(t)
		st.mu.Lock()
		defer st.mu.Unlock()
		for i, m := range st.models {
			setFreeText(m, text)
			tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "fuzz"})
			require.NoError(t, err)
			base := st.base[i]
			require.Equal(t, base.Paths(), tree.Paths(), "free text changed which files are generated")
			for _, p := range tree.Paths() {
				got, want := tree.Files[p], base.Files[p]
				switch {
				case p == generator.ManifestName:
					assert.True(t, json.Valid(got), "%s is not valid JSON", p)
				case strings.HasSuffix(p, ".json"):
					assert.True(t, json.Valid(got), "%s is not valid JSON", p)
					assert.Equal(t, string(want), string(got), "%s changed with free text", p)
					if strings.Contains(p, "/jobs/") {
						_, err := jobspec.Parse(got)
						assert.NoError(t, err, p)
					}
				case strings.HasSuffix(p, ".sql"):
					checkSQL(t, p, string(got), string(want), text)
				case strings.HasSuffix(p, ".py"):
					assert.True(t, utf8.Valid(got), "%s is not valid UTF-8", p)
					assert.NotContains(t, string(got), "\x00", p)
				default:
					t.Errorf("unexpected file %s", p)
				}
			}
			if st.py == nil {
				continue
			}
			res, err := st.py.check(dagFiles(tree))
			require.NoError(t, err)
			for p, r := range res {
				if !assert.True(t, r.OK, "dagcheck refused %s: %s", p, r.Error) {
					continue
				}
				checkDAGText(t, p, r.Dag, st.baseDAGs[i][p], text)
			}
		}
	})
}

// checkDAGText compares a DAG's description with the baseline's: only doc_md
// may differ, and there exactly by the text.
func checkDAGText(t *testing.T, path string, got, base dagDesc, text string) {
	t.Helper()
	require.NotNil(t, got.DocMD, path)
	require.NotNil(t, base.DocMD, path)
	gotDoc, baseDoc := *got.DocMD, *base.DocMD
	got.DocMD, base.DocMD = nil, nil
	assert.Equal(t, base, got, "%s: free text changed more than doc_md", path)
	if strings.HasSuffix(path, "__maintenance.py") {
		assert.Equal(t, baseDoc, gotDoc, "%s: the maintenance DAG shows no model text", path)
		return
	}
	require.Contains(t, baseDoc, fuzzPlaceholder)
	if trimmed := strings.TrimSpace(text); trimmed != "" {
		assert.Equal(t, strings.ReplaceAll(baseDoc, fuzzPlaceholder, pyText(trimmed)), gotDoc, "%s: doc_md does not carry the documentation exactly", path)
	} else {
		assert.NotContains(t, gotDoc, fuzzPlaceholder, path)
	}
}

// sqlText is what the SQL escapers make of text: invalid UTF-8 as U+FFFD, no NUL.
func sqlText(s string) string { return strings.ReplaceAll(pyText(s), "\x00", "") }

// checkSQL lexes a generated SQL file like Trino does and compares it with
// the baseline's: the same code and identifier tokens; string literals equal,
// or the text where the baseline had the placeholder; comments equal, or the
// text's lines where the baseline had the placeholder.
func checkSQL(t *testing.T, path, got, base, text string) {
	t.Helper()
	assert.True(t, utf8.ValidString(got), "%s is not valid UTF-8", path)
	assert.NotContains(t, got, "\x00", path)
	gt, err := lexSQL(got)
	require.NoError(t, err, "%s does not lex:\n%s", path, got)
	bt, err := lexSQL(base)
	require.NoError(t, err, "baseline %s", path)
	var gotCode, baseCode []sqlToken
	var gotComments, wantComments []string
	for _, tok := range gt {
		if tok.kind == sqlComment {
			gotComments = append(gotComments, tok.text)
		} else {
			gotCode = append(gotCode, tok)
		}
	}
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(sqlText(text), "\r\n", "\n"), "\r", "\n"), "\n")
	for i, tok := range bt {
		if tok.kind != sqlComment {
			baseCode = append(baseCode, tok)
			continue
		}
		placeholder := tok.text == " "+fuzzPlaceholder
		if text == "" && (placeholder || tok.text == "" && i+1 < len(bt) && bt[i+1].text == " "+fuzzPlaceholder) {
			continue // no documentation: neither it nor the "--" line before it
		}
		if !placeholder {
			wantComments = append(wantComments, tok.text)
			continue
		}
		for _, l := range lines {
			wantComments = append(wantComments, " "+l)
		}
	}
	if text == "" {
		// Empty documentation drops the COMMENT clauses; the rest stays.
		var kept []sqlToken
		for i := 0; i < len(baseCode); i++ {
			if baseCode[i].kind == sqlCode && strings.EqualFold(baseCode[i].text, "COMMENT") && i+1 < len(baseCode) && baseCode[i+1].text == fuzzPlaceholder {
				i++
				continue
			}
			kept = append(kept, baseCode[i])
		}
		baseCode = kept
	}
	assert.Equal(t, wantComments, gotComments, "%s: comments", path)
	if !assert.Len(t, gotCode, len(baseCode), "%s: the text changed the SQL's tokens:\n%s", path, got) {
		return
	}
	for i := range baseCode {
		b, g := baseCode[i], gotCode[i]
		if b.kind == sqlStringLit && b.text == fuzzPlaceholder {
			assert.Equal(t, sqlStringLit, g.kind, "%s: token %d", path, i)
			assert.Equal(t, sqlText(text), g.text, "%s: a string literal does not carry the text exactly", path)
			continue
		}
		assert.Equal(t, b, g, "%s: token %d changed", path, i)
	}
}

type sqlKind int

const (
	sqlCode      sqlKind = iota // a keyword, name, number or punctuation
	sqlStringLit                // '...', text is the value
	sqlIdent                    // "...", text is the name
	sqlComment                  // -- ... or /* ... */, text is what follows the marker
)

type sqlToken struct {
	kind sqlKind
	text string
}

// lexSQL splits SQL into tokens the way Trino's lexer does: -- comments run to
// \r or \n, /* */ comments do not nest, ” and "" double a quote inside
// literals and quoted identifiers, and nothing else escapes.
func lexSQL(s string) ([]sqlToken, error) {
	var toks []sqlToken
	isWord := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexAny(s[i:], "\r\n")
			if j < 0 {
				j = len(s) - i
			}
			toks = append(toks, sqlToken{sqlComment, s[i+2 : i+j]})
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			toks = append(toks, sqlToken{sqlComment, s[i+2 : i+2+j]})
			i += j + 4
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], c)
				if k < 0 {
					return nil, fmt.Errorf("unterminated %c literal at byte %d", c, i)
				}
				b.WriteString(s[j : j+k])
				j += k + 1
				if j < len(s) && s[j] == c {
					b.WriteByte(c)
					j++
					continue
				}
				break
			}
			kind := sqlStringLit
			if c == '"' {
				kind = sqlIdent
			}
			toks = append(toks, sqlToken{kind, b.String()})
			i = j
		case isWord(c):
			j := i
			for j < len(s) && isWord(s[j]) {
				j++
			}
			toks = append(toks, sqlToken{sqlCode, s[i:j]})
			i = j
		case c < 0x80:
			toks = append(toks, sqlToken{sqlCode, string(c)})
			i++
		default:
			return nil, fmt.Errorf("a non-ASCII byte outside literals and comments at byte %d", i)
		}
	}
	return toks, nil
}

func TestLexSQL(t *testing.T) {
	toks, err := lexSQL("-- a 'b'\r\nSELECT 'it''s', \"x\"\"y\" /* '*/ FROM t;")
	require.NoError(t, err)
	assert.Equal(t, []sqlToken{
		{sqlComment, " a 'b'"}, {sqlCode, "SELECT"}, {sqlStringLit, "it's"}, {sqlCode, ","},
		{sqlIdent, `x"y`}, {sqlComment, " '"}, {sqlCode, "FROM"}, {sqlCode, "t"}, {sqlCode, ";"},
	}, toks)
	for _, bad := range []string{"'open", `"open`, "/* open", "'a''", "é"} {
		_, err := lexSQL(bad)
		assert.Error(t, err, bad)
	}
}

// pyServer is one python3 running dagcheck --serve: requests and answers are
// JSON lines, so one process checks the DAGs of every fuzz input.
type pyServer struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

type pyResult struct {
	Name  string  `json:"name"`
	OK    bool    `json:"ok"`
	Dag   dagDesc `json:"dag"`
	Error string  `json:"error"`
}

func startPyServer(py string) (*pyServer, error) {
	cmd := exec.Command(py, dagcheckScript, "--serve")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &pyServer{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// check describes files (tree paths to contents), by path.
func (s *pyServer) check(files map[string][]byte) (map[string]pyResult, error) {
	type file struct {
		Name   string `json:"name"`
		Source string `json:"source"`
	}
	req := struct {
		Files []file `json:"files"`
	}{}
	for p, b := range files {
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("%s is not valid UTF-8", p)
		}
		req.Files = append(req.Files, file{p, string(b)})
	}
	line, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("dagcheck --serve: %w", err)
	}
	answer, err := s.out.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("dagcheck --serve: %w", err)
	}
	var resp struct {
		Results []pyResult `json:"results"`
	}
	if err := json.Unmarshal(answer, &resp); err != nil {
		return nil, fmt.Errorf("dagcheck --serve answered %q: %w", answer, err)
	}
	out := map[string]pyResult{}
	for _, r := range resp.Results {
		out[r.Name] = r
	}
	if len(out) != len(files) {
		return nil, fmt.Errorf("dagcheck --serve answered for %d of %d files", len(out), len(files))
	}
	return out, nil
}

func (s *pyServer) close() {
	s.in.Close()
	_ = s.cmd.Wait()
}
