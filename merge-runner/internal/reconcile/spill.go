package reconcile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/s2"
)

// A side's rows go to one spill file, a key range's rows in chunks of their
// own, so a range reads back without reading the others, and memory holds
// one chunk per range while the file is written. Chunks are written S2
// compressed: writing the spill costs a reconcile's first phase more than
// hashing the rows does, and a row encoding compresses well.
type spill struct {
	f       *os.File
	off     int64
	chunk   int      // bytes a chunk is written at
	filling [][]byte // per range, the chunk being filled
	chunks  [][]extent
	rows    int64
	packed  []byte // a chunk compressed, reused
	bytes   int64  // written, compressed
}

type extent struct {
	off int64
	n   int // bytes in the file
	raw int // bytes decompressed
}

func newSpill(dir, name string, ranges, chunk int) (*spill, error) {
	f, err := os.CreateTemp(dir, name+"-*.spill")
	if err != nil {
		return nil, fmt.Errorf("reconcile spill file in %s: %w; --spill-dir names a folder with room for both tables", dir, err)
	}
	return &spill{f: f, chunk: chunk, filling: make([][]byte, ranges), chunks: make([][]extent, ranges)}, nil
}

// add spills one row's encoding: its cell within the range, its length,
// its bytes.
func (s *spill) add(rng int, cell uint32, enc []byte) error {
	b := s.filling[rng]
	if b == nil {
		b = make([]byte, 0, s.chunk)
	}
	b = binary.AppendUvarint(b, uint64(cell))
	b = binary.AppendUvarint(b, uint64(len(enc)))
	b = append(b, enc...)
	s.rows++
	if len(b) >= s.chunk {
		if err := s.flush(rng, b); err != nil {
			return err
		}
		b = b[:0]
	}
	s.filling[rng] = b
	return nil
}

func (s *spill) flush(rng int, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	s.packed = s2.Encode(s.packed[:cap(s.packed)], b)
	if _, err := s.f.Write(s.packed); err != nil {
		return fmt.Errorf("reconcile spill file %s: %w", s.f.Name(), err)
	}
	s.chunks[rng] = append(s.chunks[rng], extent{s.off, len(s.packed), len(b)})
	s.off += int64(len(s.packed))
	s.bytes += int64(len(s.packed))
	return nil
}

// finish writes the chunks still filling and lets their memory go.
func (s *spill) finish() error {
	for rng, b := range s.filling {
		if err := s.flush(rng, b); err != nil {
			return err
		}
	}
	s.filling = nil
	return nil
}

// each gives fn the rows of one range whose cell want accepts; enc is only
// valid during the call. buf holds a chunk as read and raw as decompressed;
// both are given back for the next call.
func (s *spill) each(rng int, want func(cell uint32) bool, buf, raw []byte, fn func(cell uint32, enc []byte) error) ([]byte, []byte, error) {
	for _, e := range s.chunks[rng] {
		if cap(buf) < e.n {
			buf = make([]byte, e.n)
		}
		if _, err := s.f.ReadAt(buf[:e.n], e.off); err != nil && !errors.Is(err, io.EOF) {
			return buf, raw, fmt.Errorf("reconcile spill file %s at offset %d: %w", s.f.Name(), e.off, err)
		}
		if cap(raw) < e.raw {
			raw = make([]byte, e.raw)
		}
		b, err := s2.Decode(raw[:e.raw], buf[:e.n])
		if err != nil || len(b) != e.raw {
			return buf, raw, fmt.Errorf("reconcile spill file %s: damaged chunk at offset %d (%v)", s.f.Name(), e.off, err)
		}
		for len(b) > 0 {
			cell, n1 := binary.Uvarint(b)
			l, n2 := 0, 0
			if n1 > 0 {
				var u uint64
				u, n2 = binary.Uvarint(b[n1:])
				l = int(u)
			}
			if n1 <= 0 || n2 <= 0 || l > len(b)-n1-n2 {
				return buf, raw, fmt.Errorf("reconcile spill file %s: damaged chunk at offset %d", s.f.Name(), e.off)
			}
			enc := b[n1+n2 : n1+n2+l]
			b = b[n1+n2+l:]
			if want(uint32(cell)) {
				if err := fn(uint32(cell), enc); err != nil {
					return buf, raw, err
				}
			}
		}
	}
	return buf, raw, nil
}

func (s *spill) close() {
	name := s.f.Name()
	_ = s.f.Close()
	_ = os.Remove(name)
}
