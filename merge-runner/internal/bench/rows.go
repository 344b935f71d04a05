package bench

import (
	"strconv"
	"time"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Rows are a deterministic function of (seed, id, version): prepare writes
// version 0 of every key, and each update writes the next version.

var (
	surnames = [...]string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
		"Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green"}
	notes = [...]string{
		"delivered to the front door, signed by the customer",
		"left with a neighbour at number 12",
		"customer asked for a call before delivery",
		"gift wrapped, no invoice in the parcel",
		"partial shipment, remainder on back order",
		"returned: wrong size, refund issued",
		"express shipping upgrade at no charge",
		"address corrected by the courier",
	}
	// baseMicros is 2024-01-01T00:00:00Z, the prepared rows' latest updated_at.
	baseMicros = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
)

// EventBaseMs is the source.ts_ms of the first event; event i is committed
// at EventBaseMs + i.
var EventBaseMs = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

func mix(x uint64) uint64 {
	// splitmix64's finalizer.
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rowGen builds rows; it reuses a byte buffer for the strings' text.
type rowGen struct {
	seed uint64
	buf  []byte
}

// fill writes the row of (id, version) into dst (10 values) with updated_at
// tsMicros (0: a time before the events, derived from the id).
func (g *rowGen) fill(dst []row.Value, id, version, tsMicros int64) {
	h := mix(g.seed ^ mix(uint64(id)) ^ uint64(version)*0x2545f4914f6cdd1d)
	g.buf = append(g.buf[:0], "Customer "...)
	g.buf = strconv.AppendInt(g.buf, id, 10)
	g.buf = append(g.buf, ' ')
	g.buf = append(g.buf, surnames[h&15]...)
	dst[0] = row.Int64(id)
	dst[1] = row.String(string(g.buf))
	dst[2] = row.Int32(int32(h >> 8 % 1000))
	if h%50 == 0 {
		dst[3] = row.Null()
	} else {
		dst[3] = row.Decimal(int64(h>>16%10_000_000), 2)
	}
	if tsMicros == 0 {
		tsMicros = baseMicros - int64(h>>20%(365*86400*1_000_000))
	}
	dst[4] = row.TimestampTZ(tsMicros)
	if h%20 == 1 {
		dst[5] = row.Null()
	} else {
		dst[5] = row.Date(int32(3650 + h>>24%18000))
	}
	dst[6] = row.Bool(h>>40&1 == 1)
	if h%30 == 2 {
		dst[7] = row.Null()
	} else {
		dst[7] = row.Float64(float64(h>>11) / (1 << 53) * 1000)
	}
	if h%10 == 3 {
		dst[8] = row.Null()
	} else {
		g.buf = append(g.buf[:0], notes[h>>44&7]...)
		g.buf = append(g.buf, " #"...)
		g.buf = strconv.AppendUint(g.buf, h>>16, 36)
		dst[8] = row.String(string(g.buf))
	}
	dst[9] = row.Int64(version)
}
