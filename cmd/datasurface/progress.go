package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/model"
)

// progress tells a person at a terminal what a long command is doing, on
// stderr, so that stdout carries only the result (a summary a script can
// read, or the plan). --quiet silences it; warnings and errors are printed
// either way.
type progress struct {
	w     io.Writer
	name  string
	start time.Time
	step  time.Time
}

// newProgress starts the clock of one command. A quiet progress writes
// nothing.
func newProgress(cmd *cobra.Command, quiet bool) *progress {
	p := &progress{w: cmd.ErrOrStderr(), name: cmd.Name(), start: time.Now()}
	p.step = p.start
	if quiet {
		p.w = io.Discard
	}
	return p
}

// begin says what the command starts doing now.
func (p *progress) begin(format string, args ...any) {
	p.step = time.Now()
	fmt.Fprintf(p.w, "%s: %s ...\n", p.name, fmt.Sprintf(format, args...))
}

// done says what the step since the last begin achieved and how long it
// took.
func (p *progress) done(format string, args ...any) {
	now := time.Now()
	fmt.Fprintf(p.w, "%s: %s (%s)\n", p.name, fmt.Sprintf(format, args...), seconds(now.Sub(p.step)))
	p.step = now
}

// finish says the command is done and how long it took in all.
func (p *progress) finish(format string, args ...any) {
	fmt.Fprintf(p.w, "%s: %s (%s in all)\n", p.name, fmt.Sprintf(format, args...), seconds(time.Since(p.start)))
}

// loaded reports a loaded model's size; m may be nil when it could not be
// read.
func (p *progress) loaded(what string, m *model.Model) {
	if m == nil {
		p.done("%s could not be read", what)
		return
	}
	files, datasets, columns := modelSize(m)
	p.done("loaded %s: %s, %s, %s", what, count(files, "file"), count(datasets, "dataset"), count(columns, "column"))
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// count writes n and a noun, plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// listChanges writes one line per added, changed and removed file, for
// --list.
func listChanges(w io.Writer, added, changed, removed []string) {
	for _, p := range added {
		fmt.Fprintln(w, "added  ", p)
	}
	for _, p := range changed {
		fmt.Fprintln(w, "changed", p)
	}
	for _, p := range removed {
		fmt.Fprintln(w, "removed", p)
	}
}
