package lint

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/datasurface/datasurface/model"
)

func TestUniqueNames(t *testing.T) {
	refs := func(names ...string) []model.Ref {
		var rs []model.Ref
		for _, n := range names {
			rs = append(rs, model.Ref{Name: n})
		}
		return rs
	}
	assert.Nil(t, uniqueNames(nil))
	assert.Equal(t, []string{"cpi", "public"}, uniqueNames(refs("cpi", "public", "cpi", "public")))
	var many, want []string
	for i := 0; i < 40; i++ {
		n := string(rune('a'+i%26)) + string(rune('a'+i/26))
		many = append(many, n, n)
		want = append(want, n)
	}
	assert.Equal(t, want, uniqueNames(refs(append(many, "aa", "zz", "ab")...)[:80]))
	assert.Equal(t, append(want, "zz"), uniqueNames(refs(append(many, "aa", "zz", "ab")...)))
}

func TestLazilyBuildsThePathOnlyForProblems(t *testing.T) {
	l := &linter{}
	built := 0
	path := func() string { built++; return "the/path" }
	l.lazily(path, func(p string) {})
	assert.Zero(t, built)
	l.lazily(path, func(p string) { l.errorf("x", model.Pos{}, p, "bad") })
	assert.Equal(t, 1, built)
	assert.Equal(t, []Problem{{Code: "x", Severity: Error, Message: "bad", Path: "the/path"}}, l.problems)
}
