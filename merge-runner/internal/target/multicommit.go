package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// CommitTables commits several tables' transactions as one atomic change:
// readers of the catalog see all of them or none. On a REST catalog that
// is the multi-table transaction endpoint (POST /v1/{prefix}/transactions/commit);
// on a SQL catalog (the JDBC catalog's schema) one database transaction
// that moves every table's metadata location with its compare-and-set.
// One transaction commits alone, as Transaction.Commit does.
func CommitTables(ctx context.Context, cat catalog.Catalog, txs []*table.Transaction) error {
	if len(txs) == 1 {
		_, err := txs[0].Commit(ctx)
		return err
	}
	mtx, err := catalog.NewMultiTableTransaction(cat)
	if err != nil {
		return fmt.Errorf("committing %d tables together: %w", len(txs), err)
	}
	for _, tx := range txs {
		if err := mtx.AddTransaction(tx); err != nil {
			return err
		}
	}
	return mtx.Commit(ctx)
}

// metadataFile is a metadata file's name: <version>-<uuid>[.codec].metadata.json.
var metadataFile = regexp.MustCompile(`^(\d+)-[\w-]{36}(?:\.\w+)?\.metadata\.json$`)

// CommitTransaction makes the SQL catalog a catalog.TransactionalCatalog
// (iceberg-go's SQL catalog commits one table at a time). Each table's new
// metadata is built from its current metadata as CommitTable does and
// written first; then one database transaction updates every table's row
// where its metadata location is still the one the new metadata was built
// on. If any row moved, nothing is updated and the error wraps
// table.ErrCommitFailed; the written metadata files are left unreferenced.
func (c *ownedSQL) CommitTransaction(ctx context.Context, commits []table.TableCommit) error {
	type move struct {
		ns, name, from, to string
	}
	moves := make([]move, 0, len(commits))
	for _, tc := range commits {
		cur, err := c.LoadTable(ctx, tc.Identifier)
		if err != nil {
			return err
		}
		for _, r := range tc.Requirements {
			if err := r.Validate(cur.Metadata()); err != nil {
				return fmt.Errorf("%w: table %s: %w", table.ErrCommitFailed, strings.Join(tc.Identifier, "."), err)
			}
		}
		updated, err := table.UpdateTableMetadata(cur.Metadata(), tc.Updates, cur.MetadataLocation())
		if err != nil {
			return err
		}
		m := metadataFile.FindStringSubmatch(path.Base(cur.MetadataLocation()))
		if m == nil {
			return fmt.Errorf("table %s: metadata location %s has no version", strings.Join(tc.Identifier, "."), cur.MetadataLocation())
		}
		version, _ := strconv.Atoi(m[1])
		loc, err := table.LoadLocationProvider(updated.Location(), updated.Properties())
		if err != nil {
			return err
		}
		next, err := loc.NewTableMetadataFileLocation(version + 1)
		if err != nil {
			return err
		}
		if err := writeMetadata(ctx, cur, updated, next); err != nil {
			return fmt.Errorf("table %s: writing metadata %s: %w", strings.Join(tc.Identifier, "."), next, err)
		}
		moves = append(moves, move{
			ns: strings.Join(catalog.NamespaceFromIdent(tc.Identifier), "."), name: catalog.TableNameFromIdent(tc.Identifier),
			from: cur.MetadataLocation(), to: next,
		})
	}
	q := `UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?
		WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?`
	if c.dialect == sqlcat.Postgres {
		q = `UPDATE iceberg_tables SET metadata_location = $1, previous_metadata_location = $2
		WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 AND metadata_location = $6`
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, mv := range moves {
		res, err := tx.ExecContext(ctx, q, mv.to, mv.from, c.Name(), mv.ns, mv.name, mv.from)
		if err != nil {
			return fmt.Errorf("moving table %s.%s: %w", mv.ns, mv.name, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(fmt.Errorf("%w: table %s.%s moved underneath the commit", table.ErrCommitFailed, mv.ns, mv.name), err)
		}
	}
	return tx.Commit()
}

// writeMetadata writes metadata as the SQL catalog does (JSON, the
// table's metadata compression).
func writeMetadata(ctx context.Context, cur *table.Table, meta table.Metadata, loc string) (err error) {
	fs, err := cur.FS(ctx)
	if err != nil {
		return err
	}
	wfs, ok := fs.(iceio.WriteFileIO)
	if !ok {
		return errors.New("the table's file system cannot write")
	}
	if codec := meta.Properties().Get(table.MetadataCompressionKey, table.MetadataCompressionDefault); codec != table.MetadataCompressionCodecNone {
		return fmt.Errorf("metadata compression %s is not written by the multi-table commit; use none", codec)
	}
	out, err := wfs.Create(loc)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	return json.NewEncoder(out).Encode(meta)
}

var _ catalog.TransactionalCatalog = (*ownedSQL)(nil)
