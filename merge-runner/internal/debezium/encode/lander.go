package encode

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LandOptions are the S3 sink settings a Lander follows.
type LandOptions struct {
	// Prefix is the sink's topics.dir; it may be empty.
	Prefix string
	// FlushSize is flush.size: a file is committed after this many records.
	// 0 means no limit: a file is committed by Rotate or Close.
	FlushSize int
	// StartOffset is the offset of the first record of every partition.
	StartOffset int64
	// Gzip writes gzip-compressed .json.gz files (s3.compression.type=gzip).
	Gzip bool
	// ZeroPad is filename.offset.zero.pad.width; 0 means the sink's default, 10.
	ZeroPad int
	// IgnoreNulls is behavior.on.null.values=ignore: a record whose value is
	// null (a tombstone, the line "null") takes its offset but is not written.
	IgnoreNulls bool
}

// LandedFile is a file a Lander committed.
type LandedFile struct {
	// Key is the file's slash-separated path below the root.
	Key         string
	Partition   int32
	StartOffset int64
	// Records is the number of lines; LastOffset the offset of the last.
	Records    int
	LastOffset int64
	Gzip       bool
	Size       int64
}

// Lander writes event lines into a folder as Kafka Connect's S3 sink with
// the JSON format and the default partitioner lands them:
// <root>/<prefix>/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json[.gz],
// one record per line, each line ending in a newline, where the start offset
// is the offset of the file's first record. Offsets count the records added
// to each partition. A file is written to a temporary name in root and
// renamed into place when committed, so a reader never sees it half written.
// A Lander is not safe for concurrent use.
type Lander struct {
	root, topic string
	opts        LandOptions
	parts       map[int32]*partWriter
	files       []LandedFile
	err         error
}

type partWriter struct {
	next int64 // the offset of the next record

	f       *os.File
	gz      *gzip.Writer
	w       *bufio.Writer
	start   int64
	last    int64
	records int
}

// NewLander returns a lander of topic's records into the folder root.
func NewLander(root, topic string, opts LandOptions) (*Lander, error) {
	if topic == "" || strings.ContainsAny(topic, "/+") {
		return nil, fmt.Errorf("encode: %q is not a topic the sink can land", topic)
	}
	if opts.FlushSize < 0 || opts.StartOffset < 0 || opts.ZeroPad < 0 {
		return nil, errors.New("encode: negative lander option")
	}
	if opts.ZeroPad == 0 {
		opts.ZeroPad = 10
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &Lander{root: root, topic: topic, opts: opts, parts: map[int32]*partWriter{}}, nil
}

func (l *Lander) part(p int32) *partWriter {
	pw := l.parts[p]
	if pw == nil {
		pw = &partWriter{next: l.opts.StartOffset}
		l.parts[p] = pw
	}
	return pw
}

// Add appends a record to a partition and returns its offset. A line must
// not be empty or hold a line break.
func (l *Lander) Add(partition int32, line []byte) (int64, error) {
	if l.err != nil {
		return 0, l.err
	}
	if partition < 0 {
		return 0, fmt.Errorf("encode: partition %d", partition)
	}
	if len(bytes.TrimSpace(line)) == 0 || bytes.ContainsAny(line, "\r\n") {
		return 0, errors.New("encode: a landed line must be non-empty and one line")
	}
	pw := l.part(partition)
	off := pw.next
	pw.next++
	if l.opts.IgnoreNulls && string(bytes.TrimSpace(line)) == "null" {
		return off, nil
	}
	if pw.f == nil {
		if err := l.open(pw, off); err != nil {
			return 0, l.fail(err)
		}
	}
	if _, err := pw.w.Write(line); err != nil {
		return 0, l.fail(err)
	}
	if err := pw.w.WriteByte('\n'); err != nil {
		return 0, l.fail(err)
	}
	pw.last = off
	pw.records++
	if l.opts.FlushSize > 0 && pw.records >= l.opts.FlushSize {
		if err := l.commit(partition, pw); err != nil {
			return 0, l.fail(err)
		}
	}
	return off, nil
}

// AddAll appends records to a partition.
func (l *Lander) AddAll(partition int32, lines [][]byte) error {
	for _, line := range lines {
		if _, err := l.Add(partition, line); err != nil {
			return err
		}
	}
	return nil
}

// NextOffset is the offset the next record of a partition gets.
func (l *Lander) NextOffset(partition int32) int64 { return l.part(partition).next }

// SetNextOffset commits the partition's open file and sets the offset of its
// next record: a gap (offsets removed by compaction or retention) when it
// moves forward, a redelivery after a sink restart when it moves back. A
// file that starts at the same offset as an earlier one replaces it, as an
// S3 object of the same key does.
func (l *Lander) SetNextOffset(partition int32, next int64) error {
	if next < 0 {
		return fmt.Errorf("encode: offset %d", next)
	}
	if err := l.Rotate(partition); err != nil {
		return err
	}
	l.part(partition).next = next
	return nil
}

// Rotate commits the partition's open file, if any, as the sink's scheduled
// rotation does.
func (l *Lander) Rotate(partition int32) error {
	if l.err != nil {
		return l.err
	}
	if pw := l.parts[partition]; pw != nil && pw.f != nil {
		return l.fail(l.commit(partition, pw))
	}
	return nil
}

// Close commits every open file, in partition order. After an error it
// removes the files it has not committed.
func (l *Lander) Close() error {
	ps := make([]int32, 0, len(l.parts))
	for p := range l.parts {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	for _, p := range ps {
		pw := l.parts[p]
		switch {
		case pw.f == nil:
		case l.err == nil:
			_ = l.fail(l.commit(p, pw))
		default:
			if pw.gz != nil {
				_ = pw.gz.Close()
				pw.gz = nil
			}
			_ = pw.f.Close()
			_ = os.Remove(pw.f.Name())
			pw.f = nil
		}
	}
	return l.err
}

// Files are the committed files in the order they were committed.
func (l *Lander) Files() []LandedFile { return slices.Clone(l.files) }

// Key is the object key of the file of partition p starting at offset start.
func (l *Lander) Key(p int32, start int64) string {
	name := l.topic + "+" + strconv.FormatInt(int64(p), 10) + "+" + zeroPad(start, l.opts.ZeroPad) + ".json"
	if l.opts.Gzip {
		name += ".gz"
	}
	return path.Join(strings.Trim(l.opts.Prefix, "/"), l.topic, "partition="+strconv.FormatInt(int64(p), 10), name)
}

func zeroPad(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

func (l *Lander) fail(err error) error {
	if err != nil && l.err == nil {
		l.err = err
	}
	return err
}

func (l *Lander) open(pw *partWriter, start int64) error {
	f, err := os.CreateTemp(l.root, ".encode-landing-*")
	if err != nil {
		return err
	}
	pw.f, pw.start, pw.records = f, start, 0
	if l.opts.Gzip {
		pw.gz = gzip.NewWriter(f) // no name and no time: the same bytes for the same lines
		pw.w = bufio.NewWriterSize(pw.gz, 64<<10)
	} else {
		pw.w = bufio.NewWriterSize(f, 64<<10)
	}
	return nil
}

func (l *Lander) commit(p int32, pw *partWriter) error {
	f := pw.f
	pw.f = nil
	err := pw.w.Flush()
	if pw.gz != nil {
		err = errors.Join(err, pw.gz.Close())
		pw.gz = nil
	}
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			size = st.Size()
		}
	}
	err = errors.Join(err, f.Close())
	key := l.Key(p, pw.start)
	dst := filepath.Join(l.root, filepath.FromSlash(key))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o755)
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	lf := LandedFile{Key: key, Partition: p, StartOffset: pw.start, Records: pw.records, LastOffset: pw.last,
		Gzip: l.opts.Gzip, Size: size}
	l.files = slices.DeleteFunc(l.files, func(f LandedFile) bool { return f.Key == key })
	l.files = append(l.files, lf)
	return nil
}
