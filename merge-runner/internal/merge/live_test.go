package merge

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
)

func TestLiveMergeAndRerun(t *testing.T) {
	for _, partitioned := range []bool{false, true} {
		t.Run(map[bool]string{false: "unpartitioned", true: "partitioned"}[partitioned], func(t *testing.T) {
			e := newEnv(t)
			spec := itemsSpec(jobspec.ModeLive, partitioned)
			land(t, e.events, 0, 0,
				ev("r", "", item(1, "apple", "1.50", "eu"), 1000),
				ev("c", "", item(2, "pear", "2.00", "eu"), 1001),
				ev("c", "", item(3, "plum", "", "us"), 1002),
			)
			st := e.run(t, spec)
			require.Len(t, st, 1)
			assert.EqualValues(t, 3, st[0].Inserted)
			assert.Equal(t, []string{"1|apple|1.50|eu", "2|pear|2.00|eu", "3|plum|NULL|us"}, e.rows(t, spec, 0))

			// Updates (one moving region), a delete, a key change, in a second file.
			land(t, e.events, 0, 3,
				ev("u", "", item(1, "apple", "1.75", "us"), 2000),
				ev("d", key(2), "", 2001),
				ev("d", key(3), "", 2002),
				ev("c", "", item(30, "plum", "3.10", "us"), 2002),
				ev("u", "", item(1, "green apple", "1.80", "us"), 2003),
			)
			st = e.run(t, spec)
			assert.EqualValues(t, 5, st[0].Events)
			assert.Equal(t, []string{"1|green apple|1.80|us", "30|plum|3.10|us"}, e.rows(t, spec, 0))

			// A rerun applies nothing and changes nothing.
			st = e.run(t, spec)
			assert.EqualValues(t, 0, st[0].Events)
			assert.EqualValues(t, 0, st[0].Batches)
			assert.Equal(t, []string{"1|green apple|1.80|us", "30|plum|3.10|us"}, e.rows(t, spec, 0))
		})
	}
}

func TestTruncateToastAndTombstones(t *testing.T) {
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeLive, false)
	land(t, e.events, 0, 0,
		ev("c", "", item(1, "apple", "1.50", "eu"), 1000),
		ev("c", "", item(2, "pear", "2.00", "eu"), 1001),
	)
	e.run(t, spec)
	// An unchanged-TOAST name keeps the stored value; then a truncate and a
	// row after it; a tombstone line is skipped.
	land(t, e.events, 0, 2,
		ev("u", "", `{"id":1,"name":"__debezium_unavailable_value","price":"1.60","region":"eu"}`, 2000),
	)
	e.run(t, spec)
	assert.Equal(t, []string{"1|apple|1.60|eu", "2|pear|2.00|eu"}, e.rows(t, spec, 0))
	land(t, e.events, 0, 3,
		`{"source":{"version":"2.7.0.Final","connector":"postgresql","name":"acme","ts_ms":3000,"snapshot":"false","db":"shop","schema":"public","table":"items","txId":2,"lsn":2},"op":"t","ts_ms":3001}`,
		ev("c", "", item(5, "fig", "", "us"), 3002),
	)
	e.run(t, spec)
	assert.Equal(t, []string{"5|fig|NULL|us"}, e.rows(t, spec, 0))
	// A batch of tombstones only changes nothing but still records its position.
	land(t, e.events, 0, 5, "null", "null")
	st := e.run(t, spec)
	assert.EqualValues(t, 2, st[0].Events)
	assert.Equal(t, `{"0":7}`, st[0].Position)
	st = e.run(t, spec)
	assert.EqualValues(t, 0, st[0].Events)
	assert.Equal(t, []string{"5|fig|NULL|us"}, e.rows(t, spec, 0))
}

func TestForensicKeepsEveryVersion(t *testing.T) {
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeForensic, false)
	land(t, e.events, 0, 0,
		ev("c", "", item(1, "apple", "1.50", "eu"), 1000),
		ev("c", "", item(2, "pear", "2.00", "eu"), 1000),
		ev("u", "", item(1, "apple", "1.60", "eu"), 2000),
	)
	e.run(t, spec)
	land(t, e.events, 0, 3,
		ev("u", "", `{"id":1,"name":"__debezium_unavailable_value","price":"1.70","region":"eu"}`, 3000),
		ev("d", key(2), "", 4000),
	)
	e.run(t, spec)
	// columns: id|name|price|region|valid_from|valid_to|batch_in|batch_out
	assert.Equal(t, []string{
		"1|apple|1.50|eu|timestamptz(1000000us)|timestamptz(2000000us)|1|1",
		"1|apple|1.60|eu|timestamptz(2000000us)|timestamptz(3000000us)|1|2",
		"1|apple|1.70|eu|timestamptz(3000000us)|NULL|2|NULL",
		"2|pear|2.00|eu|timestamptz(1000000us)|timestamptz(4000000us)|1|2",
	}, e.rows(t, spec, 0))
}

// TestEveryBatchIsOneSnapshot: time travel and incremental readers must
// never see a snapshot in which a batch's touched keys are gone and their
// new rows not yet there. Each batch, whatever the write mode and mode and
// whether it truncates, adds exactly one snapshot; it carries the position,
// and the rows of every snapshot are a state the source had.
func TestEveryBatchIsOneSnapshot(t *testing.T) {
	for _, mode := range []string{jobspec.ModeLive, jobspec.ModeForensic} {
		for _, wm := range []string{"merge_on_read", "copy_on_write"} {
			t.Run(mode+"/"+wm, func(t *testing.T) {
				e := newEnv(t)
				spec := itemsSpec(mode, false)
				spec.Tables[0].WriteMode = wm
				batches := [][]string{
					{ev("c", "", item(1, "apple", "1.50", "eu"), 1000), ev("c", "", item(2, "pear", "2.00", "eu"), 1001)},
					{ev("u", "", item(1, "apple", "1.60", "eu"), 2000), ev("d", key(2), "", 2001), ev("c", "", item(3, "fig", "", "us"), 2002)},
					{`{"source":{"connector":"postgresql","ts_ms":3000,"sequence":"[\"3000\",\"3000\"]","txId":2,"lsn":3000},"op":"t","ts_ms":3001}`,
						ev("c", "", item(4, "kiwi", "0.40", "us"), 3002)},
					{ev("u", "", item(4, "kiwi", "0.45", "us"), 4000)},
				}
				off := int64(0)
				for i, b := range batches {
					land(t, e.events, 0, off, b...)
					off += int64(len(b))
					before := 0
					if i > 0 {
						before = len(e.table(t, spec).Metadata().Snapshots())
					}
					e.run(t, spec)
					tbl := e.table(t, spec)
					require.Len(t, tbl.Metadata().Snapshots(), before+1, "batch %d", i+1)
					snap := tbl.CurrentSnapshot()
					assert.Equal(t, strconv.Itoa(i+1), snap.Summary.Properties[PropBatch])
					if before > 0 {
						assert.Equal(t, *snap.ParentSnapshotID, tbl.Metadata().Snapshots()[before-1].SnapshotID)
					}
				}
				if mode == jobspec.ModeLive {
					assert.Equal(t, []string{"4|kiwi|0.45|us"}, e.rows(t, spec, 0))
				} else {
					assert.Len(t, e.rows(t, spec, 0), 6) // apple x2, pear, fig, kiwi x2
				}
			})
		}
	}
}

// TestCopyOnWriteAfterMergeOnRead: a table written merge-on-read holds
// equality deletes; switching it to copy-on-write rewrites files with
// those deletes applied, so no deleted row comes back.
func TestCopyOnWriteAfterMergeOnRead(t *testing.T) {
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeLive, false)
	land(t, e.events, 0, 0, ev("c", "", item(1, "apple", "1.50", "eu"), 1000), ev("c", "", item(2, "pear", "2.00", "eu"), 1001), ev("c", "", item(3, "fig", "", "us"), 1002))
	e.run(t, spec)
	land(t, e.events, 0, 3, ev("d", key(2), "", 2000), ev("u", "", item(3, "fig", "0.90", "us"), 2001))
	e.run(t, spec)
	spec.Tables[0].WriteMode = "copy_on_write"
	land(t, e.events, 0, 5, ev("u", "", item(1, "apple", "1.55", "eu"), 3000))
	e.run(t, spec)
	assert.Equal(t, []string{"1|apple|1.55|eu", "3|fig|0.90|us"}, e.rows(t, spec, 0))
	tbl := e.table(t, spec)
	assert.Equal(t, "copy-on-write", tbl.Properties()["write.delete.mode"], "the table says its new write mode")
}
