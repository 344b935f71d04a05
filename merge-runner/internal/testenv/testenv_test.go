package testenv_test

import (
	"context"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	dsn1 := testenv.Postgres(t)
	dsn2 := testenv.Postgres(t)
	assert.NotEqual(t, dsn1, dsn2)

	dbName := func(dsn string) string {
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err, dsn)
		defer conn.Close(ctx)
		var one int
		require.NoError(t, conn.QueryRow(ctx, "select 1").Scan(&one))
		assert.Equal(t, 1, one)
		var name string
		require.NoError(t, conn.QueryRow(ctx, "select current_database()").Scan(&name))
		return name
	}
	db1, db2 := dbName(dsn1), dbName(dsn2)
	assert.NotEqual(t, db1, db2)

	// A table made in one database is not seen in the other.
	conn1, err := pgx.Connect(ctx, dsn1)
	require.NoError(t, err)
	defer conn1.Close(ctx)
	_, err = conn1.Exec(ctx, "create table only_here (id int primary key)")
	require.NoError(t, err)
	conn2, err := pgx.Connect(ctx, dsn2)
	require.NoError(t, err)
	defer conn2.Close(ctx)
	var n int
	require.NoError(t, conn2.QueryRow(ctx, "select count(*) from information_schema.tables where table_name = 'only_here'").Scan(&n))
	assert.Equal(t, 0, n)
}

func TestS3(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	srv := testenv.S3(t)
	assert.Equal(t, "us-east-1", srv.Region)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, srv.Endpoint)

	bucket := srv.Bucket(t, "testenv")
	other := srv.Bucket(t, "testenv")
	assert.NotEqual(t, bucket, other)

	srv.Put(t, bucket, "a/one.txt", []byte("one"))
	srv.Put(t, bucket, "a/two.txt", []byte("two"))
	srv.Put(t, bucket, "b/three.txt", []byte("three"))

	client := srv.Client()
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("a/")})
	require.NoError(t, err)
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"a/one.txt", "a/two.txt"}, keys)

	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("b/three.txt")})
	require.NoError(t, err)
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "three", string(data))

	empty, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(other)})
	require.NoError(t, err)
	assert.Empty(t, empty.Contents)
}
