package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

// Limits bound what the loader reads, so that no input makes a command use
// memory or time out of proportion to a real model. A zero field takes its
// default.
//
// The defaults leave room above the largest model measured (100,000
// datasets: 21,886 files, 74.5 MiB, the largest file 10 KiB, the longest
// value a few hundred bytes, nesting 10 deep) while keeping the cost of a
// refused input, and of any accepted one, bounded: loading takes about five
// times the model's size in memory, so a model at the limit validates in
// about 650 MiB.
type Limits struct {
	// FileBytes is the size of one model file (default 4 MiB).
	FileBytes int64
	// ModelBytes is the size of all model files together (default 128 MiB).
	ModelBytes int64
	// TextBytes is the length of one value in a model file, documentation
	// and descriptions included (default 64 KiB); the generated artifacts
	// carry documentation, so this also bounds what one value adds to them.
	TextBytes int
	// Depth is how deep mappings and lists may nest in one file (default 64;
	// a struct column nested 30 deep is about 60).
	Depth int
}

// DefaultLimits are the limits the commands apply unless told otherwise.
var DefaultLimits = Limits{FileBytes: 4 << 20, ModelBytes: 128 << 20, TextBytes: 64 << 10, Depth: 64}

// withDefaults fills the zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	if l.FileBytes <= 0 {
		l.FileBytes = DefaultLimits.FileBytes
	}
	if l.ModelBytes <= 0 {
		l.ModelBytes = DefaultLimits.ModelBytes
	}
	if l.TextBytes <= 0 {
		l.TextBytes = DefaultLimits.TextBytes
	}
	if l.Depth <= 0 {
		l.Depth = DefaultLimits.Depth
	}
	return l
}

// The flags that raise each limit, named in the errors.
const (
	FlagMaxFileBytes  = "max-file-bytes"
	FlagMaxModelBytes = "max-model-bytes"
	FlagMaxTextBytes  = "max-text-bytes"
	FlagMaxDepth      = "max-depth"
)

// FormatBytes writes a size the way ParseBytes reads it: in KiB, MiB or GiB
// when it is a whole number of them.
func FormatBytes(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// ParseBytes reads a size: a whole number of bytes, optionally followed by
// B, KiB, MiB or GiB (K, M, G and KB, MB, GB mean the same powers of 1024).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffixes []string
		size     int64
	}{{[]string{"GiB", "GB", "G"}, 1 << 30}, {[]string{"MiB", "MB", "M"}, 1 << 20}, {[]string{"KiB", "KB", "K"}, 1 << 10}, {[]string{"B"}, 1}} {
		found := false
		for _, suf := range u.suffixes {
			if len(t) > len(suf) && strings.EqualFold(t[len(t)-len(suf):], suf) {
				t, mult, found = strings.TrimSpace(t[:len(t)-len(suf)]), u.size, true
				break
			}
		}
		if found {
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size: write a positive whole number of bytes, or of KiB, MiB or GiB (e.g. 4MiB)", s)
	}
	return n * mult, nil
}

// tooLargeError is a file over the per-file limit; size is -1 when the file
// grew past the limit while it was read.
type tooLargeError struct {
	size, limit int64
}

func (e *tooLargeError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("the file grew past %s while it was read", FormatBytes(e.limit))
	}
	return fmt.Sprintf("the file is %d bytes, more than %s", e.size, FormatBytes(e.limit))
}

// fileLimitError is the load error for a file over the per-file limit.
func fileLimitError(display string, err *tooLargeError) *LoadError {
	return &LoadError{Pos: Pos{File: display, Line: 1, Col: 1}, Code: "load-limit",
		Msg: err.Error() + ", the limit for one model file (--" + FlagMaxFileBytes + "); split it (a datastore or workspace per file) or shorten its documentation"}
}

// modelLimitError is the load error for a model over the total limit.
func modelLimitError(display string, limit int64) *LoadError {
	return &LoadError{Pos: Pos{File: display, Line: 1, Col: 1}, Code: "load-limit",
		Msg: "the model's files add up to more than " + FormatBytes(limit) + ", the limit for a whole model (--" + FlagMaxModelBytes + "); nothing was checked. Raise the limit for every command that reads the model if it is this large on purpose"}
}

// limitRemedy completes a parser's limit message with what to do.
func limitRemedy(limit string) string {
	switch limit {
	case yamlnode.LimitDepth:
		return " (--" + FlagMaxDepth + "); flatten the nesting"
	case yamlnode.LimitText:
		return " (--" + FlagMaxTextBytes + "); shorten it, e.g. link to longer documentation instead of including it"
	}
	return ""
}

var errNotRegular = errors.New("not a regular file")
