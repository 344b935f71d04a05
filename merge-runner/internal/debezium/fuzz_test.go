package debezium

import (
	"testing"

	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// FuzzDecode checks that no input panics and that every failure is bad input.
func FuzzDecode(f *testing.F) {
	for _, enc := range encodings {
		f.Add([]byte(enc.wrap(payload("c", "", sinkAfter))))
		f.Add([]byte(enc.wrap(payload("d", `{"id":42}`, ""))))
		f.Add([]byte(enc.wrap(truncatePayload())))
	}
	f.Add([]byte(payload("u", "", sinkMinimal)))
	f.Add([]byte(payload("d", `{"id":42,"qty":"","ref":"","created_at":"+10000-01-01T00:00:00.000000Z","tags":[95,95],"geo":{"lat":null}}`, "")))
	f.Add([]byte(payload("c", "", replaceField(sinkAfter, "created_at", `"2024-03-01T10:15:30.123456Z"`, `"-4712-01-01T00:00:00Z"`))))
	f.Add([]byte("null"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder(sinkTable(), preciseEncoding)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Decode(landing.Record{Object: "fuzz", Line: 1, Data: data})
		if err != nil && !badinput.Is(err) {
			t.Fatalf("not bad input: %T %v", err, err)
		}
	})
}
