// Package snapdiff finds what changed between two snapshots of a source
// table: the rows a new snapshot reads, in primary-key order, against the
// key state the table's last snapshot merge recorded. The state is a file
// of (key, row hash) pairs in key order, written beside the table by each
// merge and named in its Iceberg snapshot summary, so a run compares the
// two streams in one pass: memory holds a row of each, whatever the
// table's size.
//
// The row hash is 128 bits of xxh3 over the row's canonical typed encoding
// (row.AppendKey: a kind tag per value, lengths before strings, bytes and
// nested values, a marker for null), so two rows hash alike only when
// their values are equal, never because their text happens to concatenate
// alike.
package snapdiff

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/zeebo/xxh3"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Hash is a row's 128-bit hash.
type Hash [16]byte

// HashRow hashes a row's canonical encoding; buf is scratch space, returned
// for reuse.
func HashRow(buf []byte, r []row.Value) (Hash, []byte) {
	buf = row.AppendKey(buf[:0], r)
	h := xxh3.Hash128(buf).Bytes()
	return Hash(h), buf
}

// magic starts a state file (then its format version).
const magic = "DSFKEYS1"

// Writer writes a state file: (key, hash) pairs in strictly increasing key
// order, zstd-compressed.
type Writer struct {
	zw   *zstd.Encoder
	bw   *bufio.Writer
	last []row.Value
	buf  []byte
	n    int64
}

// NewWriter starts a state file on w.
func NewWriter(w io.Writer) (*Writer, error) {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(zw, 1<<16)
	if _, err := bw.WriteString(magic); err != nil {
		return nil, err
	}
	return &Writer{zw: zw, bw: bw}, nil
}

// Add writes one pair; keys must come in strictly increasing order.
func (w *Writer) Add(key []row.Value, h Hash) error {
	if w.last != nil && row.CompareKeys(w.last, key) >= 0 {
		return fmt.Errorf("snapdiff: key %v after %v: keys must increase", key, w.last)
	}
	w.last = append(w.last[:0], key...)
	w.buf = row.AppendKey(w.buf[:0], key)
	var l [binary.MaxVarintLen64]byte
	if _, err := w.bw.Write(l[:binary.PutUvarint(l[:], uint64(len(w.buf)))]); err != nil {
		return err
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		return err
	}
	_, err := w.bw.Write(h[:])
	w.n++
	return err
}

// Count is the number of pairs written.
func (w *Writer) Count() int64 { return w.n }

// Close ends the file.
func (w *Writer) Close() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	return w.zw.Close()
}

// Reader reads a state file in key order.
type Reader struct {
	zr   *zstd.Decoder
	br   *bufio.Reader
	cols int
	buf  []byte
}

// NewReader reads a state file of keys of cols columns.
func NewReader(r io.Reader, cols int) (*Reader, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(zr, 1<<16)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != magic {
		zr.Close()
		if err == nil {
			err = fmt.Errorf("not a key state file")
		}
		return nil, fmt.Errorf("snapdiff: %w", err)
	}
	return &Reader{zr: zr, br: br, cols: cols}, nil
}

// Next returns the next pair, or io.EOF.
func (r *Reader) Next() ([]row.Value, Hash, error) {
	n, err := binary.ReadUvarint(r.br)
	if err == io.EOF {
		return nil, Hash{}, io.EOF
	}
	if err != nil {
		return nil, Hash{}, fmt.Errorf("snapdiff: reading the key state: %w", err)
	}
	if n > 1<<24 {
		return nil, Hash{}, fmt.Errorf("snapdiff: a key of %d bytes in the key state", n)
	}
	if cap(r.buf) < int(n)+16 {
		r.buf = make([]byte, int(n)+16)
	}
	b := r.buf[:int(n)+16]
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, Hash{}, fmt.Errorf("snapdiff: reading the key state: %w", err)
	}
	key, rest, err := row.DecodeKey(b[:n], r.cols)
	if err != nil || len(rest) != 0 {
		return nil, Hash{}, errors.Join(fmt.Errorf("snapdiff: a damaged key in the key state"), err)
	}
	return key, Hash(b[n:]), nil
}

// Close releases the decoder.
func (r *Reader) Close() { r.zr.Close() }

// Change is what Diff found for one key.
type Change uint8

// Changes.
const (
	Same Change = iota
	Inserted
	Updated
	Deleted
)

// Prior is where the previous state comes from: a Reader, or nothing (the
// first merge: every row is inserted).
type Prior interface {
	Next() ([]row.Value, Hash, error)
}

// Empty is the state before the first merge.
type Empty struct{}

// Next returns io.EOF.
func (Empty) Next() ([]row.Value, Hash, error) { return nil, Hash{}, io.EOF }

// Differ compares the source's rows, given in strictly increasing key
// order, with the prior state, and writes the new state.
type Differ struct {
	prior  Prior
	out    *Writer
	keyIdx []int

	pk   []row.Value // the prior's next key; nil at its end
	ph   Hash
	last []row.Value // the source's previous key
	key  []row.Value
	buf  []byte
}

// NewDiffer compares against prior, writing the new state to out; keyIdx
// are the key columns' indexes in a row.
func NewDiffer(prior Prior, out *Writer, keyIdx []int) (*Differ, error) {
	d := &Differ{prior: prior, out: out, keyIdx: keyIdx, key: make([]row.Value, len(keyIdx))}
	return d, d.advance()
}

func (d *Differ) advance() error {
	k, h, err := d.prior.Next()
	if err == io.EOF {
		d.pk = nil
		return nil
	}
	if err != nil {
		return err
	}
	d.pk, d.ph = k, h
	return nil
}

// OrderError is a source row out of key order: the source's order and
// this package's disagree (or the key is not unique).
type OrderError struct {
	Key, After []row.Value
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("the source gave key %v after key %v: rows must come in strictly increasing primary-key order", e.Key, e.After)
}

// Row takes the next source row and calls deleted for every prior key
// before it that the source no longer has, then says what happened to the
// row's key.
func (d *Differ) Row(r []row.Value, deleted func(key []row.Value) error) (Change, error) {
	for i, j := range d.keyIdx {
		d.key[i] = r[j]
	}
	if d.last != nil && row.CompareKeys(d.last, d.key) >= 0 {
		return Same, &OrderError{Key: append([]row.Value(nil), d.key...), After: append([]row.Value(nil), d.last...)}
	}
	d.last = append(d.last[:0], d.key...)
	var h Hash
	h, d.buf = HashRow(d.buf, r)
	if err := d.out.Add(d.key, h); err != nil {
		return Same, err
	}
	for d.pk != nil {
		c := row.CompareKeys(d.pk, d.key)
		if c > 0 {
			break
		}
		if c == 0 {
			same := d.ph == h
			if err := d.advance(); err != nil {
				return Same, err
			}
			if same {
				return Same, nil
			}
			return Updated, nil
		}
		if err := deleted(d.pk); err != nil {
			return Same, err
		}
		if err := d.advance(); err != nil {
			return Same, err
		}
	}
	return Inserted, nil
}

// Finish calls deleted for the prior keys after the source's last row.
func (d *Differ) Finish(deleted func(key []row.Value) error) error {
	for d.pk != nil {
		if err := deleted(d.pk); err != nil {
			return err
		}
		if err := d.advance(); err != nil {
			return err
		}
	}
	return nil
}
