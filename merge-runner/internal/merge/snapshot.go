package merge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/snapdiff"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// SnapshotSource reads every row of several source tables, in primary-key
// order, from one consistent snapshot (pgsource.Source).
type SnapshotSource interface {
	Snapshot(ctx context.Context, tables []*jobspec.Table, fn func(i int, r []row.Value) error) error
}

// RunSnapshot applies a postgres_snapshot spec. Every source table of the
// store is read from one snapshot of the source, in key order, and compared
// with the key state each Iceberg table's last run recorded (package
// snapdiff): only inserted, changed and deleted keys are written, in
// bounded batches of files, and all the store's tables are committed as
// one atomic change (target.CommitTables). A live table takes the rows as
// they are now; a forensic table ends the current version of a changed or
// deleted key and starts one for an inserted or changed key, at the run's
// time. A run in which nothing changed writes no data file (the commit
// still records the run).
func RunSnapshot(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, src SnapshotSource, opts Options) ([]TableStats, error) {
	if opts.MaxEvents == 0 {
		opts.MaxEvents = spec.Batch.MaxEvents
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 100_000
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	// A dataset's live and history tables read one source table once; two
	// datasets reading one source table with other columns read it apart.
	var sources []*jobspec.Table
	bySource := map[string]int{}
	readKey := func(t *jobspec.Table) string {
		cols, _ := json.Marshal(t.Columns)
		return t.SourceTable + "\x00" + string(cols) + "\x00" + strings.Join(t.PrimaryKey, ",")
	}
	var tables []*snapTable
	for i := range spec.Tables {
		t := &spec.Tables[i]
		if len(t.PrimaryKey) == 0 {
			return nil, &target.ConfigError{Msg: fmt.Sprintf("table %s.%s: a snapshot capture needs a primary key to tell rows apart", spec.Target.Namespace, t.Name)}
		}
		si, ok := bySource[readKey(t)]
		if !ok {
			si = len(sources)
			bySource[readKey(t)] = si
			sources = append(sources, t)
		}
		st, err := openSnapTable(ctx, cat, spec, t, si, now, opts)
		if err != nil {
			closeAll(tables)
			return statsOf(tables), err
		}
		tables = append(tables, st)
	}
	defer closeAll(tables)
	err := pipeline(ctx, src, sources, func(ctx context.Context, si int, r []row.Value) error {
		for _, st := range tables {
			if st.source == si {
				if err := st.row(ctx, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	var re *pgsource.RowError
	var ce *pgsource.ColumnError
	var oe *snapdiff.OrderError
	switch {
	case errors.As(err, &re):
		return statsOf(tables), &badinput.Error{Object: "postgres table " + re.Table, Reason: fmt.Sprintf("row %d: %v", re.Row, re.Err)}
	case errors.As(err, &ce):
		return statsOf(tables), &target.ConfigError{Msg: ce.Error()}
	case errors.As(err, &oe):
		return statsOf(tables), &target.ConfigError{Msg: "snapshot: " + oe.Error() + "; the source's primary key order and the merge-runner's differ for this key type"}
	case err != nil:
		return statsOf(tables), err
	}
	txs := make([]*table.Transaction, len(tables))
	for i, st := range tables {
		if txs[i], err = st.finish(ctx, spec); err != nil {
			return statsOf(tables), err
		}
	}
	if opts.BeforeCommit != nil {
		for _, st := range tables {
			if err := opts.BeforeCommit(st.name, st.state.Batch+1); err != nil {
				return statsOf(tables), err
			}
		}
	}
	if err := target.CommitTables(ctx, cat, txs); err != nil {
		for _, st := range tables {
			st.discardNewState(ctx)
		}
		if errors.Is(err, table.ErrCommitFailed) {
			return statsOf(tables), &CommitError{Table: spec.Stream, Err: err}
		}
		return statsOf(tables), err
	}
	for _, st := range tables {
		st.committed(ctx)
		opts.logger().Info("snapshot committed", "table", st.name, "batch", st.state.Batch+1,
			"inserted", st.stats.Inserted, "updated", st.stats.Updated, "deleted", st.stats.Deleted, "files", st.stats.Files)
	}
	return statsOf(tables), nil
}

// pipeline reads the source on this goroutine and hands its rows, in
// chunks, to consume on another: one core decodes while the other compares
// and writes. Chunks are reused once consumed.
func pipeline(ctx context.Context, src SnapshotSource, sources []*jobspec.Table, consume func(context.Context, int, []row.Value) error) error {
	const rowsPerChunk = 1024
	type chunk struct {
		src  int
		n    int
		rows [][]row.Value
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan *chunk, 4)
	free := make(chan *chunk, 8)
	done := make(chan error, 1)
	go func() {
		var err error
		for c := range full {
			for i := 0; i < c.n && err == nil; i++ {
				err = consume(ctx, c.src, c.rows[i])
			}
			if err != nil {
				cancel()
				for range full { // let the reader finish
				}
				break
			}
			free <- c
		}
		done <- err
	}()
	var cur *chunk
	send := func() error {
		if cur == nil || cur.n == 0 {
			return nil
		}
		select {
		case full <- cur:
			cur = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := src.Snapshot(ctx, sources, func(si int, r []row.Value) error {
		if cur != nil && (cur.src != si || cur.n == rowsPerChunk) {
			if err := send(); err != nil {
				return err
			}
		}
		if cur == nil {
			select {
			case cur = <-free:
			default:
				cur = &chunk{rows: make([][]row.Value, rowsPerChunk)}
			}
			cur.src, cur.n = si, 0
		}
		cur.rows[cur.n] = append(cur.rows[cur.n][:0], r...)
		cur.n++
		return nil
	})
	if err == nil {
		err = send()
	}
	close(full)
	if cerr := <-done; cerr != nil {
		return cerr // the consumer's error is the cause; the reader's follows from it
	}
	return err
}

// snapTable is one Iceberg table of a snapshot run.
type snapTable struct {
	t      *jobspec.Table
	name   string
	source int
	tbl    *table.Table
	l      *layout
	tx     *table.Transaction
	state  State
	stats  TableStats
	opts   Options
	ts     int64 // the run's time, µs
	keyIdx []int

	prior     snapdiff.Prior
	closers   []func()
	differ    *snapdiff.Differ
	out       *snapdiff.Writer
	outFile   io.WriteCloser
	statePath string

	upserts [][]row.Value
	ended   [][]row.Value // keys whose stored row (current version) goes
	data    []iceberg.DataFile
	deletes []iceberg.DataFile
	cow     map[string][]row.Value // copy-on-write: every ended key
	c       counts
}

func openSnapTable(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, t *jobspec.Table, si int, now time.Time, opts Options) (*snapTable, error) {
	st := &snapTable{t: t, name: spec.Target.Namespace + "." + t.Name, source: si, opts: opts, ts: now.UnixMicro(), keyIdx: keyIndexes(t)}
	st.stats.Table = st.name
	var err error
	var evs []target.Evolution
	if st.tbl, evs, err = target.Ensure(ctx, cat, spec.Target.Namespace, t); err != nil {
		return nil, err
	}
	for _, e := range evs {
		st.stats.Evolutions = append(st.stats.Evolutions, e.String())
	}
	if st.state, err = ReadState(st.tbl); err != nil {
		return nil, err
	}
	if st.l, err = newLayout(st.tbl, t); err != nil {
		return nil, err
	}
	st.tx = st.tbl.NewTransaction()
	if t.WriteMode == "copy_on_write" {
		st.cow = map[string][]row.Value{}
	}
	if err := st.openPrior(ctx); err != nil {
		return nil, err
	}
	fs, err := st.tbl.FS(ctx)
	if err != nil {
		return nil, err
	}
	wfs, ok := fs.(iceio.WriteFileIO)
	if !ok {
		return nil, fmt.Errorf("table %s: its file system cannot write", st.name)
	}
	// Beside the table, not under its location: a file there that no
	// Iceberg metadata names is what orphan-file clean-up deletes.
	st.statePath = fmt.Sprintf("%s.datasurface/keys/%d-%s.keys.zst", st.tbl.Location(), st.state.Batch+1, uuid.NewString())
	if st.outFile, err = wfs.Create(st.statePath); err != nil {
		return nil, fmt.Errorf("table %s: creating the key state %s: %w", st.name, st.statePath, err)
	}
	if st.out, err = snapdiff.NewWriter(st.outFile); err != nil {
		return nil, err
	}
	if st.differ, err = snapdiff.NewDiffer(st.prior, st.out, st.keyIdx); err != nil {
		return nil, fmt.Errorf("table %s: reading the key state %s: %w", st.name, st.state.KeyState, err)
	}
	return st, nil
}

// openPrior opens the key state the table's last run recorded; a table
// with rows but no recorded state (a lost file, or rows written another
// way) has its state computed from its rows, which holds them in memory.
func (st *snapTable) openPrior(ctx context.Context) error {
	if st.state.KeyState != "" {
		fs, err := st.tbl.FS(ctx)
		if err != nil {
			return err
		}
		f, err := fs.Open(st.state.KeyState)
		if err == nil {
			rd, err := snapdiff.NewReader(f, len(st.keyIdx))
			if err != nil {
				_ = f.Close()
				return fmt.Errorf("table %s: the key state %s: %w", st.name, st.state.KeyState, err)
			}
			st.prior = rd
			st.closers = append(st.closers, func() { rd.Close(); _ = f.Close() })
			return nil
		}
		st.opts.logger().Warn("the recorded key state cannot be read; computing it from the table", "table", st.name, "key_state", st.state.KeyState, "error", err.Error())
	}
	if st.tbl.CurrentSnapshot() == nil {
		st.prior = snapdiff.Empty{}
		return nil
	}
	prior, err := st.stateFromTable(ctx)
	if err != nil {
		return err
	}
	st.prior = prior
	return nil
}

// sortedPrior is a key state held in memory.
type sortedPrior struct {
	keys   [][]row.Value
	hashes []snapdiff.Hash
	at     int
}

func (p *sortedPrior) Next() ([]row.Value, snapdiff.Hash, error) {
	if p.at == len(p.keys) {
		return nil, snapdiff.Hash{}, io.EOF
	}
	p.at++
	return p.keys[p.at-1], p.hashes[p.at-1], nil
}

// stateFromTable computes the key state from the table's rows (a history
// table's current versions).
func (st *snapTable) stateFromTable(ctx context.Context) (*sortedPrior, error) {
	cols := st.l.cols[:len(st.t.Columns)]
	var filter iceberg.BooleanExpression = iceberg.AlwaysTrue{}
	if st.t.Mode == jobspec.ModeForensic {
		filter = iceberg.IsNull(iceberg.Reference(jobspec.ColValidTo))
	}
	p := &sortedPrior{}
	var buf []byte
	err := target.Scan(ctx, st.tbl, filter, cols, func(r []row.Value) error {
		for i := range st.t.Columns {
			if st.t.Columns[i].Type == "json" && r[i].Kind() == row.KindString {
				r[i] = row.JSON(r[i].Text()) // stored as a string, read from the source as json
			}
		}
		var h snapdiff.Hash
		h, buf = snapdiff.HashRow(buf, r)
		p.keys = append(p.keys, st.l.keyOf(r))
		p.hashes = append(p.hashes, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(p.keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return row.CompareKeys(p.keys[a], p.keys[b]) })
	keys, hashes := make([][]row.Value, len(idx)), make([]snapdiff.Hash, len(idx))
	for i, j := range idx {
		keys[i], hashes[i] = p.keys[j], p.hashes[j]
	}
	p.keys, p.hashes = keys, hashes
	st.opts.logger().Warn("no key state recorded: computed it from the table's rows", "table", st.name, "rows", len(keys))
	return p, nil
}

// row takes one source row.
func (st *snapTable) row(ctx context.Context, r []row.Value) error {
	ch, err := st.differ.Row(r, func(key []row.Value) error {
		st.stats.Deleted++
		st.end(key)
		return nil
	})
	if err != nil {
		return err
	}
	switch ch {
	case snapdiff.Inserted:
		st.stats.Inserted++
		st.upserts = append(st.upserts, slices.Clone(r))
	case snapdiff.Updated:
		st.stats.Updated++
		st.end(st.l.keyOf(r))
		st.upserts = append(st.upserts, slices.Clone(r))
	}
	if len(st.upserts)+len(st.ended) >= st.opts.MaxEvents {
		return st.flush(ctx)
	}
	return nil
}

// end records that a key's stored row (or current version) goes.
func (st *snapTable) end(key []row.Value) {
	key = slices.Clone(key)
	st.ended = append(st.ended, key)
	if st.cow != nil {
		st.cow[row.KeyString(key)] = key
	}
}

// flush writes the buffered changes as files.
func (st *snapTable) flush(ctx context.Context) error {
	if len(st.upserts) == 0 && len(st.ended) == 0 {
		return nil
	}
	rows := st.upserts
	if st.t.Mode == jobspec.ModeForensic {
		var err error
		if rows, err = st.versions(ctx); err != nil {
			return err
		}
	} else if st.cow == nil && len(st.ended) > 0 && st.tbl.CurrentSnapshot() != nil {
		del, err := deleteRows(ctx, st.l, st.ended)
		if err != nil {
			return err
		}
		files, err := st.l.writeDeletes(ctx, st.tx, del)
		if err != nil {
			return fmt.Errorf("table %s: writing equality deletes: %w", st.name, err)
		}
		st.deletes = append(st.deletes, files...)
	}
	files, err := st.l.writeData(ctx, len(rows), func(i int) []row.Value { return rows[i] }, func(i int, err error) error {
		return &badinput.Error{Object: "postgres table " + st.t.SourceTable, Reason: fmt.Sprintf("a row does not fit table %s", st.name), Err: err}
	})
	if err != nil {
		return err
	}
	st.data = append(st.data, files...)
	st.upserts, st.ended = st.upserts[:0], st.ended[:0]
	return nil
}

// versions are, for a forensic table, the rows a flush writes: the ended
// copies of the ended keys' stored current versions, and a new current
// version per upsert. With merge-on-read the stored copies are deleted by
// equality on (key, valid-to null).
func (st *snapTable) versions(ctx context.Context) ([][]row.Value, error) {
	n := len(st.t.Columns)
	var out [][]row.Value
	if len(st.ended) > 0 && st.tbl.CurrentSnapshot() != nil {
		kf, err := target.KeyFilter(st.tbl.Schema(), st.l.keyCols, st.ended)
		if err != nil {
			return nil, err
		}
		filter := iceberg.NewAnd(kf, iceberg.IsNull(iceberg.Reference(jobspec.ColValidTo)))
		var dels [][]row.Value
		err = target.Scan(ctx, st.tbl, filter, st.l.cols, func(r []row.Value) error {
			v := slices.Clone(r)
			if st.cow == nil {
				dels = append(dels, st.l.deleteRowOf(v))
			}
			v[n+1], v[n+3] = row.TimestampTZ(st.ts), row.Int64(st.state.Batch+1)
			out = append(out, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(dels) > 0 {
			files, err := st.l.writeDeletes(ctx, st.tx, dels)
			if err != nil {
				return nil, fmt.Errorf("table %s: writing equality deletes: %w", st.name, err)
			}
			st.deletes = append(st.deletes, files...)
		}
	}
	for _, u := range st.upserts {
		v := make([]row.Value, len(st.l.cols))
		copy(v, u)
		v[n], v[n+1], v[n+2], v[n+3] = row.TimestampTZ(st.ts), row.Null(), row.Int64(st.state.Batch+1), row.Null()
		out = append(out, v)
	}
	return out, nil
}

// finish writes what is left and stages the table's one snapshot.
func (st *snapTable) finish(ctx context.Context, spec *jobspec.Spec) (*table.Transaction, error) {
	err := st.differ.Finish(func(key []row.Value) error {
		st.stats.Deleted++
		st.end(key)
		if len(st.upserts)+len(st.ended) >= st.opts.MaxEvents {
			return st.flush(ctx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := st.flush(ctx); err != nil {
		return nil, err
	}
	if err := st.out.Close(); err != nil {
		return nil, fmt.Errorf("table %s: writing the key state: %w", st.name, err)
	}
	if err := st.outFile.Close(); err != nil {
		return nil, fmt.Errorf("table %s: writing the key state: %w", st.name, err)
	}
	st.outFile = nil
	props := iceberg.Properties{
		PropBatch:      strconv.FormatInt(st.state.Batch+1, 10),
		PropSourceTsMs: strconv.FormatInt(st.ts/1000, 10),
		PropStream:     spec.Stream,
		PropKeyState:   st.statePath,
		PropPosition:   "{}",
	}
	for k, v := range st.opts.Properties {
		props[k] = v
	}
	if st.cow != nil && len(st.cow) > 0 {
		keys := make([][]row.Value, 0, len(st.cow))
		for _, k := range st.cow {
			keys = append(keys, k)
		}
		var filter iceberg.BooleanExpression = iceberg.AlwaysTrue{}
		if len(keys) <= 10_000 {
			// A filter of that many keys still prunes files by their
			// metrics; beyond it, evaluating it costs more than it saves.
			if filter, err = target.KeyFilter(st.tbl.Schema(), st.l.keyCols, keys); err != nil {
				return nil, err
			}
		}
		cols := slices.Clone(st.l.keyCols)
		forensic := st.t.Mode == jobspec.ModeForensic
		if forensic {
			cols = append(cols, jobspec.ColValidTo)
			filter = iceberg.NewAnd(filter, iceberg.IsNull(iceberg.Reference(jobspec.ColValidTo)))
		}
		nk := len(st.l.keyCols)
		drop := func(r []row.Value) bool {
			if forensic && !r[nk].IsNull() {
				return false
			}
			_, ok := st.cow[row.KeyString(r[:nk])]
			return ok
		}
		if err := st.l.rewriteMatching(ctx, st.tx, filter, cols, drop, st.data, props, &st.c); err != nil {
			return nil, err
		}
	} else if err := st.l.stage(ctx, st.tx, st.data, st.deletes, props, &st.c); err != nil {
		return nil, err
	}
	st.stats.Batches = 1
	st.stats.Files, st.stats.Bytes = st.c.files, st.c.bytes
	st.stats.Events = st.stats.Inserted + st.stats.Updated + st.stats.Deleted
	st.stats.NewestSourceTsMs = st.ts / 1000
	st.stats.Position = fmt.Sprintf("batch %d", st.state.Batch+1)
	return st.tx, nil
}

// committed removes the key state the commit replaced.
func (st *snapTable) committed(ctx context.Context) {
	if st.state.KeyState == "" {
		return
	}
	if fs, err := st.tbl.FS(ctx); err == nil {
		if err := fs.Remove(st.state.KeyState); err != nil {
			st.opts.logger().Warn("the replaced key state is left behind", "table", st.name, "path", st.state.KeyState, "error", err.Error())
		}
	}
}

// discardNewState removes the key state a failed commit would have named.
func (st *snapTable) discardNewState(ctx context.Context) {
	if fs, err := st.tbl.FS(ctx); err == nil {
		_ = fs.Remove(st.statePath)
	}
}

func closeAll(tables []*snapTable) {
	for _, st := range tables {
		for _, c := range st.closers {
			c()
		}
		if st.outFile != nil {
			_ = st.outFile.Close()
		}
	}
}

func statsOf(tables []*snapTable) []TableStats {
	out := make([]TableStats, len(tables))
	for i, st := range tables {
		out[i] = st.stats
	}
	return out
}
