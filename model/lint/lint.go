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
	l := &linter{m: m, ix: newIndex(m)}
	l.names()
	l.layout()
	l.references()
	l.schemas()
	l.captures()
	l.policies()
	l.consumers()
	l.platforms()
	Sort(l.problems)
	return l.problems
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

type linter struct {
	m        *model.Model
	ix       *index
	problems []Problem
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
