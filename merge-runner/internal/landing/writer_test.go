package landing

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

// TestWriters: a put object reads back whole, a second put of the key
// replaces it, and a local put leaves nothing else in the folder that a
// topic's listing would see.
func TestWriters(t *testing.T) {
	srv := testenv.S3(t)
	bucket := srv.Bucket(t, "writer")
	s3w, err := NewS3Store(context.Background(), S3Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey})
	require.NoError(t, err)
	root := t.TempDir()
	for name, w := range map[string]Writer{"local": NewLocalStore(root), "s3": s3w} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			key := "cdc/t/partition=0/t+0+0000000000.json"
			for _, body := range []string{"{\"a\":1}\n{\"a\":2}\n", "{\"a\":1}\n"} {
				r := bytes.NewReader([]byte(body))
				_, _ = r.Seek(3, io.SeekStart) // Put reads from the start whatever the position
				require.NoError(t, w.Put(ctx, key, r, int64(len(body))))
				rc, err := w.Open(ctx, key)
				require.NoError(t, err)
				got, err := io.ReadAll(rc)
				require.NoError(t, err)
				require.NoError(t, rc.Close())
				require.Equal(t, body, string(got))
			}
			files, err := ListTopic(ctx, w, "cdc", "t")
			require.NoError(t, err)
			require.Len(t, files, 1)
		})
	}
	ents, err := os.ReadDir(root)
	require.NoError(t, err)
	require.Len(t, ents, 1, "only cdc/: no temporary file is left")
	require.Error(t, NewLocalStore(root).Put(context.Background(), "../escape", bytes.NewReader(nil), 0))
}
