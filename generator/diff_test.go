package generator

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var hunkRE = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$`)

// applyDiff applies a unified diff to a, checking every context and
// removed line against a and every hunk's counts, and returns the result.
func applyDiff(t *testing.T, a []string, diff string) []string {
	t.Helper()
	lines := strings.SplitAfter(diff, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	require.GreaterOrEqual(t, len(lines), 3, diff)
	require.True(t, strings.HasPrefix(lines[0], "--- ") && strings.HasPrefix(lines[1], "+++ "), diff)
	var out []string
	next := 0 // the next line of a not yet copied
	num := func(s string, def int) int {
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		return n
	}
	for i := 2; i < len(lines); {
		m := hunkRE.FindStringSubmatch(strings.TrimSuffix(lines[i], "\n"))
		require.NotNil(t, m, "hunk header expected: %q", lines[i])
		aStart, aLen, bLen := num(m[1], 0), num(m[2], 1), num(m[4], 1)
		if aLen > 0 {
			aStart-- // 1-based, except for an empty range
		}
		require.GreaterOrEqual(t, aStart, next, "hunks in order, not overlapping")
		out = append(out, a[next:aStart]...)
		next = aStart
		gotA, gotB := 0, 0
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "@@ "); i++ {
			l := lines[i]
			switch l[0] {
			case ' ':
				require.Equal(t, a[next], l[1:])
				out = append(out, l[1:])
				next, gotA, gotB = next+1, gotA+1, gotB+1
			case '-':
				require.Equal(t, a[next], l[1:])
				next, gotA = next+1, gotA+1
			case '+':
				out = append(out, l[1:])
				gotB++
			default:
				t.Fatalf("bad diff line %q", l)
			}
		}
		require.Equal(t, aLen, gotA, "hunk's old length")
		require.Equal(t, bLen, gotB, "hunk's new length")
	}
	return append(out, a[next:]...)
}

func linesOf(s ...string) []string {
	out := make([]string, len(s))
	for i, l := range s {
		out[i] = l + "\n"
	}
	return out
}

// TestUnifiedDiffIsAPatch diffs random files (few distinct lines, so that
// repeats are common, and many, so that anchors are) and applies each diff.
func TestUnifiedDiffIsAPatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		alphabet := 2 + rng.IntN(40)
		gen := func(n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("line %d\n", rng.IntN(alphabet))
			}
			return out
		}
		a := gen(rng.IntN(60))
		b := append([]string(nil), a...)
		for range rng.IntN(8) { // edits: change, insert, delete
			switch k := rng.IntN(3); {
			case len(b) == 0 || k == 0:
				at := rng.IntN(len(b) + 1)
				b = append(b[:at], append(gen(1+rng.IntN(4)), b[at:]...)...)
			case k == 1:
				b[rng.IntN(len(b))] = gen(1)[0]
			default:
				at := rng.IntN(len(b))
				b = append(b[:at], b[min(len(b), at+1+rng.IntN(3)):]...)
			}
		}
		d := unifiedDiff(a, b, "a/x", "b/x", DiffContext)
		if strings.Join(a, "") == strings.Join(b, "") {
			assert.Empty(t, d, "iteration %d", iter)
			continue
		}
		require.Equal(t, strings.Join(b, ""), strings.Join(applyDiff(t, a, d), ""), "iteration %d:\n%s", iter, d)
	}
}

// TestUnifiedDiffLikeDifflib: where the match is unambiguous the diff is
// byte for byte the one difflib (the plan's earlier differ) writes.
func TestUnifiedDiffLikeDifflib(t *testing.T) {
	var long []string
	for i := range 40 {
		long = append(long, fmt.Sprintf("row %d\n", i))
	}
	changed := func(at ...int) []string {
		out := append([]string(nil), long...)
		for _, i := range at {
			out[i] = "changed " + out[i]
		}
		return out
	}
	for _, tc := range []struct {
		name string
		a, b []string
	}{
		{"added file", nil, linesOf("a", "b", "c")},
		{"removed file", linesOf("a", "b"), nil},
		{"one line changed", linesOf("a", "b", "c", "d", "e", "f", "g", "h"), linesOf("a", "b", "c", "D", "e", "f", "g", "h")},
		{"two hunks", long, changed(3, 30)},
		{"hunks merged across 6 lines", long, changed(10, 17)},
		{"hunks split across 7 lines", long, changed(10, 18)},
		{"insert and delete", long[:20], append(append(append([]string(nil), long[:5]...), "new\n"), long[7:20]...)},
		{"no newline at the end", linesOf("a", "b"), []string{"a\n", "b\n\\ No newline at end of file\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: tc.a, B: tc.b, FromFile: "a/f", ToFile: "b/f", Context: DiffContext})
			require.NoError(t, err)
			assert.Equal(t, want, unifiedDiff(tc.a, tc.b, "a/f", "b/f", DiffContext))
		})
	}
}

// TestUnifiedDiffIsLinear: 20,000 changed lines among 100,000 (a job spec
// whose every column widens) were minutes with difflib.
func TestUnifiedDiffIsLinear(t *testing.T) {
	var a, b []string
	for i := range 20000 {
		for _, l := range []string{"{\n", fmt.Sprintf("  \"name\": \"c%d\",\n", i), "  \"type\": \"int32\",\n", "  \"nullable\": true\n", "},\n"} {
			a = append(a, l)
			b = append(b, strings.Replace(l, "int32", "int64", 1))
		}
	}
	// A quadratic diff shows as this test running into its timeout;
	// speed itself is for benchmarks, not assertions.
	d := unifiedDiff(a, b, "a/f", "b/f", DiffContext)
	assert.Equal(t, 20000, strings.Count(d, "\n-  \"type\": \"int32\""), "each changed line once, minimally")
	assert.Equal(t, 20000, strings.Count(d, "\n+  \"type\": \"int64\""))
	require.Equal(t, b, applyDiff(t, a, d))
}
