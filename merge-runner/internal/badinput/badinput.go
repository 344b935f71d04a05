// Package badinput is the error type for input that will not get better by
// retrying: an undecodable event, a missing key, a value that does not fit
// its column, a landed object whose name does not parse. The merge-runner
// stops the batch on such an error, commits nothing and exits with
// jobspec.BadInputExitCode.
//
// The error names the object (file or S3 key) and, when it is about one
// event, the line number in the object and the event's partition and offset.
package badinput

import (
	"errors"
	"strconv"
	"strings"
)

// Error is bad input at a place in the landed data.
type Error struct {
	// Object is the file path or object key.
	Object string
	// Line is the 1-based line number in the object; 0 when the error is
	// about the object as a whole.
	Line int
	// Partition and Offset locate the event; meaningful when Line > 0.
	Partition int32
	Offset    int64
	// Column is the column (a dotted path for nested fields) the error is
	// about, if any.
	Column string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("bad input: ")
	b.WriteString(e.Object)
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(" (partition ")
		b.WriteString(strconv.FormatInt(int64(e.Partition), 10))
		b.WriteString(", offset ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
		b.WriteString(")")
	}
	b.WriteString(": ")
	if e.Column != "" {
		b.WriteString("column ")
		b.WriteString(strconv.Quote(e.Column))
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Is reports whether err is (or wraps) bad input.
func Is(err error) bool {
	_, ok := As(err)
	return ok
}
