package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

// childMainEnv makes the test binary run the merge-runner's main, for tests
// that measure it as a process of its own.
const childMainEnv = "DATASURFACE_MERGE_RUNNER_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childMainEnv) != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	testenv.Main(m)
}

// TestPostgresCatalogS3WarehouseS3Landing runs the production shape: the SQL
// catalog on PostgreSQL, the warehouse and the landed events on an
// S3-compatible server, everything from the environment the DAG sets.
func TestPostgresCatalogS3WarehouseS3Landing(t *testing.T) {
	s3 := testenv.S3(t)
	landingBucket := s3.Bucket(t, "landing")
	warehouseBucket := s3.Bucket(t, "warehouse")
	dsn := testenv.Postgres(t)

	spec := testSpec()
	spec.Source.Debezium.Bucket = landingBucket
	key := func(p int, start int) string {
		return fmt.Sprintf("cdc/%s/partition=%d/%s+%d+%010d.json", topic, p, topic, p, start)
	}
	s3.Put(t, landingBucket, key(0, 0), []byte(strings.Join([]string{
		event("c", 1, "a", 1000), event("c", 2, "b", 1001), event("u", 1, "a2", 1002),
	}, "\n")+"\n"))
	s3.Put(t, landingBucket, key(1, 0), []byte(event("c", 3, "c", 1003)+"\n"+event("d", 3, "c", 1004)+"\n"))
	s3.Put(t, landingBucket, key(0, 3), []byte(event("d", 2, "b", 1005)+"\n"))
	f := newFixture(t, spec)

	t.Setenv(envCatalogURI, dsn)
	t.Setenv(envWarehouse, "s3://"+warehouseBucket+"/iceberg")
	t.Setenv(envS3+"_ENDPOINT", s3.Endpoint)
	t.Setenv(envS3+"_REGION", s3.Region)
	t.Setenv(envS3+"_USER", s3.AccessKey)
	t.Setenv(envS3+"_PASSWORD", s3.SecretKey)

	// Both partitions are landed: no silent partition is waited for.
	code, out, stderr := f.run(t, "run", "--job", f.job, "--grace", "1ns")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)
	sum := lastLine(t, out)
	assert.EqualValues(t, 6, sum["events"])

	code, out, stderr = f.run(t, "status", "--job", f.job, "--json")
	require.Equal(t, exitOK, code, stderr)
	var st []tableStatus
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Len(t, st, 1)
	assert.Equal(t, `{"0":4,"1":2}`, st[0].Position)
	assert.True(t, st[0].Exists)

	// Compaction folds the deletes: one row (id 1) is left.
	code, out, stderr = f.run(t, "maintain", "--job", f.job, "--min-input-files", "2", "--keep-last", "1", "--keep-newer-than", "0s")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)
	code, out, _ = f.run(t, "status", "--job", f.job, "--json")
	require.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.EqualValues(t, 1, st[0].Records)
	assert.EqualValues(t, 0, st[0].DeleteFiles)
	assert.Equal(t, `{"0":4,"1":2}`, st[0].Position)

	// A rerun applies nothing.
	code, out, _ = f.run(t, "run", "--job", f.job)
	require.Equal(t, exitOK, code)
	assert.EqualValues(t, 0, lastLine(t, out)["events"])

	// Wrong landing credentials: retryable I/O, not bad input.
	t.Setenv(envS3+"_PASSWORD", "wrong")
	code, out, _ = f.run(t, "run", "--job", f.job)
	assert.Equal(t, exitRetryable, code, out)
}

// TestSnapshotSourceFromTheEnvironment runs a postgres_snapshot spec the way
// its DAG does: the source database from DATASURFACE_SOURCE_*.
func TestSnapshotSourceFromTheEnvironment(t *testing.T) {
	dsn := testenv.Postgres(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `CREATE TABLE fx_rates (ccy char(3) PRIMARY KEY, rate numeric(18,6) NOT NULL, at timestamptz NOT NULL);
INSERT INTO fx_rates VALUES ('EUR', 1.083200, '2026-11-24 16:00:00+00'), ('GBP', 1.265000, '2026-11-24 16:00:00+00')`)
	require.NoError(t, err)
	spec := &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "fx", Datastore: "treasury",
		Source: jobspec.Source{Kind: jobspec.SourceSnapshot, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "reader"}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "treasury"},
		Tables: []jobspec.Table{{Dataset: "fx_rates", SourceTable: "public.fx_rates", Name: "fx_rates", Mode: jobspec.ModeLive,
			PrimaryKey: []string{"ccy"}, WriteMode: "merge_on_read", Columns: []jobspec.Column{
				{Name: "ccy", Type: "char", Length: 3}, {Name: "rate", Type: "decimal", Precision: 18, Scale: 6}, {Name: "at", Type: "timestamptz"},
			}}},
		Batch: jobspec.Batch{MaxEvents: 100000},
	}
	f := newFixture(t, spec)
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	t.Setenv(envSourceURI, "")
	code, out, _ := f.run(t, "run", "--job", f.job, "--state", f.state)
	assert.Equal(t, exitConfig, code, "no source URI: %s", out)

	t.Setenv(envSourceURI, dsn)
	code, out, stderr := f.run(t, "run", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)
	assert.EqualValues(t, 2, lastLine(t, out)["rows_inserted"])
	code, out, _ = f.run(t, "status", "--job", f.job, "--state", f.state, "--json")
	require.Equal(t, exitOK, code)
	var st []tableStatus
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.EqualValues(t, 2, st[0].Records)
}
