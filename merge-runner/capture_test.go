package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

func captureSpec(bucket string) *jobspec.Spec {
	return &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "orders", Datastore: "shop",
		Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Container: "s3", Bucket: bucket, Prefix: "cdc",
			Encoding: jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "bytes"},
			Capture:  &jobspec.Capture{Container: "pg", Credential: "cdc", Database: "shop", Server: "shop", Slot: "orders_slot", Publication: "orders_pub"},
		}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "shop"},
		Tables: []jobspec.Table{{Dataset: "orders", SourceTable: "public.orders", Topic: "shop.public.orders", Name: "orders", Mode: jobspec.ModeLive,
			PrimaryKey: []string{"id"}, WriteMode: "merge_on_read", Columns: []jobspec.Column{
				{Name: "id", Type: "int64"}, {Name: "item", Type: "text", Nullable: true}, {Name: "amount", Type: "decimal", Precision: 10, Scale: 2, Nullable: true},
			}}},
		Batch: jobspec.Batch{MaxEvents: 1000},
	}
}

// TestCaptureCommandS3 runs the capture as the DAG would, landing on S3,
// then the merge from that landing.
func TestCaptureCommandS3(t *testing.T) {
	s3 := testenv.S3(t)
	bucket := s3.Bucket(t, "landing")
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE orders (id int8 PRIMARY KEY, item text, amount numeric(10,2));
INSERT INTO orders VALUES (1, 'pen', 1.50), (2, 'ink', 3.25), (3, 'pad', NULL)`)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "SELECT pg_drop_replication_slot('orders_slot')")
	})

	f := newFixture(t, captureSpec(bucket))
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	t.Setenv(envSourceURI, dsn)
	t.Setenv(envSourceUser, "")
	t.Setenv(envSourcePassword, "")
	t.Setenv(envLandingS3+"_ENDPOINT", s3.Endpoint)
	t.Setenv(envLandingS3+"_REGION", s3.Region)
	t.Setenv(envLandingS3+"_USER", s3.AccessKey)
	t.Setenv(envLandingS3+"_PASSWORD", s3.SecretKey)

	code, out, stderr := f.run(t, "capture", "--job", f.job)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)
	sum := lastLine(t, out)
	assert.EqualValues(t, 3, sum["snapshot_rows"])
	assert.EqualValues(t, 3, sum["events"])

	_, err = conn.Exec(ctx, "UPDATE orders SET amount = 2.00 WHERE id = 1; DELETE FROM orders WHERE id = 2; INSERT INTO orders VALUES (4, 'nib', 0.10)")
	require.NoError(t, err)
	code, out, stderr = f.run(t, "capture", "--job", f.job, "--max-events", "1")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)
	sum = lastLine(t, out)
	assert.EqualValues(t, 0, sum["snapshot_rows"])
	assert.EqualValues(t, 3, sum["events"])
	// The three statements are one transaction (one simple query), and an
	// object never holds part of a transaction.
	assert.EqualValues(t, 1, sum["objects"], "a transaction of three changes is one object, even at --max-events 1")

	// Caught up: a second drain lands nothing.
	code, out, _ = f.run(t, "capture", "--job", f.job)
	require.Equal(t, exitOK, code)
	assert.EqualValues(t, 0, lastLine(t, out)["events"])

	code, out, stderr = f.run(t, "run", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)
	assert.EqualValues(t, 6, lastLine(t, out)["events"])
	code, out, _ = f.run(t, "status", "--job", f.job, "--state", f.state, "--json")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, `"records":3`)
}

// TestCaptureCommandRefuses: a spec whose events Debezium lands, and a
// missing source, are configuration errors.
func TestCaptureCommandRefuses(t *testing.T) {
	spec := captureSpec("landing")
	spec.Source.Debezium.Capture = nil
	f := newFixture(t, spec)
	code, _, stderr := f.run(t, "capture", "--job", f.job, "--events", f.events)
	assert.Equal(t, exitConfig, code)
	assert.Contains(t, stderr, "no source.debezium.capture")

	f = newFixture(t, captureSpec("landing"))
	t.Setenv(envSourceURI, "")
	code, _, stderr = f.run(t, "capture", "--job", f.job, "--events", f.events)
	assert.Equal(t, exitConfig, code)
	assert.Contains(t, stderr, "set "+envSourceURI)
}
