package debezium

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"strconv"
)

// connectSchema is a Kafka Connect schema as the JsonConverter writes it
// when schemas are enabled (JsonConverter#asJsonSchema): "type" is one of
// JsonSchema's type names — boolean, int8, int16, int32, int64, float
// (FLOAT32), double (FLOAT64), bytes, string, array, map, struct — then
// items, keys and values or fields, optional, and name, version, doc,
// parameters and default when the schema has them; a struct's field adds
// "field".
type connectSchema struct {
	Type       string            `json:"type"`
	Optional   bool              `json:"optional"`
	Name       string            `json:"name"`
	Version    int               `json:"version"`
	Parameters map[string]string `json:"parameters"`
	Field      string            `json:"field"`
	Fields     []*connectSchema  `json:"fields"`
	Items      *connectSchema    `json:"items"`
	Keys       *connectSchema    `json:"keys"`
	Values     *connectSchema    `json:"values"`
	Default    json.RawMessage   `json:"default"`
}

func (c *connectSchema) field(name string) *connectSchema {
	for _, f := range c.Fields {
		if f.Field == name {
			return f
		}
	}
	return nil
}

// Semantic type names.
const (
	nameDecimal         = "org.apache.kafka.connect.data.Decimal"
	nameVariableDecimal = "io.debezium.data.VariableScaleDecimal"
	nameDate            = "io.debezium.time.Date"
	nameConnectDate     = "org.apache.kafka.connect.data.Date"
	nameTime            = "io.debezium.time.Time"
	nameMicroTime       = "io.debezium.time.MicroTime"
	nameNanoTime        = "io.debezium.time.NanoTime"
	nameConnectTime     = "org.apache.kafka.connect.data.Time"
	nameTimestamp       = "io.debezium.time.Timestamp"
	nameMicroTimestamp  = "io.debezium.time.MicroTimestamp"
	nameNanoTimestamp   = "io.debezium.time.NanoTimestamp"
	nameConnectTs       = "org.apache.kafka.connect.data.Timestamp"
	nameZonedTimestamp  = "io.debezium.time.ZonedTimestamp"
	nameUUID            = "io.debezium.data.Uuid"
	nameJSON            = "io.debezium.data.Json"
	paramLength         = "__debezium.source.column.length"
	paramScale          = "scale"
	paramPrecision      = "connect.decimal.precision"
)

// schemaError is an event schema that does not agree with the job spec.
type schemaError struct {
	path   string
	reason string
}

func (e *schemaError) Error() string {
	if e.path == "" {
		return "event schema: " + e.reason
	}
	return fmt.Sprintf("event schema does not agree with the job spec: column %q: %s", e.path, e.reason)
}

func schemaErr(cp *colPlan, format string, args ...any) error {
	return &schemaError{path: cp.path, reason: fmt.Sprintf(format, args...)}
}

// schemaEntry is one distinct envelope schema and the plan it gives.
type schemaEntry struct {
	raw  []byte
	plan *tablePlan
	err  error
}

// schemaCache keeps the plans of the envelope schemas seen, by the hash of
// their bytes: a table version's schema is byte-identical in every event, so
// it is parsed once.
type schemaCache struct {
	seed    maphash.Seed
	entries map[uint64][]*schemaEntry
	last    *schemaEntry
}

func newSchemaCache() schemaCache {
	return schemaCache{seed: maphash.MakeSeed(), entries: map[uint64][]*schemaEntry{}}
}

// lookup finds the entry for the schema value at the scanner and moves past
// it. The common case — the same schema as the previous event — is one
// prefix comparison, with no scan of the schema's bytes.
func (d *Decoder) lookupSchema(s *scanner) (*schemaEntry, error) {
	c := &d.schemas
	if last := c.last; last != nil && bytes.HasPrefix(s.b[s.i:], last.raw) {
		// The prefix matches; it is the whole value if what follows cannot
		// continue it.
		if j := s.i + len(last.raw); j == len(s.b) || isValueEnd(s.b[j]) {
			s.i = j
			return last, nil
		}
	}
	start := s.i
	if err := s.skip(); err != nil {
		return nil, err
	}
	raw := s.b[start:s.i]
	h := maphash.Bytes(c.seed, raw)
	for _, e := range c.entries[h] {
		if bytes.Equal(e.raw, raw) {
			c.last = e
			return e, nil
		}
	}
	e := &schemaEntry{raw: bytes.Clone(raw)}
	e.plan, e.err = d.planForSchema(e.raw)
	c.entries[h] = append(c.entries[h], e)
	c.last = e
	return e, nil
}

func isValueEnd(c byte) bool {
	switch c {
	case ',', '}', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// planForSchema checks an envelope schema against the job spec and returns
// the plan to read its payloads: the base plan with the units and forms the
// schema's semantic types say.
func (d *Decoder) planForSchema(raw []byte) (*tablePlan, error) {
	var env connectSchema
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, &schemaError{reason: "not a Kafka Connect schema: " + err.Error()}
	}
	if env.Type != "struct" {
		return nil, &schemaError{reason: fmt.Sprintf("the envelope schema is a %s, not a struct", env.Type)}
	}
	val := env.field("after")
	if val == nil {
		val = env.field("before")
	}
	if val == nil {
		if env.field("op") != nil {
			// A truncate-only envelope carries no row schema.
			return d.base, nil
		}
		return nil, &schemaError{reason: "the envelope schema has no before or after field; is this a Debezium change event?"}
	}
	if val.Type != "struct" {
		return nil, &schemaError{reason: fmt.Sprintf("the row schema is a %s, not a struct", val.Type)}
	}
	plan := d.base.clone()
	for i, cp := range plan.cols {
		f := val.field(cp.name)
		if f == nil {
			if !cp.nullable || plan.isKey[i] {
				return nil, schemaErr(cp, "not in the event schema, and the column is not nullable")
			}
			continue
		}
		if err := adjustToSchema(cp, f); err != nil {
			return nil, err
		}
		cp.ph = placeholderForm(cp, f.Items)
	}
	return plan, nil
}

// adjustToSchema checks one column against its field schema and sets how to
// read it.
func adjustToSchema(cp *colPlan, f *connectSchema) error {
	if f.Optional && !cp.nullable {
		return schemaErr(cp, "the event schema allows null (optional) but the column is not nullable")
	}
	return adjustType(cp, f)
}

// jsonSchemaTypes are the type names JsonConverter#asJsonSchema writes
// (JsonSchema's *_TYPE_NAME constants).
var jsonSchemaTypes = map[string]bool{
	"boolean": true, "int8": true, "int16": true, "int32": true, "int64": true, "float": true, "double": true,
	"bytes": true, "string": true, "array": true, "map": true, "struct": true,
}

// adjustType is adjustToSchema without the nullability check.
func adjustType(cp *colPlan, f *connectSchema) error {
	if !jsonSchemaTypes[f.Type] {
		return schemaErr(cp, "the event's schema type %q is not one the JsonConverter writes", f.Type)
	}
	wrong := func() error {
		name := f.Type
		if f.Name != "" {
			name += " " + f.Name
		}
		return schemaErr(cp, "the event has %s, which does not fit a %s column", name, cp.spec.Type)
	}
	switch cp.typ {
	case tBool:
		if f.Type != "boolean" {
			return wrong()
		}
	case tInt8, tInt16, tInt32, tInt64:
		// Any integer width: PostgreSQL has no 1-byte integer, and a model
		// may declare a narrower type than the source's; each value is
		// range-checked against the column.
		switch f.Type {
		case "int8", "int16", "int32", "int64":
		default:
			return wrong()
		}
		if f.Name != "" {
			return wrong()
		}
	case tFloat32:
		if f.Type != "float" {
			return wrong()
		}
	case tFloat64:
		switch f.Type {
		case "float":
			// A real column read into a float64 one: the value is the
			// float32's shortest text (Float.toString), read as the float32
			// it is and widened, as Iceberg's float to double promotion
			// reads a stored float.
			cp.floatBits = 32
		case "double":
			cp.floatBits = 64
		default:
			return wrong()
		}
	case tDecimal:
		switch {
		case f.Type == "bytes" && f.Name == nameDecimal:
			scale, err := strconv.Atoi(f.Parameters[paramScale])
			if err != nil {
				return schemaErr(cp, "the event's decimal has no valid scale parameter")
			}
			if scale != cp.scale {
				return schemaErr(cp, "the event's decimal has scale %d, the column's scale is %d", scale, cp.scale)
			}
			if p, err := strconv.Atoi(f.Parameters[paramPrecision]); err == nil && cp.precision > 0 && p > cp.precision {
				return schemaErr(cp, "the event's decimal has precision %d, wider than the column's %d", p, cp.precision)
			}
			cp.dec = decPrecise
		case f.Type == "struct" && f.Name == nameVariableDecimal:
			cp.dec = decPrecise
		case f.Type == "string" && f.Name == "":
			cp.dec = decString
		case f.Type == "double" && f.Name == "":
			cp.dec = decDouble
		default:
			return wrong()
		}
	case tChar, tVarchar, tText:
		if f.Type != "string" {
			return wrong()
		}
		if n, err := strconv.Atoi(f.Parameters[paramLength]); err == nil && cp.length > 0 && n > cp.length {
			return schemaErr(cp, "the source column's length %d is longer than the column's %d", n, cp.length)
		}
	case tDate:
		if f.Type != "int32" || (f.Name != nameDate && f.Name != nameConnectDate) {
			return wrong()
		}
		cp.connectDate = f.Name == nameConnectDate
	case tTime:
		switch {
		case f.Type == "int64" && f.Name == nameMicroTime:
			cp.unit = unitMicro
		case f.Type == "int64" && f.Name == nameNanoTime:
			cp.unit = unitNano
		case f.Type == "int32" && (f.Name == nameTime || f.Name == nameConnectTime):
			cp.unit = unitMilli
		default:
			return wrong()
		}
	case tTimestamp:
		switch {
		case f.Type == "int64" && f.Name == nameMicroTimestamp:
			cp.unit = unitMicro
		case f.Type == "int64" && f.Name == nameNanoTimestamp:
			cp.unit = unitNano
		case f.Type == "int64" && (f.Name == nameTimestamp || f.Name == nameConnectTs):
			cp.unit = unitMilli
		default:
			return wrong()
		}
	case tTimestampTZ:
		if f.Type != "string" || f.Name != nameZonedTimestamp {
			return wrong()
		}
	case tUUID:
		if f.Type != "string" || (f.Name != nameUUID && f.Name != "") {
			return wrong()
		}
	case tBinary:
		switch f.Type {
		case "bytes": // binary.handling.mode bytes
			cp.bin = binBytes
		case "string": // base64, base64-url-safe or hex; the spec says which
			if cp.bin == binBytes {
				return schemaErr(cp, "the event has the binary as a string (binary.handling.mode base64, base64-url-safe or hex), "+
					"the job spec says binary_handling bytes")
			}
		default:
			return wrong()
		}
	case tJSON:
		if f.Type != "string" || (f.Name != nameJSON && f.Name != "") {
			return wrong()
		}
	case tStruct:
		if f.Type != "struct" {
			return wrong()
		}
		for _, fp := range cp.fields {
			ff := f.field(fp.name)
			if ff == nil {
				if !fp.nullable {
					return schemaErr(fp, "not in the event schema, and the field is not nullable")
				}
				continue
			}
			if err := adjustToSchema(fp, ff); err != nil {
				return err
			}
		}
	case tList:
		if f.Type != "array" || f.Items == nil {
			return wrong()
		}
		// Debezium declares every array's elements optional, whatever the
		// source (PostgreSQL has no NOT NULL for array elements), so an
		// optional items schema is accepted for a list whose elements are
		// not nullable; a null element in the data is still refused.
		if err := adjustType(cp.elem, f.Items); err != nil {
			return err
		}
	case tMap:
		if f.Type != "map" || f.Keys == nil || f.Values == nil {
			return wrong()
		}
		if err := adjustToSchema(cp.key, f.Keys); err != nil {
			return err
		}
		// An hstore's values are always optional
		// (PostgresValueConverter#hstoreSchema: OPTIONAL_STRING_SCHEMA), as
		// array items are; a null value is still refused by the data.
		return adjustType(cp.val, f.Values)
	}
	return nil
}
