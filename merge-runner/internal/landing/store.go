// Package landing lists and reads the change events Kafka Connect's S3 sink
// lands: objects named <prefix>/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json
// (or .json.gz), one event per line, where the event on line i (counting
// from 0) has offset startOffset+i.
//
// Reading is per partition (PartitionReader): a partition's objects in
// offset order from the next offset to apply, stopping at a gap and
// checking repeated offsets; ordering the partitions against each other is
// the order package's job.
//
// Line-derived offsets hold only while the sink writes every record it consumes: a record
// it drops (a tombstone under behavior.on.null.values=ignore) or a Kafka
// transaction marker (exactly-once source connectors) takes an offset but
// no line, and every later line of its file would be read one offset low.
// The generated connectors therefore run without tombstones and without
// exactly-once source support.
//
// Objects come from a Store: a local folder or an S3-compatible bucket
// (S3Store), behind the same two-method interface.
package landing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Object is one stored object.
type Object struct {
	// Key is the object's slash-separated key within the store.
	Key  string
	Size int64
	// Modified is when the object was stored (S3 LastModified, a file's
	// modification time): how long a gap has been seen is measured from it.
	Modified time.Time
}

// Store is where landed objects live.
type Store interface {
	// List returns every object whose key starts with prefix, in any order.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Open opens an object for reading.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// LocalStore is a Store over a local folder: a key is a path relative to Root.
type LocalStore struct {
	Root string
}

// NewLocalStore returns a store over the folder root.
func NewLocalStore(root string) *LocalStore { return &LocalStore{Root: root} }

// List walks the folder. It starts at the deepest directory the prefix
// names, so listing one topic does not walk the others.
func (s *LocalStore) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := checkKey(prefix, true); err != nil {
		return nil, err
	}
	dir := prefix
	if !strings.HasSuffix(dir, "/") {
		dir = path.Dir(dir)
	}
	dir = strings.TrimSuffix(dir, "/")
	if dir == "." {
		dir = ""
	}
	start := filepath.Join(s.Root, filepath.FromSlash(dir))
	var out []Object
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(s.Root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Key: key, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", prefix, s.Root, err)
	}
	return out, nil
}

// Open opens the file at key.
func (s *LocalStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkKey(key, false); err != nil {
		return nil, err
	}
	return os.Open(filepath.Join(s.Root, filepath.FromSlash(key)))
}

// checkKey refuses keys that would leave the root.
func checkKey(key string, prefix bool) error {
	if key == "" && prefix {
		return nil
	}
	if strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return fmt.Errorf("invalid object key %q", key)
	}
	for _, part := range strings.Split(key, "/") {
		if part == ".." || (part == "." && !prefix) {
			return fmt.Errorf("invalid object key %q", key)
		}
	}
	return nil
}
