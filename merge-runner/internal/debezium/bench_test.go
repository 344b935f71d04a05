package debezium

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// benchTable is a 10-column table of mixed types.
func benchTable() *jobspec.Table {
	return &jobspec.Table{Name: "orders", Topic: "acme.db.public.orders", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"},
		Columns: []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "name", Type: "varchar", Length: 100},
			{Name: "email", Type: "varchar", Length: 100, Nullable: true},
			{Name: "amount", Type: "decimal", Precision: 12, Scale: 2, Nullable: true},
			{Name: "qty", Type: "int32"},
			{Name: "active", Type: "boolean"},
			{Name: "created_at", Type: "timestamptz"},
			{Name: "updated_at", Type: "timestamp", Nullable: true},
			{Name: "dob", Type: "date", Nullable: true},
			{Name: "ref", Type: "uuid", Nullable: true},
		}}
}

const benchRowFields = `[
  {"type":"int64","optional":false,"field":"id"},
  {"type":"string","optional":false,"field":"name"},
  {"type":"string","optional":true,"field":"email"},
  {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"amount"},
  {"type":"int32","optional":false,"field":"qty"},
  {"type":"boolean","optional":false,"field":"active"},
  {"type":"string","optional":false,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"created_at"},
  {"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1,"field":"updated_at"},
  {"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1,"field":"dob"},
  {"type":"string","optional":true,"name":"io.debezium.data.Uuid","version":1,"field":"ref"}
]`

// benchLines makes n distinct change events (creates and updates) of the
// bench table, with or without the envelope.
func benchLines(n int, envelope bool) [][]byte {
	schema := envelopeSchema(benchRowFields)
	base := time.Date(2024, 3, 1, 10, 15, 30, 0, time.UTC)
	lines := make([][]byte, n)
	for i := range lines {
		amount := big.NewInt(int64(i)*137 + 99)
		raw := amount.Bytes()
		if len(raw) == 0 || raw[0]&0x80 != 0 {
			raw = append([]byte{0}, raw...)
		}
		created := base.Add(time.Duration(i) * 1234567 * time.Microsecond)
		op := "c"
		if i%3 == 0 {
			op = "u"
		}
		after := fmt.Sprintf(`{"id":%d,"name":"Customer %d Smith-Jones","email":"customer%d@example.com","amount":"%s","qty":%d,"active":%t,"created_at":"%s","updated_at":%d,"dob":%d,"ref":"%08x-e29b-41d4-a716-%012x"}`,
			1000000+i, i, i, base64.StdEncoding.EncodeToString(raw), i%500, i%2 == 0,
			created.Format("2006-01-02T15:04:05.000000Z"), created.UnixMicro(), 3650+i%20000, i, i*7919)
		src := fmt.Sprintf(`{"version":"2.7.3.Final","connector":"postgresql","name":"acme.db","ts_ms":%d,"snapshot":"false","db":"crm","sequence":"[\"%d\",\"%d\"]","ts_us":%d,"ts_ns":%d,"schema":"public","table":"orders","txId":%d,"lsn":%d,"xmin":null}`,
			created.UnixMilli(), 24023119+i*100, 24023128+i*100, created.UnixMicro(), created.UnixNano(), 555+i, 24023128+i*100)
		p := fmt.Sprintf(`{"before":null,"after":%s,"source":%s,"transaction":null,"op":"%s","ts_ms":%d,"ts_us":%d,"ts_ns":%d}`,
			after, src, op, created.UnixMilli()+5, created.UnixMicro()+5000, created.UnixNano()+5000000)
		if envelope {
			p = enveloped(schema, p)
		}
		lines[i] = []byte(p)
	}
	return lines
}

const benchEvents = 1_000_000

func benchmarkDecode(b *testing.B, envelope bool) {
	lines := benchLines(10_000, envelope)
	d, err := NewDecoder(benchTable(), preciseEncoding)
	require.NoError(b, err)
	var bytes int64
	for _, l := range lines {
		bytes += int64(len(l))
	}
	rec := landing.Record{Object: "bench", Line: 1}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for i := 0; i < benchEvents; i++ {
			rec.Data = lines[i%len(lines)]
			rec.Offset = int64(i)
			if _, err := d.Decode(rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := (cpuTime() - cpu0).Seconds()
	elapsed := b.Elapsed().Seconds()
	events := float64(b.N) * benchEvents
	b.ReportMetric(events/elapsed, "events/s")
	if cpu > 0 {
		// Per CPU-second of the process (decoding plus the garbage
		// collector's background work): what one dedicated core does.
		b.ReportMetric(events/cpu, "events/cpu-s")
	}
	b.ReportMetric(elapsed*1e9/events, "ns/event")
	b.ReportMetric(float64(bytes)/float64(len(lines)), "bytes/event")
	b.ReportMetric(events*float64(bytes)/float64(len(lines))/elapsed/1e6, "MB/s")
}

// BenchmarkDecode decodes 1,000,000 events of a 10-column table per
// iteration, without and with the JsonConverter schema envelope.
func BenchmarkDecode(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchmarkDecode(b, false) })
	b.Run("envelope", func(b *testing.B) { benchmarkDecode(b, true) })
}

func TestBenchLinesDecode(t *testing.T) {
	for _, envelope := range []bool{false, true} {
		d, err := NewDecoder(benchTable(), preciseEncoding)
		require.NoError(t, err)
		for _, l := range benchLines(100, envelope) {
			_, err := d.Decode(landing.Record{Object: "bench", Data: l})
			require.NoError(t, err, string(l))
		}
	}
}
