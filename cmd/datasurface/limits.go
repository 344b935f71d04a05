package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/model"
)

// limitFlags are the loader's limits (model.Limits), on every command that
// reads a model: the same defaults everywhere, so that what check accepts the
// others accept too. Raise one for all of them or for none.
type limitFlags struct {
	file, total, text byteSize
	depth             positiveInt
}

func (l *limitFlags) register(cmd *cobra.Command) {
	f, d := cmd.Flags(), model.DefaultLimits
	l.file, l.total, l.text, l.depth = byteSize(d.FileBytes), byteSize(d.ModelBytes), byteSize(d.TextBytes), positiveInt(d.Depth)
	f.Var(&l.file, model.FlagMaxFileBytes, "the most one model file may be (bytes, KiB, MiB or GiB)")
	f.Var(&l.total, model.FlagMaxModelBytes, "the most all model files together may be")
	f.Var(&l.text, model.FlagMaxTextBytes, "the longest a value in a model file may be (documentation included)")
	f.Var(&l.depth, model.FlagMaxDepth, "how deep mappings and lists may nest in a model file")
}

func (l *limitFlags) limits() model.Limits {
	return model.Limits{FileBytes: int64(l.file), ModelBytes: int64(l.total), TextBytes: int(min(int64(l.text), 1<<30)), Depth: int(l.depth)}
}

// byteSize is a flag holding a size: bytes, or KiB, MiB, GiB.
type byteSize int64

func (b *byteSize) String() string { return model.FormatBytes(int64(*b)) }
func (b *byteSize) Type() string   { return "size" }
func (b *byteSize) Set(s string) error {
	n, err := model.ParseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// positiveInt is a flag holding a whole number above zero.
type positiveInt int

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }
func (p *positiveInt) Type() string   { return "int" }
func (p *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a whole number above 0", s)
	}
	*p = positiveInt(n)
	return nil
}
