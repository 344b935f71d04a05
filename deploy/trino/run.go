package trino

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Options tune Run.
type Options struct {
	// DryRun prints the statements instead of sending them.
	DryRun bool
	// Out receives one line per statement run (or, in a dry run, the
	// statements themselves, as SQL).
	Out io.Writer
}

// Failure is the statement that stopped a run.
type Failure struct {
	File string
	// Index is the statement's 1-based position in its file, of Count.
	Index, Count int
	Statement    Statement
	Err          error
}

func (f *Failure) Error() string {
	line := f.Statement.Line
	var qf *QueryFailed
	if errors.As(f.Err, &qf) && qf.Err.ErrorLocation != nil && qf.Err.ErrorLocation.LineNumber > 0 {
		line += qf.Err.ErrorLocation.LineNumber - 1 // the location is relative to the statement
	}
	return fmt.Sprintf("%s:%d: statement %d of %d failed: %s: %v", f.File, line, f.Index, f.Count, Shorten(f.Statement.SQL, 120), f.Err)
}

func (f *Failure) Unwrap() error { return f.Err }

// Run runs every statement of every file in order, each file in a session
// of its own (a USE or SET SESSION lasts until the end of its file), and
// stops at the first statement that fails, returning a *Failure. It
// returns how many statements ran.
func Run(ctx context.Context, c *Client, files []File, opt Options) (int, error) {
	out := opt.Out
	if out == nil {
		out = io.Discard
	}
	total := 0
	for _, f := range files {
		total += len(f.Statements)
	}
	if opt.DryRun {
		for _, f := range files {
			for i, s := range f.Statements {
				fmt.Fprintf(out, "-- %s:%d (statement %d of %d)\n%s;\n\n", f.Path, s.Line, i+1, len(f.Statements), s.SQL)
			}
		}
		fmt.Fprintf(out, "-- dry run, nothing sent: %d statements from %d files\n", total, len(files))
		return 0, nil
	}
	ran := 0
	for _, f := range files {
		sess := &Session{}
		for i, s := range f.Statements {
			if err := ctx.Err(); err != nil {
				return ran, err
			}
			res, err := c.Exec(ctx, sess, s.SQL)
			if err != nil {
				return ran, &Failure{File: f.Path, Index: i + 1, Count: len(f.Statements), Statement: s, Err: err}
			}
			ran++
			what := res.UpdateType
			if what == "" {
				what = res.State
			}
			fmt.Fprintf(out, "%s:%d: %s: %s\n", f.Path, s.Line, what, Shorten(s.SQL, 100))
		}
	}
	fmt.Fprintf(out, "%d statements from %d files ran\n", ran, len(files))
	return ran, nil
}
