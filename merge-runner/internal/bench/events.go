package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// EventsOptions say what change events to land.
type EventsOptions struct {
	Dir string
	// Rows is the prepared table's row count (0: dir/bench.json's).
	Rows     int64
	Events   int
	Envelope bool
	Seed     uint64
	// Partitions of the topic (a key always lands in partition id % Partitions).
	Partitions int
	// FlushSize is the sink's flush.size: lines per landed file.
	FlushSize int
}

// Events lands o.Events change events for the prepared table into
// dir/events: 70% updates of live keys, 20% inserts of new keys (ids from
// Rows up), 10% deletes of live keys, keys drawn uniformly from the keys
// that exist at that point, source.ts_ms increasing by 1 ms per event.
// Updates carry no before image and deletes a key-only one (REPLICA
// IDENTITY DEFAULT). It rewrites dir/job.json for the encoding and writes
// dir/expected.json, the table's row count and sums once they are applied.
func Events(ctx context.Context, w io.Writer, o EventsOptions) error {
	started := time.Now()
	if o.Rows == 0 {
		in, err := ReadInfo(o.Dir)
		if err != nil {
			return fmt.Errorf("no --rows and no prepared table: %w", err)
		}
		o.Rows = in.Rows
	}
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	if o.Rows <= 0 || o.Events <= 0 {
		return fmt.Errorf("--rows and --events must be positive")
	}
	if err := writeSpec(o.Dir, o.Envelope); err != nil {
		return err
	}
	root := filepath.Join(o.Dir, "events")
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	t := Table()
	enc, err := encode.NewEncoder(&t, Spec(o.Dir, o.Envelope).Source.Debezium.Encoding, encode.Meta{Database: "shop"})
	if err != nil {
		return err
	}
	l, err := encode.NewLander(root, enc.Topic(), encode.LandOptions{Prefix: Prefix, FlushSize: o.FlushSize})
	if err != nil {
		return err
	}
	// version[id] is the key's current version, -1 when it is not in the table.
	total := o.Rows + int64(o.Events)
	version := make([]int64, total)
	for i := o.Rows; i < total; i++ {
		version[i] = -1
	}
	touched := make([]uint64, (total+63)/64)
	rng := rand.New(rand.NewPCG(o.Seed, 0x6461746173757266))
	g := &rowGen{seed: o.Seed}
	vals := make([]row.Value, len(t.Columns))
	next := o.Rows
	live := o.Rows
	pick := func() int64 {
		for {
			if k := rng.Int64N(next); version[k] >= 0 {
				return k
			}
		}
	}
	var updates, inserts, deletes, bytes int64
	for i := 0; i < o.Events; i++ {
		if i%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ts := EventBaseMs + int64(i)
		enc.SetSource(encode.Source{TsMs: ts, LSN: 100_000_000 + int64(i)*64, TxID: 1000 + int64(i)})
		var id int64
		var line []byte
		switch r := rng.IntN(100); {
		case r < 70 && live > 0:
			id = pick()
			version[id] = int64(i) + 1
			g.fill(vals, id, version[id], ts*1000)
			line, err = enc.Update(nil, vals)
			updates++
		case r < 90 || live == 0:
			id = next
			next++
			live++
			version[id] = int64(i) + 1
			g.fill(vals, id, version[id], ts*1000)
			line, err = enc.Create(vals)
			inserts++
		default:
			id = pick()
			version[id] = -1
			live--
			line, err = enc.Delete(enc.KeyRow([]row.Value{row.Int64(id)}))
			deletes++
		}
		if err != nil {
			return err
		}
		touched[id/64] |= 1 << (id % 64)
		bytes += int64(len(line)) + 1
		if _, err := l.Add(int32(id%int64(o.Partitions)), line); err != nil {
			return err
		}
	}
	if err := l.Close(); err != nil {
		return err
	}
	var exp Expected
	for id, v := range version {
		if v >= 0 {
			exp.Rows++
			exp.SumID += int64(id)
			exp.SumVersion += v
		}
	}
	if err := writeJSON(filepath.Join(o.Dir, "expected.json"), exp); err != nil {
		return err
	}
	var keys int
	for _, w := range touched {
		for ; w != 0; w &= w - 1 {
			keys++
		}
	}
	res := Result{Step: "events", Rows: o.Rows, Envelope: o.Envelope, Events: int64(o.Events),
		Files: int64(len(l.Files())), Bytes: bytes,
		Note: fmt.Sprintf("updates=%d inserts=%d deletes=%d distinct_keys=%d bytes_per_event=%.0f table_rows_after=%d",
			updates, inserts, deletes, keys, float64(bytes)/float64(o.Events), exp.Rows)}
	return finish(w, &res, time.Since(started))
}

// readSpec reads dir/job.json.
func readSpec(dir string) (*jobspec.Spec, error) {
	return jobspec.Read(filepath.Join(dir, "job.json"))
}
