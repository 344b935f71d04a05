package target

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
)

// Table property values for the spec's write modes.
const (
	writeMergeOnRead = "merge-on-read"
	writeCopyOnWrite = "copy-on-write"
)

// Ensure returns the spec table's Iceberg table in namespace ns, creating it
// (and the namespace) when absent and applying allowed evolutions when its
// schema is behind the spec's. Evolutions are committed before any data, so
// a batch always writes against the spec's schema.
func Ensure(ctx context.Context, cat catalog.Catalog, ns string, t *jobspec.Table) (*table.Table, []Evolution, error) {
	want, err := Schema(t)
	if err != nil {
		return nil, nil, err
	}
	ident := table.Identifier{ns, t.Name}
	tbl, err := cat.LoadTable(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
		tbl, err = create(ctx, cat, ns, ident, t, want)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("table %s.%s: %w", ns, t.Name, err)
	}
	if err := checkShape(tbl, t, want); err != nil {
		return nil, nil, err
	}
	evs, err := Plan(ns+"."+t.Name, tbl.Schema(), want)
	if err != nil {
		return nil, nil, err
	}
	// The write mode is the model's choice and may change: the table's
	// properties say it to other engines writing the table.
	props := writeModeProps(t)
	stale := false
	for k, v := range props {
		stale = stale || tbl.Properties()[k] != v
	}
	if len(evs) == 0 && !stale {
		return tbl, nil, nil
	}
	tx := tbl.NewTransaction()
	if err := Apply(tx, evs); err != nil {
		return nil, nil, fmt.Errorf("table %s.%s: evolving the schema: %w", ns, t.Name, err)
	}
	if stale {
		if err := tx.SetProperties(props); err != nil {
			return nil, nil, fmt.Errorf("table %s.%s: setting the write mode: %w", ns, t.Name, err)
		}
	}
	tbl, err = tx.Commit(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("table %s.%s: committing the schema evolution: %w", ns, t.Name, err)
	}
	return tbl, evs, nil
}

// writeModeProps are the table properties of the spec's write mode.
func writeModeProps(t *jobspec.Table) iceberg.Properties {
	mode := writeMergeOnRead
	if t.WriteMode == "copy_on_write" {
		mode = writeCopyOnWrite
	}
	return iceberg.Properties{table.WriteDeleteModeKey: mode, "write.update.mode": mode, "write.merge.mode": mode}
}

func create(ctx context.Context, cat catalog.Catalog, ns string, ident table.Identifier, t *jobspec.Table, sc *iceberg.Schema) (*table.Table, error) {
	if err := cat.CreateNamespace(ctx, table.Identifier{ns}, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	spec, err := PartitionSpec(t, sc)
	if err != nil {
		return nil, err
	}
	props := writeModeProps(t)
	props["format-version"] = "2"
	props["datasurface.dataset"] = t.Dataset
	// zstd at its fastest level: compressing is the largest part of
	// writing a batch, and level 1 keeps most of the gain.
	props[table.ParquetCompressionLevelKey] = "1"
	tbl, err := cat.CreateTable(ctx, ident, sc, catalog.WithPartitionSpec(spec), catalog.WithProperties(props))
	if errors.Is(err, catalog.ErrTableAlreadyExists) {
		// Another runner created it first.
		return cat.LoadTable(ctx, ident)
	}
	return tbl, err
}

// checkShape refuses a table whose key or partitioning differs from the
// spec's: neither is an allowed evolution.
func checkShape(tbl *table.Table, t *jobspec.Table, want *iceberg.Schema) error {
	name := tbl.Identifier()
	have := tbl.Schema()
	var haveKey, wantKey []string
	for _, id := range have.IdentifierFieldIDs {
		n, _ := have.FindColumnName(id)
		haveKey = append(haveKey, n)
	}
	for _, id := range want.IdentifierFieldIDs {
		n, _ := want.FindColumnName(id)
		wantKey = append(wantKey, n)
	}
	slices.Sort(haveKey)
	slices.Sort(wantKey)
	if !slices.Equal(haveKey, wantKey) {
		return configErrorf("table %v: its identifier fields are %v and the job spec's primary key is %v; a key change is not an allowed evolution", name, haveKey, wantKey)
	}
	var haveParts []string
	spec := tbl.Spec()
	for _, f := range spec.Fields() {
		n, _ := have.FindColumnName(f.SourceID())
		haveParts = append(haveParts, n+":"+f.Transform.String())
	}
	var wantParts []string
	for _, p := range t.PartitionBy {
		wantParts = append(wantParts, p+":identity")
	}
	if !slices.Equal(haveParts, wantParts) {
		return configErrorf("table %v is partitioned by %v and the job spec says %v; a partition change is not an allowed evolution", name, haveParts, wantParts)
	}
	return nil
}
