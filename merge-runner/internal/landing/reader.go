package landing

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
)

// Record is one landed event line.
type Record struct {
	// Object is the key of the object the line is in.
	Object string
	// Line is the 1-based line number in the object.
	Line      int
	Partition int32
	// Offset is the object's start offset plus the line's 0-based index.
	Offset int64
	// Data is the line without its line ending. It is valid only until the
	// next call to Next.
	Data []byte
}

// Reader streams the events of a topic's files in (partition, offset)
// order, skipping those already applied.
type Reader struct {
	ctx   context.Context
	store Store
	files []File
	pos   Position

	idx  int // index of the next file to open
	file File
	rc   io.ReadCloser
	gz   *gzip.Reader
	br   *bufio.Reader
	line int
	buf  []byte

	skipped int64
}

const readBufSize = 1 << 20

// NewReader reads files (as ListTopic orders them) from the position from:
// lines whose offset is below the position of their partition are skipped,
// and so is a line whose offset was already returned (files that overlap
// after a sink restart).
func NewReader(ctx context.Context, store Store, files []File, from Position) *Reader {
	return &Reader{ctx: ctx, store: store, files: files, pos: from.Clone()}
}

// Position is the position after the last record Next returned: the one to
// commit with the data of every record returned so far.
func (r *Reader) Position() Position { return r.pos.Clone() }

// Skipped is how many lines were skipped as already applied.
func (r *Reader) Skipped() int64 { return r.skipped }

// Next returns the next event to apply, or io.EOF after the last one.
// Errors in the data (a corrupt gzip stream, an empty line) are
// *badinput.Error; errors reaching the store are returned as they are.
func (r *Reader) Next() (Record, error) {
	for {
		if r.br == nil {
			if r.idx >= len(r.files) {
				return Record{}, io.EOF
			}
			if err := r.open(r.files[r.idx]); err != nil {
				return Record{}, err
			}
			r.idx++
		}
		data, err := r.readLine()
		if err == io.EOF {
			if err := r.closeFile(); err != nil {
				return Record{}, err
			}
			continue
		}
		if err != nil {
			return Record{}, err
		}
		r.line++
		off := r.file.StartOffset + int64(r.line-1)
		if r.pos.Applied(r.file.Partition, off) {
			r.skipped++
			continue
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return Record{}, &badinput.Error{Object: r.file.Key, Line: r.line, Partition: r.file.Partition, Offset: off, Reason: "empty line"}
		}
		r.pos.Advance(r.file.Partition, off)
		return Record{Object: r.file.Key, Line: r.line, Partition: r.file.Partition, Offset: off, Data: data}, nil
	}
}

// Close releases the open file, if any.
func (r *Reader) Close() error { return r.closeFile() }

func (r *Reader) open(f File) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	rc, err := r.store.Open(r.ctx, f.Key)
	if err != nil {
		return fmt.Errorf("open %s: %w", f.Key, err)
	}
	r.file, r.rc, r.line = f, rc, 0
	var src io.Reader = rc
	if f.Gzip {
		if r.gz == nil {
			r.gz, err = gzip.NewReader(rc)
		} else {
			err = r.gz.Reset(rc)
		}
		switch {
		case err == io.EOF: // an empty object: no lines
			src = bytes.NewReader(nil)
		case err != nil:
			_ = rc.Close()
			r.rc = nil
			return r.readErr(err)
		default:
			src = r.gz
		}
	}
	if r.br == nil {
		r.br = bufio.NewReaderSize(src, readBufSize)
	} else {
		r.br.Reset(src)
	}
	return nil
}

func (r *Reader) closeFile() error {
	var err error
	if r.rc != nil {
		err = r.rc.Close()
		r.rc = nil
	}
	if r.br != nil {
		r.br.Reset(nil)
		r.br = nil
	}
	return err
}

// readLine returns the next line without its ending, or io.EOF at the end
// of the file. A last line without a newline is a line.
func (r *Reader) readLine() ([]byte, error) {
	data, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.buf = append(r.buf[:0], data...)
		for err == bufio.ErrBufferFull {
			data, err = r.br.ReadSlice('\n')
			r.buf = append(r.buf, data...)
		}
		data = r.buf
	}
	if err == io.EOF {
		if len(data) == 0 {
			return nil, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, r.readErr(err)
	}
	data = bytes.TrimSuffix(data, []byte{'\n'})
	data = bytes.TrimSuffix(data, []byte{'\r'})
	return data, nil
}

// readErr classifies a read error: a damaged compressed stream is bad input
// (retrying reads the same bytes); anything else is the store's failure.
func (r *Reader) readErr(err error) error {
	var corrupt flate.CorruptInputError
	if r.file.Gzip && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &corrupt)) {
		return &badinput.Error{Object: r.file.Key, Line: 0, Reason: fmt.Sprintf("damaged gzip stream after line %d", r.line), Err: err}
	}
	return fmt.Errorf("read %s: %w", r.file.Key, err)
}
