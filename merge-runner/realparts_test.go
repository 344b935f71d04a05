package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
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

	// The summary counts rows: one changed, one gone, one new, one left alone.
	_, err = conn.Exec(context.Background(), `UPDATE fx_rates SET rate = 1.084 WHERE ccy = 'EUR'; DELETE FROM fx_rates WHERE ccy = 'GBP';
INSERT INTO fx_rates VALUES ('JPY', 0.006700, '2026-11-25 16:00:00+00'), ('CHF', 1.130000, '2026-11-25 16:00:00+00');
UPDATE fx_rates SET rate = rate WHERE ccy = 'CHF'`)
	require.NoError(t, err)
	code, out, stderr = f.run(t, "run", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	sum := lastLine(t, out)
	assert.EqualValues(t, 2, sum["rows_inserted"])
	assert.EqualValues(t, 1, sum["rows_updated"])
	assert.EqualValues(t, 1, sum["rows_deleted"])
	code, out, _ = f.run(t, "run", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code)
	sum = lastLine(t, out)
	assert.EqualValues(t, 0, sum["rows_inserted"].(float64)+sum["rows_updated"].(float64)+sum["rows_deleted"].(float64), "no source change")
	assert.EqualValues(t, 0, sum["files"], "nothing changed: no file")
}

// TestSnapshotMemoryIsBoundedByTheBatch: a source table many batches
// large is read, compared and written by a process whose peak resident
// memory stays under a limit that holding the table would exceed.
func TestSnapshotMemoryIsBoundedByTheBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 400,000 rows")
	}
	dsn := testenv.Postgres(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	// About 1 kB a row: 400 MB of rows, in batches of 2,000.
	_, err = conn.Exec(context.Background(), `CREATE TABLE wide (id int8 PRIMARY KEY, body text NOT NULL, n int4 NOT NULL);
INSERT INTO wide SELECT g, repeat(md5(g::text), 30), g % 1000 FROM generate_series(1, 400000) g`)
	require.NoError(t, err)
	spec := &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "wide", Datastore: "big",
		Source: jobspec.Source{Kind: jobspec.SourceSnapshot, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "reader"}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "big"},
		Tables: []jobspec.Table{{Dataset: "wide", SourceTable: "public.wide", Name: "wide", Mode: jobspec.ModeLive,
			PrimaryKey: []string{"id"}, WriteMode: "merge_on_read", Columns: []jobspec.Column{
				{Name: "id", Type: "int64"}, {Name: "body", Type: "text"}, {Name: "n", Type: "int32"},
			}}},
		Batch: jobspec.Batch{MaxEvents: 2000},
	}
	f := newFixture(t, spec)
	for _, run := range []string{"first", "after a change"} {
		cmd := exec.Command(os.Args[0], "run", "--job", f.job, "--state", f.state)
		cmd.Env = append(os.Environ(), childMainEnv+"=1", envSourceURI+"="+dsn, envCatalogURI+"=", envWarehouse+"=")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		require.NoError(t, cmd.Run(), errb.String())
		sum := lastLine(t, out.String())
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // kB on Linux
		t.Logf("%s run: %v rows inserted, %v updated; peak RSS %d MiB", run, sum["rows_inserted"], sum["rows_updated"], rss>>20)
		assert.Less(t, rss, int64(300<<20), "peak resident memory of the %s run", run)
		_, err = conn.Exec(context.Background(), `UPDATE wide SET n = n + 1 WHERE id % 100 = 0`)
		require.NoError(t, err)
	}
}
