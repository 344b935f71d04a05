package encode

import "strconv"

// connectSchema is the part of a Kafka Connect Schema the JsonConverter
// writes.
type connectSchema struct {
	typ      string // JsonSchema's type name
	optional bool
	name     string
	version  int // 0: none
	doc      string
	params   [][2]string // in insertion order: SchemaBuilder keeps a LinkedHashMap
	dflt     string      // the default value's JSON; "" for none
	items    *connectSchema
	keys     *connectSchema
	values   *connectSchema
	fields   []schemaField
}

type schemaField struct {
	name   string
	schema *connectSchema
}

// The Connect types' JSON names: JsonSchema's *_TYPE_NAME constants, chosen
// per Schema.Type by JsonConverter#asJsonSchema. FLOAT32 is "float" and
// FLOAT64 "double".
const (
	typeBoolean = "boolean"
	typeInt16   = "int16"
	typeInt32   = "int32"
	typeInt64   = "int64"
	typeFloat32 = "float"
	typeFloat64 = "double"
	typeBytes   = "bytes"
	typeString  = "string"
	typeArray   = "array"
	typeMap     = "map"
	typeStruct  = "struct"
)

func primitive(typ string) *connectSchema { return &connectSchema{typ: typ} }

// logical is a semantic type: a primitive with a name and version 1, as
// io.debezium.time.*#builder, io.debezium.data.Json, Uuid and Kafka's Date,
// Time, Timestamp and Decimal build them.
func logical(typ, name string) *connectSchema {
	return &connectSchema{typ: typ, name: name, version: 1}
}

// appendJSON writes the schema as JsonConverter#asJsonSchema does: type;
// items, keys and values, or fields; optional; then name, version, doc,
// parameters and default when set. Jackson's ObjectNode keeps that order.
func (s *connectSchema) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = mustString(b, s.typ)
	switch s.typ {
	case typeArray:
		b = append(b, `,"items":`...)
		b = s.items.appendJSON(b)
	case typeMap:
		b = append(b, `,"keys":`...)
		b = s.keys.appendJSON(b)
		b = append(b, `,"values":`...)
		b = s.values.appendJSON(b)
	case typeStruct:
		b = append(b, `,"fields":[`...)
		for i, f := range s.fields {
			if i > 0 {
				b = append(b, ',')
			}
			// A field's schema is its schema's JSON with "field" added last.
			b = f.schema.appendJSON(b)
			b = append(b[:len(b)-1], `,"field":`...)
			b = mustString(b, f.name)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.optional)
	if s.name != "" {
		b = append(b, `,"name":`...)
		b = mustString(b, s.name)
	}
	if s.version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(s.version), 10)
	}
	if s.doc != "" {
		b = append(b, `,"doc":`...)
		b = mustString(b, s.doc)
	}
	if s.params != nil {
		b = append(b, `,"parameters":{`...)
		for i, p := range s.params {
			if i > 0 {
				b = append(b, ',')
			}
			b = mustString(b, p[0])
			b = append(b, ':')
			b = mustString(b, p[1])
		}
		b = append(b, '}')
	}
	if s.dflt != "" {
		b = append(b, `,"default":`...)
		b = append(b, s.dflt...)
	}
	return append(b, '}')
}

// envelopeSchema is the value schema of the table's change events, as
// Debezium 2.7.3 builds it: TableSchemaBuilder#create names the row struct
// <topic prefix>.<schema>.<table>.Value (optional) and the envelope
// <topic>.Envelope; Envelope.Builder (SchemaFactory#datatypeEnvelopeSchema,
// version Envelope.SCHEMA_VERSION, 2) adds before, after, source and
// transaction, then op, ts_ms, ts_us and ts_ns.
func (e *Encoder) envelopeSchema() *connectSchema {
	value := &connectSchema{typ: typeStruct, optional: true, name: e.topic + ".Value"}
	for _, c := range e.cols {
		value.fields = append(value.fields, schemaField{c.name, c.schema})
	}
	// AbstractSourceInfoStructMaker#commonSchemaBuilder and
	// PostgresSourceInfoStructMaker#init; the snapshot field is
	// SNAPSHOT_RECORD_SCHEMA, an optional io.debezium.data.Enum of
	// "true,last,false,incremental" whose default is "false".
	optional := func(typ string) *connectSchema { return &connectSchema{typ: typ, optional: true} }
	snapshot := logical(typeString, "io.debezium.data.Enum")
	snapshot.optional, snapshot.dflt = true, `"false"`
	snapshot.params = [][2]string{{"allowed", "true,last,false,incremental"}}
	source := &connectSchema{typ: typeStruct, name: "io.debezium.connector.postgresql.Source", fields: []schemaField{
		{"version", primitive(typeString)},
		{"connector", primitive(typeString)},
		{"name", primitive(typeString)},
		{"ts_ms", primitive(typeInt64)},
		{"snapshot", snapshot},
		{"db", primitive(typeString)},
		{"sequence", optional(typeString)},
		{"ts_us", optional(typeInt64)},
		{"ts_ns", optional(typeInt64)},
		{"schema", primitive(typeString)},
		{"table", primitive(typeString)},
		{"txId", optional(typeInt64)},
		{"lsn", optional(typeInt64)},
		{"xmin", optional(typeInt64)},
	}}
	// SchemaFactory#transactionBlockSchema.
	transaction := &connectSchema{typ: typeStruct, optional: true, name: "event.block", version: 1, fields: []schemaField{
		{"id", primitive(typeString)},
		{"total_order", primitive(typeInt64)},
		{"data_collection_order", primitive(typeInt64)},
	}}
	return &connectSchema{typ: typeStruct, name: e.topic + ".Envelope", version: 2, fields: []schemaField{
		{"before", value},
		{"after", value},
		{"source", source},
		{"transaction", transaction},
		{"op", primitive(typeString)}, // Envelope.OPERATION_REQUIRED
		{"ts_ms", optional(typeInt64)},
		{"ts_us", optional(typeInt64)},
		{"ts_ns", optional(typeInt64)},
	}}
}

// columnSchema is the schema the connector declares for a column, list
// element, map key or value, or struct field c, not yet optional:
// PostgresValueConverter#schemaBuilder for the PostgreSQL types, falling
// back on JdbcValueConverters#schemaBuilder; the natural Connect schema for
// the struct and non-hstore map types no PostgreSQL column gives.
func columnSchema(c *col, m modes) *connectSchema {
	switch c.typ {
	case tBool:
		return primitive(typeBoolean) // Types.BIT of length 1, as PgJDBC reports bool
	case tInt8, tInt16:
		return primitive(typeInt16) // smallint: Types.SMALLINT
	case tInt32:
		return primitive(typeInt32)
	case tInt64:
		return primitive(typeInt64)
	case tFloat32:
		return primitive(typeFloat32) // real: Types.REAL, SchemaBuilder.float32()
	case tFloat64:
		return primitive(typeFloat64) // double precision: Types.DOUBLE, float64()
	case tDecimal:
		// PostgresValueConverter#numericSchema; SpecialValueDecimal#builder.
		switch {
		case c.dec == decString:
			return primitive(typeString)
		case c.dec == decDouble:
			return primitive(typeFloat64)
		case c.variable:
			// VariableScaleDecimal#builder (SchemaFactory#datatypeVariableScaleDecimalSchema).
			s := logical(typeStruct, "io.debezium.data.VariableScaleDecimal")
			s.doc = "Variable scaled decimal"
			s.fields = []schemaField{{"scale", primitive(typeInt32)}, {"value", primitive(typeBytes)}}
			return s
		}
		// Kafka's Decimal#builder(scale), with the precision parameter.
		s := logical(typeBytes, "org.apache.kafka.connect.data.Decimal")
		s.params = [][2]string{{"scale", strconv.Itoa(int(c.scale))}, {"connect.decimal.precision", strconv.Itoa(c.spec.Precision)}}
		return s
	case tChar, tVarchar, tText:
		return primitive(typeString)
	case tJSON:
		return logical(typeString, "io.debezium.data.Json")
	case tUUID:
		return logical(typeString, "io.debezium.data.Uuid")
	case tDate:
		if m.time == timeConnect {
			return logical(typeInt32, "org.apache.kafka.connect.data.Date")
		}
		return logical(typeInt32, "io.debezium.time.Date")
	case tTime:
		switch {
		case m.time == timeConnect:
			return logical(typeInt32, "org.apache.kafka.connect.data.Time")
		case !c.micros:
			return logical(typeInt32, "io.debezium.time.Time")
		}
		return logical(typeInt64, "io.debezium.time.MicroTime")
	case tTimestamp:
		switch {
		case m.time == timeConnect:
			return logical(typeInt64, "org.apache.kafka.connect.data.Timestamp")
		case !c.micros:
			return logical(typeInt64, "io.debezium.time.Timestamp")
		}
		return logical(typeInt64, "io.debezium.time.MicroTimestamp")
	case tTimestampTZ:
		return logical(typeString, "io.debezium.time.ZonedTimestamp")
	case tBinary:
		// BinaryHandlingMode#getSchema: bytes, or a string.
		if c.bin == binBytes {
			return primitive(typeBytes)
		}
		return primitive(typeString)
	case tList:
		// SchemaBuilder.array of the element's schema, made optional.
		return &connectSchema{typ: typeArray, items: c.elem.schema}
	case tMap:
		return &connectSchema{typ: typeMap, keys: c.key.schema, values: c.val.schema}
	case tStruct:
		s := &connectSchema{typ: typeStruct}
		for _, f := range c.fields {
			s.fields = append(s.fields, schemaField{f.name, f.schema})
		}
		return s
	}
	panic("encode: no schema for " + c.spec.Type)
}
