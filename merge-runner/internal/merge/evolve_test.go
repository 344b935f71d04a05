package merge

import (
	"context"
	"testing"

	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

func TestCopyOnWriteMatchesMergeOnRead(t *testing.T) {
	for _, partitioned := range []bool{false, true} {
		mor := itemsSpec(jobspec.ModeLive, partitioned)
		mor.Batch.MaxEvents = 13
		cow := itemsSpec(jobspec.ModeLive, partitioned)
		cow.Batch.MaxEvents = 13
		cow.Tables[0].WriteMode = "copy_on_write"

		a, b := newEnv(t), newEnv(t)
		history(t, a.events, 5, 200)
		history(t, b.events, 5, 200)
		a.run(t, mor)
		b.run(t, cow)
		require.Equal(t, a.rows(t, mor, 0), b.rows(t, cow, 0))

		tbl, err := b.catalog.LoadTable(context.Background(), table.Identifier{"shop", "items"})
		require.NoError(t, err)
		assert.Equal(t, "0", tbl.CurrentSnapshot().Summary.Properties["total-delete-files"], "copy-on-write writes no delete files")
	}
}

func TestSchemaEvolutionBeforeMerge(t *testing.T) {
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeLive, false)
	spec.Tables[0].Columns = append(spec.Tables[0].Columns, jobspec.Column{Name: "qty", Type: "int32", Nullable: true})
	land(t, e.events, 0, 0, ev("c", "", `{"id":1,"name":"a","price":"1.00","region":"eu","qty":7}`, 1000))
	e.run(t, spec)

	// The model widens qty and price and adds a nullable column.
	spec.Tables[0].Columns[2].Precision = 14
	spec.Tables[0].Columns[4].Type = "int64"
	spec.Tables[0].Columns = append(spec.Tables[0].Columns, jobspec.Column{Name: "note", Type: "text", Nullable: true})
	land(t, e.events, 0, 1, ev("c", "", `{"id":2,"name":"b","price":"123456789012.00","region":"eu","qty":9000000000,"note":"hi"}`, 2000))
	st := e.run(t, spec)
	assert.ElementsMatch(t, []string{
		"widen column price to decimal(14, 2)", "widen column qty to long", "add nullable column note string",
	}, st[0].Evolutions)
	assert.Equal(t, []string{"1|a|1.00|eu|7|NULL", "2|b|123456789012.00|eu|9000000000|hi"}, e.rows(t, spec, 0))

	// A narrowing is refused before anything is read.
	spec.Tables[0].Columns[4].Type = "int32"
	_, err := Run(context.Background(), e.catalog, spec, e.opts())
	var ce *target.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "column qty is long in the table and int in the job spec")
}
