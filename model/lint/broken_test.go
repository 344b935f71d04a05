package lint_test

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// The broken corpus: testdata/broken/<case>/ is one small, complete model per
// case. Every problem the case is expected to produce is marked with a YAML
// comment on the line it is reported at:
//
//	columns: [{name: select, type: int32}]   # want: name-reserved
//
// (several codes separated by spaces when several are reported on the line,
// a code repeated when it is reported more than once). A problem reported in
// a file that cannot carry a comment (a missing ecosystem.yaml) is listed in
// the case's want.txt as `path:line code...`.
//
// A case whose expectations are load-... codes is expected not to load; its
// load errors are compared. Any other case must load and its lint problems
// (errors, warnings and infos alike) are compared. The case `clean` expects
// nothing at all: it is the model the other cases are variations of.
const brokenDir = "testdata/broken"

// finding is what the corpus compares: where and which code.
type finding struct {
	File string
	Line int
	Code string
}

func (f finding) String() string { return fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Code) }

var wantRE = regexp.MustCompile(`#\s*want:(.*)$`)

// readWants collects a case's expectations, counting repeats.
func readWants(t *testing.T, dir string) map[finding]int {
	t.Helper()
	want := map[finding]int{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel := filepath.ToSlash(must(filepath.Rel(dir, p)))
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			if rel == "want.txt" {
				if text = strings.TrimSpace(text); text == "" || strings.HasPrefix(text, "#") {
					continue
				}
				loc, codes, ok := strings.Cut(text, " ")
				file, ln, ok2 := strings.Cut(loc, ":")
				n, err := strconv.Atoi(ln)
				require.True(t, ok && ok2 && err == nil, "%s:%d: write path:line code...", p, line)
				for _, c := range strings.Fields(codes) {
					want[finding{file, n, c}]++
				}
				continue
			}
			if m := wantRE.FindStringSubmatch(text); m != nil {
				codes := strings.Fields(m[1])
				require.NotEmpty(t, codes, "%s:%d: '# want:' without a code", p, line)
				for _, c := range codes {
					want[finding{rel, line, c}]++
				}
			}
		}
		return sc.Err()
	})
	require.NoError(t, err)
	return want
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// reported loads a case and returns what it reports: its load errors if it
// does not load, else its lint problems. detail maps a finding to messages.
func reported(t *testing.T, dir string) (got map[finding]int, detail map[finding][]string, loadFailed bool) {
	t.Helper()
	m, errs, err := model.LoadDir(context.Background(), dir)
	require.NoError(t, err)
	got, detail = map[finding]int{}, map[finding][]string{}
	prefix := filepath.ToSlash(dir) + "/"
	add := func(pos model.Pos, code, msg string) {
		require.True(t, strings.HasPrefix(pos.File, prefix), "%s reported at %q, outside the case", code, pos)
		f := finding{strings.TrimPrefix(pos.File, prefix), int(pos.Line), code}
		got[f]++
		detail[f] = append(detail[f], msg)
	}
	if len(errs) > 0 {
		for _, e := range errs {
			add(e.Pos, e.Code, "load error: "+e.Msg)
		}
		return got, detail, true
	}
	for _, p := range lint.Lint(m) {
		add(p.Pos, p.Code, string(p.Severity)+": "+p.Message)
	}
	return got, detail, false
}

func brokenCases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(brokenDir)
	require.NoError(t, err)
	var cases []string
	for _, e := range entries {
		if e.IsDir() {
			cases = append(cases, e.Name())
		}
	}
	require.NotEmpty(t, cases)
	return cases
}

func TestBrokenCorpus(t *testing.T) {
	for _, name := range brokenCases(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(brokenDir, name)
			want := readWants(t, dir)
			if name != "clean" {
				require.NotEmpty(t, want, "case %s marks no expected problem; add '# want: <code>' comments", name)
			}
			expectLoadFailure := false
			for f := range want {
				if strings.HasPrefix(f.Code, "load-") {
					expectLoadFailure = true
				}
			}
			got, detail, loadFailed := reported(t, dir)
			assert.Equal(t, expectLoadFailure, loadFailed, "load errors expected: %v, model failed to load: %v", expectLoadFailure, loadFailed)

			var missing, unexpected []string
			for f, n := range want {
				for i := got[f]; i < n; i++ {
					missing = append(missing, f.String())
				}
			}
			for f, n := range got {
				for i := want[f]; i < n; i++ {
					unexpected = append(unexpected, f.String()+": "+strings.Join(detail[f], " | "))
				}
			}
			sort.Strings(missing)
			sort.Strings(unexpected)
			assert.Empty(t, missing, "expected problems that were not reported")
			assert.Empty(t, unexpected, "reported problems that no '# want:' expects")
		})
	}
}

// emittedCodes scans the Go sources for every code that can be reported: the
// lint rules' errorf/warnf/infof calls and the loader's load-... codes.
func emittedCodes(t *testing.T) map[string][]string {
	t.Helper()
	lintRE := regexp.MustCompile(`\b(?:errorf|warnf|infof)\(\s*"([a-z0-9-]+)"`)
	loadRE := regexp.MustCompile(`"(load-[a-z0-9-]+)"`)
	codes := map[string][]string{}
	err := filepath.WalkDir("..", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		re := loadRE
		if filepath.Dir(p) == filepath.Join("..", "lint") {
			re = lintRE // this package: the lint rules
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if where := filepath.ToSlash(p); !slices.Contains(codes[m[1]], where) {
				codes[m[1]] = append(codes[m[1]], where)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return codes
}

// annotatedCodes is every code some case of the corpus expects.
func annotatedCodes(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, name := range brokenCases(t) {
		for f := range readWants(t, filepath.Join(brokenDir, name)) {
			out[f.Code] = true
		}
	}
	return out
}

// TestBrokenCorpusCoversEveryCode fails when a code the sources can report
// is expected by no case, so that a new rule comes with its broken model.
func TestBrokenCorpusCoversEveryCode(t *testing.T) {
	emitted := emittedCodes(t)
	// Guard against a scan that finds nothing and so checks nothing.
	var lintCodes, loadCodes int
	for c := range emitted {
		if strings.HasPrefix(c, "load-") {
			loadCodes++
		} else {
			lintCodes++
		}
	}
	require.GreaterOrEqual(t, lintCodes, 50, "the scan of the lint sources found too few codes: %v", emitted)
	require.GreaterOrEqual(t, loadCodes, 7, "the scan of the loader sources found too few codes: %v", emitted)

	annotated := annotatedCodes(t)
	var uncovered, unknown []string
	for c, where := range emitted {
		if !annotated[c] {
			uncovered = append(uncovered, c+" (emitted in "+strings.Join(where, ", ")+")")
		}
	}
	for c := range annotated {
		if emitted[c] == nil {
			unknown = append(unknown, c)
		}
	}
	sort.Strings(uncovered)
	sort.Strings(unknown)
	assert.Empty(t, uncovered, "codes no case of %s expects; add a case with '# want: <code>'", brokenDir)
	assert.Empty(t, unknown, "codes the corpus expects but no source emits (typo, or a removed rule)")
}
