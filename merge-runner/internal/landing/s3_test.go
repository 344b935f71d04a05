package landing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// s3Store is a store over a new bucket of the test S3 server, holding objects.
func s3Store(t *testing.T, objects map[string][]byte, pageSize int32) (*S3Store, string) {
	t.Helper()
	srv := testenv.S3(t)
	bucket := srv.Bucket(t, "landing")
	for key, data := range objects {
		srv.Put(t, bucket, key, data)
	}
	store, err := NewS3Store(context.Background(), S3Config{
		Endpoint:        srv.Endpoint,
		Region:          srv.Region,
		Bucket:          bucket,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
		ListPageSize:    pageSize,
	})
	require.NoError(t, err)
	return store, bucket
}

func TestS3StoreReadsLikeLocalStore(t *testing.T) {
	other := "acme.customer_db.public.orders"
	objects := map[string][]byte{
		landed(0, 0, false): lines(0, 3),
		landed(0, 3, true):  gzipped(t, lines(3, 2)),
		landed(0, 5, false): lines(5, 4),
		landed(1, 0, false): lines(100, 2),
		landed(1, 2, true):  gzipped(t, lines(102, 3)),
		landed(2, 7, false): lines(200, 1),
		// Another topic under the same prefix, and one whose name the topic
		// is a prefix of: neither is listed.
		fmt.Sprintf("cdc/%s/partition=0/%s+0+0000000000.json", other, other):   lines(0, 1),
		fmt.Sprintf("cdc/%sx/partition=0/%sx+0+0000000000.json", topic, topic): lines(0, 1),
	}
	root := t.TempDir()
	for key, data := range objects {
		put(t, root, key, data)
	}
	local := NewLocalStore(root)
	// A page size of 2 makes the listing take several pages.
	remote, _ := s3Store(t, objects, 2)
	// The sink's S3 folders can leave directory markers; they are ignored.
	testenv.S3(t).Put(t, remote.bucket, "cdc/"+topic+"/partition=0/", nil)

	ctx := context.Background()
	want, err := ListTopic(ctx, local, "cdc", topic)
	require.NoError(t, err)
	require.Len(t, want, 6)
	got, err := ListTopic(ctx, remote, "cdc", topic)
	require.NoError(t, err)
	// The stores' times differ (file modification, LastModified); both are set.
	withoutTimes := func(fs []File) []File {
		out := slices.Clone(fs)
		for i := range out {
			assert.False(t, out[i].Modified.IsZero(), out[i].Key)
			out[i].Modified = time.Time{}
		}
		return out
	}
	assert.Equal(t, withoutTimes(want), withoutTimes(got))
	assert.Greater(t, remote.pages.Load(), int64(1), "the listing should have taken several pages")

	for _, from := range []Position{nil, {0: 4, 1: 1}, {0: 9, 1: 5, 2: 8}} {
		t.Run("from "+from.Encode(), func(t *testing.T) {
			for _, p := range []int32{0, 1, 2} {
				lr := NewPartitionReader(ctx, local, partition(want, p), from.Next(p), Limits{})
				wantRecords := readAll(t, lr)
				rr := NewPartitionReader(ctx, remote, partition(got, p), from.Next(p), Limits{})
				gotRecords := readAll(t, rr)
				assert.Equal(t, wantRecords, gotRecords)
				assert.Equal(t, lr.Next(), rr.Next())
				assert.Equal(t, lr.Skipped(), rr.Skipped())
				if lg, rg := lr.Gap(), rr.Gap(); lg != nil && rg != nil {
					lg.Since, rg.Since = time.Time{}, time.Time{}
				}
				assert.Equal(t, lr.Gap(), rr.Gap())
			}
		})
	}
}

func TestS3StoreListPaginates(t *testing.T) {
	// More objects than one ListObjectsV2 page holds (1000 at most, even
	// when more are asked for).
	const n = 1005
	srv := testenv.S3(t)
	bucket := srv.Bucket(t, "paginate")
	keys := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				srv.Put(t, bucket, fmt.Sprintf("p/obj-%05d", i), []byte("x"))
			}
		}()
	}
	for i := 0; i < n; i++ {
		keys <- i
	}
	close(keys)
	wg.Wait()
	srv.Put(t, bucket, "q/not-listed", []byte("y"))

	for _, c := range []struct {
		pageSize int32
		pages    int64
	}{{0, 2}, {100, 11}, {2000, 2}} {
		t.Run(fmt.Sprintf("page size %d", c.pageSize), func(t *testing.T) {
			store, err := NewS3Store(context.Background(), S3Config{
				Endpoint: srv.Endpoint, Bucket: bucket,
				AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey,
				ListPageSize: c.pageSize,
			})
			require.NoError(t, err)
			objs, err := store.List(context.Background(), "p/")
			require.NoError(t, err)
			require.Len(t, objs, n)
			sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
			for i, o := range objs {
				assert.WithinDuration(t, time.Now(), o.Modified, time.Hour, "LastModified")
				o.Modified = time.Time{}
				assert.Equal(t, Object{Key: fmt.Sprintf("p/obj-%05d", i), Size: 1}, o)
			}
			assert.Equal(t, c.pages, store.pages.Load())
		})
	}
}

func TestS3StoreErrors(t *testing.T) {
	srv := testenv.S3(t)
	store, bucket := s3Store(t, map[string][]byte{"a/b.json": []byte("{}\n")}, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("missing object", func(t *testing.T) {
		_, err := store.Open(ctx, "a/missing.json")
		require.Error(t, err)
		t.Log(err)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Contains(t, err.Error(), "s3://"+bucket+"/a/missing.json")
		assert.Contains(t, err.Error(), "no such object")
	})

	t.Run("missing bucket", func(t *testing.T) {
		s, err := NewS3Store(ctx, S3Config{Endpoint: srv.Endpoint, Bucket: "no-such-bucket", AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey})
		require.NoError(t, err)
		_, err = s.List(ctx, "cdc/")
		require.Error(t, err)
		t.Log(err)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Contains(t, err.Error(), "s3://no-such-bucket/cdc/")
		assert.Contains(t, err.Error(), "bucket no-such-bucket does not exist")
	})

	t.Run("wrong secret key", func(t *testing.T) {
		s, err := NewS3Store(ctx, S3Config{Endpoint: srv.Endpoint, Bucket: bucket, AccessKeyID: srv.AccessKey, SecretAccessKey: "wrong"})
		require.NoError(t, err)
		_, err = s.List(ctx, "")
		require.Error(t, err)
		t.Log(err)
		assert.Contains(t, err.Error(), "s3://"+bucket+"/")
		assert.Contains(t, err.Error(), "check the credentials")
		_, err = s.Open(ctx, "a/b.json")
		require.Error(t, err)
		t.Log(err)
		assert.Contains(t, err.Error(), "s3://"+bucket+"/a/b.json")
		assert.Contains(t, err.Error(), "check the credentials")
	})

	t.Run("unknown access key", func(t *testing.T) {
		s, err := NewS3Store(ctx, S3Config{Endpoint: srv.Endpoint, Bucket: bucket, AccessKeyID: "nobody", SecretAccessKey: "wrong"})
		require.NoError(t, err)
		_, err = s.List(ctx, "")
		require.Error(t, err)
		t.Log(err)
		assert.Contains(t, err.Error(), "check the credentials")
	})

	t.Run("unreachable endpoint", func(t *testing.T) {
		// A port that was free a moment ago: nothing listens there.
		port := closedPort(t)
		s, err := NewS3Store(ctx, S3Config{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Bucket: bucket, AccessKeyID: "a", SecretAccessKey: "b"})
		require.NoError(t, err)
		_, err = s.List(ctx, "")
		require.Error(t, err)
		t.Log(err)
		assert.Contains(t, err.Error(), "cannot reach the server")
	})

	t.Run("bad config", func(t *testing.T) {
		_, err := NewS3Store(ctx, S3Config{Endpoint: "minio:9000", Bucket: "b"})
		assert.ErrorContains(t, err, "is not a URL")
		_, err = NewS3Store(ctx, S3Config{Endpoint: srv.Endpoint})
		assert.ErrorContains(t, err, "no bucket")
		_, err = NewS3Store(ctx, S3Config{Endpoint: srv.Endpoint, Bucket: "b", AccessKeyID: "a"})
		assert.ErrorContains(t, err, "both the access key ID and the secret access key")
	})

	t.Run("cancelled", func(t *testing.T) {
		cctx, ccancel := context.WithCancel(ctx)
		ccancel()
		_, err := store.List(cctx, "")
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	})
}

func TestS3StoreOpenStreams(t *testing.T) {
	big := lines(0, 50000)
	store, _ := s3Store(t, map[string][]byte{"big.json": big}, 0)
	rc, err := store.Open(context.Background(), "big.json")
	require.NoError(t, err)
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, big, data)
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}
