package lint

import "github.com/datasurface/datasurface/model"

// Helpers that keep the rules' hot loops cheap on large models (hundreds of
// thousands of columns): paths built only for objects that have problems,
// scratch maps reused, per-platform results computed once. None changes what
// the rules report.

// lazily runs check with an empty path and, only if it reports a problem,
// runs it again with path(): the objects without problems, nearly all of
// them, then cost no path string. check must only add problems, so that
// running it twice is the same as running it once.
func (l *linter) lazily(path func() string, check func(path string)) {
	n := len(l.problems)
	check("")
	if len(l.problems) > n {
		l.problems = l.problems[:n]
		check(path())
	}
}

// takeSeen and putSeen recycle the maps that scopes of columns use.
func (l *linter) takeSeen() map[string]model.Pos {
	if n := len(l.seenPool); n > 0 {
		m := l.seenPool[n-1]
		l.seenPool = l.seenPool[:n-1]
		return m
	}
	return make(map[string]model.Pos, 32)
}

func (l *linter) putSeen(m map[string]model.Pos) {
	// A map grown by a very wide dataset would make every later clear slow: drop it.
	if m == nil || len(m) > 64 {
		return
	}
	clear(m)
	l.seenPool = append(l.seenPool, m)
}
