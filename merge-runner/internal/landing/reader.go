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
	"time"

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
	// Landed is when the object was stored.
	Landed time.Time
	// Data is the line without its line ending. It is valid only until the
	// next call to Next.
	Data []byte
}

// Limits bound what reading one object may cost; a zero field takes its
// default. A line or an expansion past a limit is bad input naming the
// object, so that a hostile or broken object cannot exhaust memory or time.
type Limits struct {
	// MaxLineBytes is the longest line (default 64 MiB).
	MaxLineBytes int64
	// MaxObjectBytes is the most a compressed object may expand to
	// (default 16 GiB).
	MaxObjectBytes int64
	// MaxCompressionRatio is the most a compressed object may expand
	// relative to the compressed bytes read, judged once it has expanded
	// past RatioFloor (default 250; JSON lines compress 5-50 times, and
	// deflate's own limit is about 1030).
	MaxCompressionRatio int64
}

// Default limits and the expansion below which the ratio is not judged
// (small objects of repetitive lines compress far better than large ones).
const (
	DefaultMaxLineBytes        = 64 << 20
	DefaultMaxObjectBytes      = 16 << 30
	DefaultMaxCompressionRatio = 250
	RatioFloor                 = 64 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = DefaultMaxLineBytes
	}
	if l.MaxObjectBytes <= 0 {
		l.MaxObjectBytes = DefaultMaxObjectBytes
	}
	if l.MaxCompressionRatio <= 0 {
		l.MaxCompressionRatio = DefaultMaxCompressionRatio
	}
	return l
}

// Gap is a missing stretch of a partition: the offsets from Expected up to
// the next landed object's start were not landed (yet).
type Gap struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Expected is the first missing offset: the position cannot move past it.
	Expected int64 `json:"expected_offset"`
	// NextObject is the object after the gap, and NextOffset its start.
	NextObject string `json:"next_object"`
	NextOffset int64  `json:"next_offset"`
	// Since is when the object after the gap landed: how long the gap has
	// been seen.
	Since time.Time `json:"since"`
}

func (g *Gap) String() string {
	return fmt.Sprintf("topic %s partition %d: offsets %d to %d are not landed; the next object is %s (landed %s)",
		g.Topic, g.Partition, g.Expected, g.NextOffset-1, g.NextObject, g.Since.UTC().Format(time.RFC3339))
}

// PartitionReader streams one partition's landed lines in offset order,
// from the next offset to apply. It opens only the objects that may hold
// that offset and those after them; a gap (an object starting past the offsets
// read so far) ends the stream, and an object that repeats offsets an
// earlier one held (a sink restart) is checked line by line against it:
// the repeated lines are skipped when equal and bad input when not.
type PartitionReader struct {
	ctx   context.Context
	store Store
	files []File
	lim   Limits

	next  int64 // the next offset to return
	end   int64 // offsets below end were read in this run (-1: none yet)
	read  []introduced
	idx   int
	file  File
	open  bool
	line  int
	over  int64 // lines of the current file below over repeat earlier ones
	ref   *refLines
	lines lineSource
	gap   *Gap

	skipped int64
}

// introduced is the stretch of offsets an object added to those read
// before it: where repeated offsets are compared against.
type introduced struct {
	file     File
	from, to int64
}

// NewPartitionReader reads files (one partition's, ordered by start offset
// as ListTopic orders them) from offset next.
func NewPartitionReader(ctx context.Context, store Store, files []File, next int64, lim Limits) *PartitionReader {
	r := &PartitionReader{ctx: ctx, store: store, files: files, lim: lim.withDefaults(), next: next, end: -1}
	// Start at the object before the last one starting at or before next:
	// that one may hold next, and the one before it may still reach into
	// it after a sink restart (its repeated offsets are compared). Objects
	// before those are not opened.
	for i, f := range files {
		if f.StartOffset <= next {
			r.idx = max(i-1, 0)
		}
	}
	r.lines.lim = r.lim
	return r
}

// Next is the next offset to return: the position of the partition after
// the records returned so far.
func (r *PartitionReader) Next() int64 { return r.next }

// Gap is the gap the reader stopped at, or nil.
func (r *PartitionReader) Gap() *Gap { return r.gap }

// Skipped is how many lines were skipped as already applied or repeated.
func (r *PartitionReader) Skipped() int64 { return r.skipped }

// Read returns the next record, or io.EOF at the end of the landed data or
// at a gap (then Gap says where). Damaged data is a *badinput.Error; a
// failure to reach the store is returned as it is.
func (r *PartitionReader) Read() (Record, error) {
	for {
		if !r.open {
			if r.gap != nil || r.idx >= len(r.files) {
				return Record{}, io.EOF
			}
			if err := r.openNext(); err != nil {
				return Record{}, err
			}
			continue
		}
		data, err := r.lines.read()
		if err == io.EOF {
			if err := r.closeFile(); err != nil {
				return Record{}, err
			}
			continue
		}
		if err != nil {
			return Record{}, r.lineErr(err)
		}
		r.line++
		off := r.file.StartOffset + int64(r.line-1)
		if off < r.over {
			if err := r.compare(off, data); err != nil {
				return Record{}, err
			}
			r.skipped++
			continue
		}
		if r.ref != nil {
			_ = r.ref.close()
			r.ref = nil
		}
		r.end = max(r.end, off+1)
		if off < r.next {
			r.skipped++
			continue
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return Record{}, &badinput.Error{Object: r.file.Key, Line: r.line, Partition: r.file.Partition, Offset: off, Reason: "empty line"}
		}
		r.next = off + 1
		return Record{Object: r.file.Key, Line: r.line, Partition: r.file.Partition, Offset: off, Landed: r.file.Modified, Data: data}, nil
	}
}

// openNext opens the next object, or records the gap before it.
func (r *PartitionReader) openNext() error {
	f := r.files[r.idx]
	if want := max(r.end, r.next); f.StartOffset > want {
		r.gap = &Gap{Topic: f.Topic, Partition: f.Partition, Expected: want, NextObject: f.Key, NextOffset: f.StartOffset, Since: f.Modified}
		return nil
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	rc, err := r.store.Open(r.ctx, f.Key)
	if err != nil {
		return fmt.Errorf("open %s: %w", f.Key, err)
	}
	if err := r.lines.reset(rc, f); err != nil {
		return err
	}
	r.idx++
	r.file, r.open, r.line = f, true, 0
	r.over = r.end // lines below the end of what was read repeat it
	if r.end > f.StartOffset {
		r.ref = &refLines{r: r, at: f.StartOffset}
	}
	r.read = append(r.read, introduced{file: f, from: max(f.StartOffset, r.end), to: -1})
	return nil
}

func (r *PartitionReader) closeFile() error {
	if !r.open {
		return nil
	}
	r.open = false
	last := &r.read[len(r.read)-1]
	last.to = max(last.from, r.file.StartOffset+int64(r.line))
	r.end = max(r.end, last.to)
	if r.ref != nil {
		_ = r.ref.close()
		r.ref = nil
	}
	if err := r.lines.close(); err != nil {
		return fmt.Errorf("read %s: %w", r.file.Key, err)
	}
	return nil
}

// Close releases the open objects.
func (r *PartitionReader) Close() error {
	if r.ref != nil {
		_ = r.ref.close()
		r.ref = nil
	}
	if r.open {
		r.open = false
		return r.lines.close()
	}
	return nil
}

// compare checks a repeated line against the line an earlier object holds
// at the same offset.
func (r *PartitionReader) compare(off int64, data []byte) error {
	prev, where, err := r.ref.lineAt(off)
	if err != nil {
		return err
	}
	if !bytes.Equal(prev, data) {
		return &badinput.Error{Object: r.file.Key, Line: r.line, Partition: r.file.Partition, Offset: off,
			Reason: fmt.Sprintf("the object repeats offset %d, which %s landed with a different event: two objects disagree on what the partition holds (was the topic recreated?); remove the wrong object", off, where)}
	}
	return nil
}

// lineErr makes a reading error of the current object bad input where the
// bytes are at fault.
func (r *PartitionReader) lineErr(err error) error {
	var le *limitError
	if errors.As(err, &le) {
		return &badinput.Error{Object: r.file.Key, Line: r.line + 1, Partition: r.file.Partition, Offset: r.file.StartOffset + int64(r.line), Reason: le.reason}
	}
	return r.lines.classify(err, r.line)
}

// refLines reads, from the objects read earlier, the lines an object
// repeats, in offset order.
type refLines struct {
	r     *PartitionReader
	at    int64 // the offset the source is at
	src   lineSource
	open  bool
	entry int
}

// lineAt returns the earlier line at offset off (offsets are asked for in
// increasing order) and the object it is in.
func (f *refLines) lineAt(off int64) ([]byte, string, error) {
	for {
		if !f.open || off < f.at || off >= f.r.read[f.entry].to {
			if err := f.seek(off); err != nil {
				return nil, "", err
			}
		}
		data, err := f.src.read()
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		e := f.r.read[f.entry]
		if err != nil {
			return nil, "", f.src.classify(fmt.Errorf("rereading it to compare repeated offsets: %w", err), int(f.at-e.file.StartOffset))
		}
		f.at++
		if f.at-1 == off {
			return data, e.file.Key, nil
		}
	}
}

// seek opens the earlier object that introduced offset off and moves to
// just before it.
func (f *refLines) seek(off int64) error {
	_ = f.close()
	for i, e := range f.r.read[:len(f.r.read)-1] {
		if off >= e.from && off < e.to {
			rc, err := f.r.store.Open(f.r.ctx, e.file.Key)
			if err != nil {
				return fmt.Errorf("open %s: %w", e.file.Key, err)
			}
			f.src.lim = f.r.lim
			if err := f.src.reset(rc, e.file); err != nil {
				return err
			}
			f.entry, f.open, f.at = i, true, e.file.StartOffset
			return nil
		}
	}
	return fmt.Errorf("offset %d of partition %d was read but no object read holds it", off, f.r.file.Partition)
}

func (f *refLines) close() error {
	if !f.open {
		return nil
	}
	f.open = false
	return f.src.close()
}

// lineSource reads the lines of one object, decompressing gzip objects
// within the limits.
type lineSource struct {
	lim  Limits
	file File
	rc   io.ReadCloser
	raw  countingReader
	gz   *gzip.Reader
	out  countingReader
	br   *bufio.Reader
	buf  []byte
}

const readBufSize = 1 << 20

func (s *lineSource) reset(rc io.ReadCloser, f File) error {
	s.file, s.rc = f, rc
	s.raw = countingReader{r: rc}
	var src io.Reader = &s.raw
	if f.Gzip {
		var err error
		if s.gz == nil {
			s.gz, err = gzip.NewReader(&s.raw)
		} else {
			err = s.gz.Reset(&s.raw)
		}
		switch {
		case err == io.EOF: // an empty object: no lines
			src = bytes.NewReader(nil)
		case err != nil:
			_ = rc.Close()
			s.rc = nil
			return s.classify(err, 0)
		default:
			s.gz.Multistream(true)
			s.out = countingReader{r: s.gz, limit: s.expansionCheck}
			src = &s.out
		}
	}
	if s.br == nil {
		s.br = bufio.NewReaderSize(src, readBufSize)
	} else {
		s.br.Reset(src)
	}
	return nil
}

// expansionCheck refuses a compressed object that expands past the limits.
func (s *lineSource) expansionCheck(n int64) error {
	if n > s.lim.MaxObjectBytes {
		return &limitError{fmt.Sprintf("the compressed object expands past %d bytes (the limit; %d compressed bytes read)", s.lim.MaxObjectBytes, s.raw.n)}
	}
	if n > RatioFloor && n > s.raw.n*s.lim.MaxCompressionRatio {
		return &limitError{fmt.Sprintf("the compressed object expands more than %d times (%d bytes from %d compressed bytes): a decompression bomb or damaged data", s.lim.MaxCompressionRatio, n, s.raw.n)}
	}
	return nil
}

// read returns the next line without its ending, or io.EOF at the end of
// the object. A last line without a newline is a line.
func (s *lineSource) read() ([]byte, error) {
	data, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.buf = append(s.buf[:0], data...)
		for err == bufio.ErrBufferFull {
			if int64(len(s.buf)) > s.lim.MaxLineBytes {
				return nil, &limitError{fmt.Sprintf("the line is longer than %d bytes (the limit)", s.lim.MaxLineBytes)}
			}
			data, err = s.br.ReadSlice('\n')
			s.buf = append(s.buf, data...)
		}
		data = s.buf
	}
	if err == io.EOF {
		if len(data) == 0 {
			return nil, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSuffix(data, []byte{'\n'})
	data = bytes.TrimSuffix(data, []byte{'\r'})
	if int64(len(data)) > s.lim.MaxLineBytes {
		return nil, &limitError{fmt.Sprintf("the line is longer than %d bytes (the limit)", s.lim.MaxLineBytes)}
	}
	return data, nil
}

func (s *lineSource) close() error {
	var err error
	if s.rc != nil {
		err = s.rc.Close()
		s.rc = nil
	}
	if s.br != nil {
		s.br.Reset(nil)
	}
	if cap(s.buf) > readBufSize {
		s.buf = nil // a long line's buffer is not kept
	}
	return err
}

// classify makes a read error bad input when the bytes are at fault (a
// damaged compressed stream: retrying reads the same bytes); anything else
// is the store's failure.
func (s *lineSource) classify(err error, line int) error {
	var corrupt flate.CorruptInputError
	var le *limitError
	switch {
	case errors.As(err, &le):
		return &badinput.Error{Object: s.file.Key, Reason: le.reason}
	case s.file.Gzip && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &corrupt)):
		return &badinput.Error{Object: s.file.Key, Reason: fmt.Sprintf("damaged gzip stream after line %d", line), Err: err}
	}
	return fmt.Errorf("read %s: %w", s.file.Key, err)
}

// limitError is a limit of Limits exceeded.
type limitError struct{ reason string }

func (e *limitError) Error() string { return e.reason }

// countingReader counts the bytes read through it and, when limit is set,
// stops with its error.
type countingReader struct {
	r     io.Reader
	n     int64
	limit func(n int64) error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.limit != nil {
		if lerr := c.limit(c.n); lerr != nil {
			return n, lerr
		}
	}
	return n, err
}
