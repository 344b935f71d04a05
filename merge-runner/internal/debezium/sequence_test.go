package debezium

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// TestSequence reads source.sequence as the PostgreSQL connector writes it:
// SourceInfo#sequence serialises a two-element List<String> with Jackson,
// so the field is a string holding ["<lastCommitLsn>","<lsn>"], an element
// null when unknown (the initial snapshot has no last commit).
func TestSequence(t *testing.T) {
	tbl := &jobspec.Table{Name: "t", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
		{Name: "id", Type: "int64"}, {Name: "name", Type: "text", Nullable: true},
	}}
	for _, tc := range []struct {
		seq  string
		want Sequence
		bad  bool
	}{
		{`"[\"24023928\",\"24023960\"]"`, Sequence{LastCommitLSN: 24023928, LSN: 24023960, Valid: true}, false},
		{`"[null,\"24023928\"]"`, Sequence{LSN: 24023928, Valid: true}, false},
		{`null`, Sequence{}, false},
		{`"[\"1\"]"`, Sequence{}, true},
		{`"[\"1\",\"2\",\"3\"]"`, Sequence{}, true},
		{`"[\"x\",\"2\"]"`, Sequence{}, true},
		{`"24023928"`, Sequence{}, true},
		{`"[1,2]"`, Sequence{}, true},
		// The general path: spaces, a long number, escaped digits.
		{`"[ \"7\" , null ]"`, Sequence{LastCommitLSN: 7, Valid: true}, false},
		{`"[\"1234567890123456789\",\"1\"]"`, Sequence{LastCommitLSN: 1234567890123456789, LSN: 1, Valid: true}, false},
		{`"[\"\u0031\",\"2\"]"`, Sequence{LastCommitLSN: 1, LSN: 2, Valid: true}, false},
	} {
		line := `{"before":null,"after":{"id":1,"name":"a"},"source":{"lsn":24023960,"sequence":` + tc.seq + `,"ts_ms":1},"op":"c","ts_ms":2}`
		d, err := NewDecoder(tbl, preciseEncoding)
		require.NoError(t, err)
		ev, err := d.Decode(landing.Record{Object: "o", Line: 1, Data: []byte(line)})
		if tc.bad {
			require.Error(t, err, tc.seq)
			require.Contains(t, err.Error(), "source.sequence")
			continue
		}
		require.NoError(t, err, tc.seq)
		require.Equal(t, tc.want, ev.Seq, tc.seq)
	}
	a := Sequence{LastCommitLSN: 100, LSN: 90, Valid: true}
	b := Sequence{LastCommitLSN: 120, LSN: 80, Valid: true} // committed later, lower change LSN
	require.Equal(t, -1, a.Compare(b))
	require.Equal(t, 1, b.Compare(a))
	require.Equal(t, "[100,90]", a.String())
	// A snapshot read (no last commit) at LSN 500 comes after streaming
	// whose last commit was 120, and before the first streamed change past it.
	snap := Sequence{LSN: 500, Valid: true}
	require.Equal(t, 1, snap.Compare(b))
	require.Equal(t, -1, snap.Compare(Sequence{LSN: 510, Valid: true}))
	require.Equal(t, -1, snap.Compare(Sequence{LastCommitLSN: 520, LSN: 505, Valid: true}))
	require.Equal(t, "[null,5]", Sequence{LSN: 5, Valid: true}.String())
}
