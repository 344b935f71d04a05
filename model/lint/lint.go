// Package lint checks a loaded model and reports every problem it finds, each
// with a stable code, a severity, a message that says what to do, the
// file:line:column and the path of the object it concerns.
//
// The rules are grouped in families, one file each: names, layout,
// references, schema, capture, policies, deprecation and platforms.
package lint

import (
	"fmt"
	"sort"
	"sync"

	"github.com/datasurface/datasurface/model"
)

// Severity of a problem.
type Severity string

// Severities, most severe first.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Problem is one finding.
type Problem struct {
	Code     string    `json:"code"`
	Severity Severity  `json:"severity"`
	Message  string    `json:"message"`
	Pos      model.Pos `json:"-"`
	Path     string    `json:"path"`
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s %s: %s [%s]", p.Pos, p.Severity, p.Code, p.Message, p.Path)
}

// Lint runs every rule over the model. Problems come back ordered by file,
// line, column and code.
func Lint(m *model.Model) []Problem {
	ix := newIndex(m)
	families := []func(*linter){
		(*linter).names,
		(*linter).layout,
		(*linter).references,
		(*linter).schemas,
		(*linter).captures,
		(*linter).policies,
		(*linter).consumers,
		(*linter).platforms,
		(*linter).transformers,
		(*linter).migrations,
	}
	// The families run concurrently, each with its own linter; their
	// problems are joined in the order above, so that the (stable) sort
	// gives exactly what running them one after the other would.
	linters := make([]*linter, len(families))
	panics := make([]any, len(families))
	var wg sync.WaitGroup
	for i, family := range families {
		linters[i] = &linter{m: m, ix: ix}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			family(linters[i])
		}()
	}
	wg.Wait()
	var problems []Problem
	for i, l := range linters {
		if panics[i] != nil {
			panic(panics[i])
		}
		problems = append(problems, l.problems...)
	}
	Sort(problems)
	return problems
}

// Sort orders problems by file, line, column and code.
func Sort(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Code < b.Code
	})
}

// Count returns how many problems have each severity.
func Count(ps []Problem) (errors, warnings, infos int) {
	for _, p := range ps {
		switch p.Severity {
		case Error:
			errors++
		case Warning:
			warnings++
		default:
			infos++
		}
	}
	return
}

// linter runs one family of rules. The families run concurrently, sharing
// the model and the index: rules only read them.
type linter struct {
	m        *model.Model
	ix       *index
	problems []Problem

	seenPool   []map[string]model.Pos                 // see takeSeen
	platformCs map[*model.Platform][]*model.Container // see platformContainers
}

func (l *linter) add(sev Severity, code string, pos model.Pos, path string, format string, args ...any) {
	l.problems = append(l.problems, Problem{Code: code, Severity: sev, Message: fmt.Sprintf(format, args...), Pos: pos, Path: path})
}

func (l *linter) errorf(code string, pos model.Pos, path string, format string, args ...any) {
	l.add(Error, code, pos, path, format, args...)
}

func (l *linter) warnf(code string, pos model.Pos, path string, format string, args ...any) {
	l.add(Warning, code, pos, path, format, args...)
}

func (l *linter) infof(code string, pos model.Pos, path string, format string, args ...any) {
	l.add(Info, code, pos, path, format, args...)
}

// refPos is where to point for a reference: the reference itself when it was
// written, else the object that lacks it.
func refPos(r model.Ref, fallback model.Pos) model.Pos {
	if r.Pos.File != "" {
		return r.Pos
	}
	return fallback
}
