package yamlnode

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDepthLimit: a document nesting exactly MaxDepth collections parses to
// yaml.v3's tree; one more is refused at the collection that passes it, in
// every style of collection.
func TestDepthLimit(t *testing.T) {
	const max = 4
	cases := []struct {
		ok, over string
		line     int
		col      int
	}{
		{"a:\n b:\n  c:\n   d: 1\n", "a:\n b:\n  c:\n   d:\n    e: 1\n", 5, 5},
		{"- - - - x\n", "- - - - - x\n", 1, 9},
		{"[[[[x]]]]\n", "[[[[[x]]]]]\n", 1, 5},
		{"{a: {b: {c: {d: x}}}}\n", "{a: {b: {c: {d: {e: x}}}}}\n", 1, 17},
		{"a:\n- b:\n  - c\n", "a:\n- b:\n  - [c]\n", 3, 5},
		{"[[[k: v]]]\n", "[[[[k: v]]]]\n", 1, 5},
		{"a:\n  - b: [x]\n", "a:\n  - b: [[x]]\n", 2, 9},
	}
	yp := &Parser{MaxDepth: max}
	for _, tc := range cases {
		got, err := yp.Parse("f.yaml", []byte(tc.ok))
		require.NoError(t, err, tc.ok)
		want, err := parseReference("f.yaml", []byte(tc.ok))
		require.NoError(t, err, tc.ok)
		assert.Empty(t, diffNodes("$", want, got), tc.ok)

		_, err = yp.Parse("f.yaml", []byte(tc.over))
		var e *Error
		require.True(t, errors.As(err, &e), "%q: %v", tc.over, err)
		assert.Equal(t, LimitDepth, e.Limit, tc.over)
		assert.Equal(t, []int{tc.line, tc.col}, []int{e.Line, e.Column}, "%q: %v", tc.over, err)
		assert.Contains(t, e.Msg, "more than 4 deep")

		// The parser is reused after a refusal: the count starts again.
		_, err = yp.Parse("f.yaml", []byte(tc.ok))
		require.NoError(t, err, tc.ok)
	}
	// Without a limit, only yaml.v3's own depth limit applies.
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	_, err := Parse("f.yaml", []byte(deep))
	require.NoError(t, err)
	_, err = (&Parser{MaxDepth: 64}).Parse("f.yaml", []byte(deep))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, []int{1, 65}, []int{e.Line, e.Column})
}

// TestScalarLimit: a key or value of MaxScalar bytes is kept whole; one byte
// more is refused at the scalar's start, whatever its style, counting the
// bytes of the value (after folding and escapes), not of the source.
func TestScalarLimit(t *testing.T) {
	const max = 10
	ten := strings.Repeat("x", 10)
	cases := []struct {
		ok, over string
		line     int
		col      int
	}{
		{"a: " + ten + "\n", "a: " + ten + "y\n", 1, 4},
		{ten + ": a\n", ten + "y: a\n", 1, 1},
		{"a: 'xxxxx''xxxx'\n", "a: 'xxxxx''xxxxx'\n", 1, 4},
		{"a: \"\\u00e9xxxxxxxx\"\n", "a: \"\\u00e9xxxxxxxxx\"\n", 1, 4},
		{"a: xxxx\n  xxxxx\n", "a: xxxx\n  xxxxxx\n", 1, 4},
		{"a: |\n  xxxxxxxxx\n", "a: |\n  xxxxxxxxxx\n", 1, 4},
		{"a: >-\n  xxxx\n  xxxxx\n", "a: >-\n  xxxx\n  xxxxxx\n", 1, 4},
		{"- [a, " + ten + "]\n", "- [a, " + ten + "y]\n", 1, 7},
	}
	yp := &Parser{MaxScalar: max}
	for _, tc := range cases {
		got, err := yp.Parse("f.yaml", []byte(tc.ok))
		require.NoError(t, err, tc.ok)
		want, err := parseReference("f.yaml", []byte(tc.ok))
		require.NoError(t, err, tc.ok)
		assert.Empty(t, diffNodes("$", want, got), tc.ok)

		_, err = yp.Parse("f.yaml", []byte(tc.over))
		var e *Error
		require.True(t, errors.As(err, &e), "%q: %v", tc.over, err)
		assert.Equal(t, LimitText, e.Limit, tc.over)
		assert.Equal(t, []int{tc.line, tc.col}, []int{e.Line, e.Column}, "%q: %v", tc.over, err)
		assert.Contains(t, e.Msg, "11 bytes long, more than the 10")
	}
}
