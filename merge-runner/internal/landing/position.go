package landing

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
)

// Position is how far a topic has been applied: for each partition, the next
// offset to apply. A partition that is absent starts at offset 0. It is
// written into the Iceberg snapshot summary with the data it covers.
type Position map[int32]int64

// Next is the next offset to apply in partition p.
func (p Position) Next(part int32) int64 { return p[part] }

// Applied reports whether the event at (part, offset) is already applied.
func (p Position) Applied(part int32, offset int64) bool { return offset < p[part] }

// Advance records that the event at (part, offset) is applied. The position
// never moves backwards.
func (p Position) Advance(part int32, offset int64) {
	if next := offset + 1; next > p[part] {
		p[part] = next
	}
}

// Clone is a copy of p.
func (p Position) Clone() Position {
	if p == nil {
		return Position{}
	}
	return maps.Clone(p)
}

// Encode renders the position as compact JSON with partitions as keys, e.g.
// {"0":1200,"1":87}; the output is deterministic.
func (p Position) Encode() string {
	m := make(map[string]int64, len(p))
	for k, v := range p {
		m[strconv.FormatInt(int64(k), 10)] = v
	}
	b, _ := json.Marshal(m) // map keys are sorted
	return string(b)
}

// ParsePosition reads what Encode wrote. The empty string is the empty position.
func ParsePosition(s string) (Position, error) {
	p := Position{}
	if s == "" {
		return p, nil
	}
	var m map[string]int64
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("position %q: %w", s, err)
	}
	for k, v := range m {
		part, err := strconv.ParseInt(k, 10, 32)
		if err != nil || part < 0 {
			return nil, fmt.Errorf("position %q: partition %q is not a partition number", s, k)
		}
		if v < 0 {
			return nil, fmt.Errorf("position %q: partition %s has negative offset %d", s, k, v)
		}
		p[int32(part)] = v
	}
	return p, nil
}
