package merge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
)

// history lands a random change history of n events over a few keys in
// files of 7 lines on two partitions (keys hash to a partition, as Kafka
// does), so batches cut across files.
func history(t *testing.T, root string, seed uint64, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	live := map[int64]bool{}
	lines := [2][]string{}
	for i := 0; i < n; i++ {
		id := int64(r.IntN(12))
		p := id % 2
		ts := int64(1000 + i)
		var l string
		switch {
		case live[id] && r.IntN(4) == 0:
			l = ev("d", key(id), "", ts)
			delete(live, id)
		case live[id]:
			l = ev("u", "", item(id, fmt.Sprintf("v%d", i), fmt.Sprintf("%d.%02d", i, i%100), []string{"eu", "us"}[r.IntN(2)]), ts)
		default:
			l = ev("c", "", item(id, fmt.Sprintf("n%d", i), "", "eu"), ts)
			live[id] = true
		}
		lines[p] = append(lines[p], l)
	}
	for p := range lines {
		for start := 0; start < len(lines[p]); start += 7 {
			end := min(start+7, len(lines[p]))
			land(t, root, int32(p), int64(start), lines[p][start:end]...)
		}
	}
}

func TestCrashBeforeAndAfterCommit(t *testing.T) {
	for _, partitioned := range []bool{false, true} {
		for _, where := range []string{"before", "after"} {
			t.Run(fmt.Sprintf("%s/partitioned=%v", where, partitioned), func(t *testing.T) {
				spec := itemsSpec(jobspec.ModeLive, partitioned)
				spec.Batch.MaxEvents = 9

				clean := newEnv(t)
				history(t, clean.events, 7, 120)
				clean.run(t, spec)
				want := clean.rows(t, spec, 0)
				require.NotEmpty(t, want)

				e := newEnv(t)
				history(t, e.events, 7, 120)
				crash := errors.New("crash")
				// Die at batches 3 and 8; each rerun resumes from what was committed.
				for _, at := range []int64{3, 8} {
					opts := e.opts()
					hook := func(_ string, batch int64) error {
						if batch == at {
							return crash
						}
						return nil
					}
					if where == "before" {
						opts.BeforeCommit = hook
					} else {
						opts.AfterCommit = hook
					}
					_, err := Run(context.Background(), e.open(t), spec, opts)
					require.ErrorIs(t, err, crash)
				}
				st := e.run(t, spec)
				assert.Positive(t, st[0].Batches)
				assert.Equal(t, want, e.rows(t, spec, 0))
				// And nothing more to do.
				st = e.run(t, spec)
				assert.Zero(t, st[0].Events)
			})
		}
	}
}

func TestTwoRunnersApplyOnce(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		catalog string
	}{{jobspec.ModeLive, "sqlite"}, {jobspec.ModeForensic, "sqlite"}, {jobspec.ModeLive, "postgres"}, {jobspec.ModeForensic, "postgres"}} {
		mode := tc.mode
		t.Run(mode+"/"+tc.catalog, func(t *testing.T) {
			spec := itemsSpec(mode, false)
			spec.Batch.MaxEvents = 10

			clean := newEnv(t)
			history(t, clean.events, 11, 150)
			clean.run(t, spec)
			want := clean.rows(t, spec, 0)

			e := newEnv(t)
			if tc.catalog == "postgres" {
				e = newPostgresEnv(t)
			}
			history(t, e.events, 11, 150)
			var wg sync.WaitGroup
			stats := make([][]TableStats, 2)
			errs := make([]error, 2)
			for i := range 2 {
				cat := e.open(t) // each runner has its own catalog connection
				wg.Add(1)
				go func() {
					defer wg.Done()
					opts := e.opts()
					opts.Retries = 50
					stats[i], errs[i] = Run(context.Background(), cat, spec, opts)
				}()
			}
			wg.Wait()
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])
			assert.Equal(t, int64(150), stats[0][0].Events+stats[1][0].Events, "every event applied by exactly one runner")
			t.Logf("batches %d+%d, conflicts %d+%d", stats[0][0].Batches, stats[1][0].Batches, stats[0][0].Conflicts, stats[1][0].Conflicts)
			if mode == jobspec.ModeLive {
				assert.Equal(t, want, e.rows(t, spec, 0))
			} else {
				// Batch numbers may differ from a single run's; the versions may not.
				assert.Equal(t, withoutBatches(want), withoutBatches(e.rows(t, spec, 0)))
			}
		})
	}
}

func withoutBatches(rows []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := splitN(r, 8)
		out[i] = fmt.Sprint(parts[:6])
	}
	return out
}

func splitN(s string, n int) []string {
	var out []string
	start := 0
	for i := 0; i < len(s) && len(out) < n-1; i++ {
		if s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestBadInputCommitsNothingOfItsBatch(t *testing.T) {
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeLive, false)
	spec.Batch.MaxEvents = 2
	land(t, e.events, 0, 0,
		ev("c", "", item(1, "a", "1.00", "eu"), 1000),
		ev("c", "", item(2, "b", "2.00", "eu"), 1001),
		ev("c", "", item(3, "c", "3.00", "eu"), 1002),
		ev("c", "", `{"id":4,"name":"d","price":"12345678901.00","region":"eu"}`, 1003), // does not fit decimal(10,2)
	)
	st, err := Run(context.Background(), e.catalog, spec, e.opts())
	require.Error(t, err)
	bad, ok := badinput.As(err)
	require.True(t, ok, err)
	assert.Equal(t, 4, bad.Line)
	assert.EqualValues(t, 3, bad.Offset)
	assert.Contains(t, bad.Object, testTopic+"+0+0000000000.json")
	assert.EqualValues(t, 1, st[0].Batches, "the first batch committed; the bad one did not")
	assert.Equal(t, []string{"1|a|1.00|eu", "2|b|2.00|eu"}, e.rows(t, spec, 0))
}

func TestBatchesBoundedByBytes(t *testing.T) {
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeLive, false)
	spec.Batch = jobspec.Batch{MaxEvents: 1000, MaxBytes: 1} // every event overflows the bound: one per batch
	land(t, e.events, 0, 0,
		ev("c", "", item(1, "a", "1.00", "eu"), 1000),
		ev("c", "", item(2, "b", "2.00", "eu"), 1001),
		ev("u", "", item(1, "a", "1.50", "eu"), 1002),
	)
	st := e.run(t, spec)
	assert.EqualValues(t, 3, st[0].Batches)
	assert.Equal(t, []string{"1|a|1.50|eu", "2|b|2.00|eu"}, e.rows(t, spec, 0))
}
