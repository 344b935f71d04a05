package landing

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Writer stores whole objects: what the capture lands, written as the S3
// sink writes them (one PUT per object, a reader never sees half of one).
type Writer interface {
	Store
	// Put stores size bytes of body at key, replacing an object of the same
	// key; when it returns nil the object is durable.
	Put(ctx context.Context, key string, body io.ReadSeeker, size int64) error
}

// Put writes the file at key: to a temporary file in the root (outside
// every topic's prefix, so listings never see it), synced, renamed into
// place, and the folder synced, so that a crash leaves either the old object
// or the whole new one.
func (s *LocalStore) Put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key, false); err != nil {
		return err
	}
	dst := filepath.Join(s.Root, filepath.FromSlash(key))
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	f, err := os.CreateTemp(s.Root, ".put-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		return fmt.Errorf("put %s: %w", key, err)
	}
	n, err := io.Copy(f, body)
	if err == nil && n != size {
		err = fmt.Errorf("wrote %d of %d bytes", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("put %s in %s: %w", key, s.Root, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Put uploads the object in one PUT; S3 makes it visible whole or not at all.
func (s *S3Store) Put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return s.error("put", key, err)
	}
	return nil
}
