package merge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

// peopleSpec is a snapshot of public.people into a live and a history
// table.
func peopleSpec(writeMode string) *jobspec.Spec {
	cols := []jobspec.Column{{Name: "id", Type: "int32"}, {Name: "name", Type: "text", Nullable: true}}
	live := jobspec.Table{Dataset: "people", SourceTable: "public.people", Name: "people", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, WriteMode: writeMode, Columns: cols}
	hist := live
	hist.Name, hist.Mode = "people_history", jobspec.ModeForensic
	return &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "people", Datastore: "hr",
		Source: jobspec.Source{Kind: jobspec.SourceSnapshot, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "reader"}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "hr"},
		Tables: []jobspec.Table{live, hist},
		Batch:  jobspec.Batch{MaxEvents: 2},
	}
}

func snapshotSource(t *testing.T, ddl string) (*pgx.Conn, *pgsource.Source) {
	t.Helper()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(ctx) })
	_, err = conn.Exec(ctx, ddl)
	require.NoError(t, err)
	src, err := pgsource.Open(ctx, dsn, "", "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close(ctx) })
	return conn, src
}

// clockAt gives each run its own time, a second apart.
func clockAt(runs *int) func() time.Time {
	return func() time.Time { return time.Unix(1_700_000_000+int64(*runs), 0) }
}

// TestSnapshotFiveBatches: an insert opens a version, a change closes it
// and opens the next, a deletion closes it, a re-insert opens a new one,
// an unchanged row is untouched; the live table follows the source.
func TestSnapshotFiveBatches(t *testing.T) {
	for _, wm := range []string{"merge_on_read", "copy_on_write"} {
		t.Run(wm, func(t *testing.T) {
			conn, src := snapshotSource(t, `CREATE TABLE people (id int4 PRIMARY KEY, name text)`)
			ctx := context.Background()
			e := newEnv(t)
			spec := peopleSpec(wm)
			runs := 0
			opts := e.opts()
			opts.Now = clockAt(&runs)
			steps := []struct {
				sql           string
				ins, upd, del int64
				live, history []string
			}{
				{`INSERT INTO people VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy')`, 3, 0, 0,
					[]string{"1|Ann", "2|Bob", "3|Cy"},
					[]string{"1|Ann|s1|NULL|1|NULL", "2|Bob|s1|NULL|1|NULL", "3|Cy|s1|NULL|1|NULL"}},
				{`UPDATE people SET name = 'Bobby' WHERE id = 2`, 0, 1, 0,
					[]string{"1|Ann", "2|Bobby", "3|Cy"},
					[]string{"1|Ann|s1|NULL|1|NULL", "2|Bob|s1|s2|1|2", "2|Bobby|s2|NULL|2|NULL", "3|Cy|s1|NULL|1|NULL"}},
				{`DELETE FROM people WHERE id = 3`, 0, 0, 1,
					[]string{"1|Ann", "2|Bobby"},
					[]string{"1|Ann|s1|NULL|1|NULL", "2|Bob|s1|s2|1|2", "2|Bobby|s2|NULL|2|NULL", "3|Cy|s1|s3|1|3"}},
				{`INSERT INTO people VALUES (3, 'Cy')`, 1, 0, 0,
					[]string{"1|Ann", "2|Bobby", "3|Cy"},
					[]string{"1|Ann|s1|NULL|1|NULL", "2|Bob|s1|s2|1|2", "2|Bobby|s2|NULL|2|NULL", "3|Cy|s1|s3|1|3", "3|Cy|s4|NULL|4|NULL"}},
				{``, 0, 0, 0,
					[]string{"1|Ann", "2|Bobby", "3|Cy"},
					[]string{"1|Ann|s1|NULL|1|NULL", "2|Bob|s1|s2|1|2", "2|Bobby|s2|NULL|2|NULL", "3|Cy|s1|s3|1|3", "3|Cy|s4|NULL|4|NULL"}},
			}
			for i, s := range steps {
				runs = i + 1
				if s.sql != "" {
					_, err := conn.Exec(ctx, s.sql)
					require.NoError(t, err)
				}
				st, err := RunSQL(ctx, e.catalog, spec, src, opts)
				require.NoError(t, err, "batch %d", i+1)
				for _, ts := range st {
					assert.Equal(t, []int64{s.ins, s.upd, s.del}, []int64{ts.Inserted, ts.Updated, ts.Deleted}, "batch %d %s", i+1, ts.Table)
					if s.ins+s.upd+s.del == 0 {
						assert.Zero(t, ts.Files, "batch %d %s: nothing changed, no file written", i+1, ts.Table)
					}
				}
				assert.Equal(t, s.live, e.rows(t, spec, 0), "batch %d live", i+1)
				sort.Strings(s.history)
				assert.Equal(t, s.history, historyRows(t, e, spec), "batch %d history", i+1)
			}
		})
	}
}

// historyRows renders a history table's rows with the run number in place
// of each validity time (s<run>).
func historyRows(t *testing.T, e *env, spec *jobspec.Spec) []string {
	t.Helper()
	var out []string
	for _, r := range e.rows(t, spec, 1) {
		parts := strings.Split(r, "|")
		for i := 2; i <= 3; i++ {
			var us int64
			if _, err := fmt.Sscanf(parts[i], "timestamptz(%dus)", &us); err == nil {
				parts[i] = fmt.Sprintf("s%d", us/1_000_000-1_700_000_000)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

// TestSnapshotOracle: random changes to a table of every type, a snapshot
// run after each round, in small batches; the live table and the history's
// current versions equal PostgreSQL's table row for row.
func TestSnapshotOracle(t *testing.T) {
	for _, wm := range []string{"merge_on_read", "copy_on_write"} {
		t.Run(wm, func(t *testing.T) {
			conn, src := snapshotSource(t, oracleDDL+"; SET TimeZone = 'UTC'; SET extra_float_digits = 3")
			_, err := conn.Exec(context.Background(), "SET TimeZone = 'UTC'; SET extra_float_digits = 3")
			require.NoError(t, err)
			ctx := context.Background()
			live := oracleTable(nil)
			live.WriteMode = wm
			hist := live
			hist.Name, hist.Mode = "things_history", jobspec.ModeForensic
			spec := &jobspec.Spec{
				Version: 1, Platform: "lake", Stream: "db", Datastore: "db",
				Source: jobspec.Source{Kind: jobspec.SourceSnapshot, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "r"}},
				Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "db"},
				Tables: []jobspec.Table{live, hist},
				Batch:  jobspec.Batch{MaxEvents: 17},
			}
			e := newEnv(t)
			g := gen{rand.New(rand.NewPCG(7, uint64(len(wm))))}
			var ids []int64
			exec := func(sql string) {
				_, err := conn.Exec(ctx, sql)
				require.NoError(t, err, sql)
			}
			values := func(r []row.Value) string {
				vals := make([]string, len(r))
				for i, v := range r {
					vals[i] = pgLiteral(v, live.Columns[i])
				}
				return strings.Join(vals, ", ")
			}
			next := int64(1)
			for round := 0; round < 5; round++ {
				for step := 0; step < 60; step++ {
					switch p := g.r.IntN(10); {
					case p < 4 || len(ids) == 0:
						r := g.row(next, []string{"eu", "us"}[g.r.IntN(2)])
						exec("INSERT INTO things VALUES (" + values(r) + ")")
						ids = append(ids, next)
						next++
					case p < 8:
						id := ids[g.r.IntN(len(ids))]
						r := g.row(id, "")
						sets := []string{}
						for i := 2; i < len(r); i++ {
							sets = append(sets, live.Columns[i].Name+" = "+pgLiteral(r[i], live.Columns[i]))
						}
						exec(fmt.Sprintf("UPDATE things SET %s WHERE id = %d", strings.Join(sets, ", "), id))
					default:
						k := g.r.IntN(len(ids))
						exec(fmt.Sprintf("DELETE FROM things WHERE id = %d", ids[k]))
						ids = append(ids[:k], ids[k+1:]...)
					}
				}
				st, err := RunSQL(ctx, e.catalog, spec, src, e.opts())
				require.NoError(t, err, "round %d", round)
				require.Len(t, st, 2)
				want := oracleRows(t, conn, live)
				sameRows(t, want, icebergRows(t, e, spec, 0), round)
				sameRows(t, want, icebergRows(t, e, spec, 1), round)
			}
			st, err := RunSQL(ctx, e.catalog, spec, src, e.opts())
			require.NoError(t, err)
			for _, s := range st {
				assert.Zero(t, s.Inserted+s.Updated+s.Deleted, "no source change")
				assert.Zero(t, s.Files, "no file")
			}
		})
	}
}

// TestSnapshotStoreMovesTogether: a store's two tables commit as one
// change; a crash before the commit and a conflict on one table leave both
// where they were, and the next run brings both to the same batch.
func TestSnapshotStoreMovesTogether(t *testing.T) {
	for name, newEnvFor := range map[string]func(*testing.T) *env{"sqlite": newEnv, "postgres": newPostgresEnv} {
		t.Run(name, func(t *testing.T) {
			conn, src := snapshotSource(t, `CREATE TABLE people (id int4 PRIMARY KEY, name text); CREATE TABLE pets (id int4 PRIMARY KEY, name text);
				INSERT INTO people VALUES (1, 'Ann'); INSERT INTO pets VALUES (1, 'Rex')`)
			ctx := context.Background()
			e := newEnvFor(t)
			spec := peopleSpec("merge_on_read")
			pets := spec.Tables[0]
			pets.Dataset, pets.SourceTable, pets.Name = "pets", "public.pets", "pets"
			spec.Tables = []jobspec.Table{spec.Tables[0], pets}
			_, err := RunSQL(ctx, e.catalog, spec, src, e.opts())
			require.NoError(t, err)
			batches := func() []int64 {
				var out []int64
				for _, tb := range spec.Tables {
					tbl, err := e.catalog.LoadTable(ctx, table.Identifier{"hr", tb.Name})
					require.NoError(t, err)
					st, err := ReadState(tbl)
					require.NoError(t, err)
					out = append(out, st.Batch)
				}
				return out
			}
			require.Equal(t, []int64{1, 1}, batches())

			_, err = conn.Exec(ctx, `UPDATE people SET name = 'Anne'; INSERT INTO pets VALUES (2, 'Tom')`)
			require.NoError(t, err)
			crash := e.opts()
			crash.BeforeCommit = func(string, int64) error { return errors.New("killed") }
			_, err = RunSQL(ctx, e.catalog, spec, src, crash)
			require.ErrorContains(t, err, "killed")
			assert.Equal(t, []int64{1, 1}, batches())
			assert.Equal(t, []string{"1|Ann"}, e.rows(t, spec, 0))

			// Another writer moves pets between this run's reading and its commit.
			conflict := e.opts()
			conflict.BeforeCommit = func(tb string, _ int64) error {
				if tb != "hr.pets" {
					return nil
				}
				tbl, err := e.catalog.LoadTable(ctx, table.Identifier{"hr", "pets"})
				require.NoError(t, err)
				tx := tbl.NewTransaction()
				require.NoError(t, tx.AddFiles(ctx, nil, nil, false)) // a snapshot of its own
				_, err = tx.Commit(ctx)
				return err
			}
			_, err = RunSQL(ctx, e.catalog, spec, src, conflict)
			var ce *CommitError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, []int64{1, 1}, batches(), "the other writer's snapshot carries no batch")
			assert.Equal(t, []string{"1|Ann"}, e.rows(t, spec, 0), "people did not move either")
			assert.Equal(t, []string{"1|Rex"}, e.rows(t, spec, 1))

			st, err := RunSQL(ctx, e.catalog, spec, src, e.opts())
			require.NoError(t, err)
			assert.Equal(t, []int64{2, 2}, batches())
			assert.EqualValues(t, 1, st[0].Updated)
			assert.EqualValues(t, 1, st[1].Inserted)
			assert.Equal(t, []string{"1|Anne"}, e.rows(t, spec, 0))
			assert.Equal(t, []string{"1|Rex", "2|Tom"}, e.rows(t, spec, 1))
		})
	}
}

// TestSnapshotOneSourceTwoShapes: two datasets of a store read one source
// table with different columns; each gets its own rows.
func TestSnapshotOneSourceTwoShapes(t *testing.T) {
	_, src := snapshotSource(t, `CREATE TABLE people (id int4 PRIMARY KEY, name text, secret text); INSERT INTO people VALUES (1, 'Ann', 'x'), (2, 'Bob', 'y')`)
	ctx := context.Background()
	e := newEnv(t)
	spec := peopleSpec("merge_on_read")
	narrow := spec.Tables[0]
	narrow.Dataset, narrow.Name = "people_ids", "people_ids"
	narrow.Columns = []jobspec.Column{{Name: "id", Type: "int32"}}
	spec.Tables = []jobspec.Table{spec.Tables[0], narrow}
	st, err := RunSQL(ctx, e.catalog, spec, src, e.opts())
	require.NoError(t, err)
	assert.EqualValues(t, 2, st[0].Inserted)
	assert.EqualValues(t, 2, st[1].Inserted)
	assert.Equal(t, []string{"1|Ann", "2|Bob"}, e.rows(t, spec, 0))
	assert.Equal(t, []string{"1", "2"}, e.rows(t, spec, 1))
}
