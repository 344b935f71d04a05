package merge

import (
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
