// Package decode strictly decodes yamlnode trees into Go structs.
//
// Struct fields are bound by `yaml:"key"` tags (",required" marks a key that
// must be present, ",inline" merges an embedded struct's keys). An unknown key,
// a duplicate key or a value of the wrong shape is an error naming the file,
// line and column; decoding goes on after an error so one run reports every
// problem in a file. A field named Pos of type Pos receives the position of the
// node it was decoded from. Types with their own syntax implement Unmarshaler.
package decode

import (
	"fmt"
	"hash/maphash"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

// Pos is a position in a model file.
type Pos struct {
	File string
	Line int32
	Col  int32
}

func (p Pos) String() string {
	if p.File == "" {
		return "-"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsZero reports whether the position is unknown.
func (p Pos) IsZero() bool { return p.File == "" && p.Line == 0 }

// Error is one decoding problem.
type Error struct {
	Pos  Pos
	Code string // load-syntax, load-unknown-key, load-duplicate-key, load-type, load-missing-key, load-value
	Msg  string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unmarshaler is implemented by types with their own scalar syntax.
// The returned error's message is reported at the node's position.
type Unmarshaler interface {
	UnmarshalNode(d *Decoder, n *yamlnode.Node) error
}

// Enum is implemented by string types with a fixed set of values.
type Enum interface {
	Values() []string
}

// Decoder decodes the nodes of one file.
type Decoder struct {
	File   string
	Errors []*Error
	// Strings, when not nil, copies the text values (those of string fields
	// and the scalars Unmarshalers read) so that no decoded value keeps the
	// parser's buffers alive, and lets equal values share one copy.
	Strings *Strings
}

// Strings is a cache of recently decoded strings: values that recur (id,
// created_at, a classification, a type) then share one copy. It is lossy by
// design, a fixed table indexed by hash, so that it stays small and in the
// processor's cache however many distinct strings a model has. One cache
// serves one goroutine at a time; a loader gives each of its workers one.
type Strings struct {
	seed  maphash.Seed
	slots [stringSlots]string
}

const (
	stringSlots = 4096
	maxShared   = 64 // longer strings (documentation) rarely recur: they are only copied
)

// NewStrings returns an empty cache.
func NewStrings() *Strings { return &Strings{seed: maphash.MakeSeed()} }

// share returns a copy of s that the decoder may keep.
func (d *Decoder) share(s string) string {
	c := d.Strings
	if c == nil || s == "" {
		return s
	}
	if len(s) > maxShared {
		return strings.Clone(s)
	}
	slot := &c.slots[maphash.String(c.seed, s)%stringSlots]
	if *slot != s {
		*slot = strings.Clone(s)
	}
	return *slot
}

// PosOf returns the position of a node in the decoder's file.
func (d *Decoder) PosOf(n *yamlnode.Node) Pos {
	return Pos{File: d.File, Line: n.Line, Col: n.Column}
}

func (d *Decoder) errorf(n *yamlnode.Node, code, format string, args ...any) {
	d.Errors = append(d.Errors, &Error{Pos: d.PosOf(n), Code: code, Msg: fmt.Sprintf(format, args...)})
}

// Decode decodes n into out, which must be a non-nil pointer.
func (d *Decoder) Decode(n *yamlnode.Node, out any) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic("decode: out must be a non-nil pointer")
	}
	d.decode(codecOf(v.Type().Elem()), n, v.UnsafePointer())
}

var (
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	enumType        = reflect.TypeFor[Enum]()
	posType         = reflect.TypeFor[Pos]()
)

// A codec decodes nodes into values of one type. Codecs are built once per
// type, with everything the decoder needs precomputed (whether the type has
// its own syntax, an enum's values, a struct's field offsets), and then
// write through unsafe pointers: no reflect.Value per node, no allocation
// beyond the decoded values themselves.
type codec struct {
	kind codecKind
	typ  reflect.Type
	elem *codec      // kindPointer, kindSlice: the element's codec
	size uintptr     // kindSlice: the element's size
	enum []string    // kindString: the allowed values of an Enum, nil otherwise
	bits int         // kindInt: the integer's size in bits
	info *structInfo // kindStruct
}

type codecKind uint8

const (
	kindUnsupported codecKind = iota
	kindUnmarshaler
	kindPointer
	kindStruct
	kindSlice
	kindString
	kindBool
	kindInt
	kindFloat
)

// sliceHeader is the layout of a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// decode decodes n into the value of c's type at p.
func (d *Decoder) decode(c *codec, n *yamlnode.Node, p unsafe.Pointer) {
	switch c.kind {
	case kindUnmarshaler:
		if n.Kind == yamlnode.ScalarNode {
			n.Value = d.share(n.Value)
		}
		if err := reflect.NewAt(c.typ, p).Interface().(Unmarshaler).UnmarshalNode(d, n); err != nil {
			d.errorf(n, "load-value", "%s", err.Error())
		}
	case kindPointer:
		if n.IsNull() {
			return
		}
		pp := (*unsafe.Pointer)(p)
		if *pp == nil {
			*pp = reflect.New(c.elem.typ).UnsafePointer()
		}
		d.decode(c.elem, n, *pp)
	case kindStruct:
		d.structValue(c.info, n, p)
	case kindSlice:
		d.slice(c, n, p)
	case kindString:
		if !d.scalar(n, "a text value") {
			return
		}
		if c.enum != nil && !contains(c.enum, n.Value) {
			d.errorf(n, "load-value", "%q is not one of %s", n.Value, strings.Join(c.enum, ", "))
			return
		}
		*(*string)(p) = d.share(n.Value)
	case kindBool:
		if !d.scalar(n, "true or false") {
			return
		}
		switch n.Value {
		case "true":
			*(*bool)(p) = true
		case "false":
			*(*bool)(p) = false
		default:
			d.errorf(n, "load-type", "expected true or false, found %q", n.Value)
		}
	case kindInt:
		if !d.scalar(n, "an integer") {
			return
		}
		i, err := strconv.ParseInt(n.Value, 10, c.bits)
		if err != nil || n.Style != yamlnode.Plain {
			d.errorf(n, "load-type", "expected an integer, found %q", n.Value)
			return
		}
		switch c.bits {
		case 8:
			*(*int8)(p) = int8(i)
		case 16:
			*(*int16)(p) = int16(i)
		case 32:
			*(*int32)(p) = int32(i)
		default:
			*(*int64)(p) = i
		}
	case kindFloat:
		if !d.scalar(n, "a number") {
			return
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || n.Style != yamlnode.Plain {
			d.errorf(n, "load-type", "expected a number, found %q", n.Value)
			return
		}
		*(*float64)(p) = f
	default:
		panic("decode: unsupported field type " + c.typ.String())
	}
}

func (d *Decoder) scalar(n *yamlnode.Node, want string) bool {
	if n.Kind != yamlnode.ScalarNode {
		d.errorf(n, "load-type", "expected %s, found a %s", want, n.Kind)
		return false
	}
	return true
}

func (d *Decoder) slice(c *codec, n *yamlnode.Node, p unsafe.Pointer) {
	if n.IsNull() {
		return
	}
	if n.Kind != yamlnode.SequenceNode {
		d.errorf(n, "load-type", "expected a list, found a %s", n.Kind)
		return
	}
	l := len(n.Content)
	// An empty list decodes to an empty, non-nil slice.
	base := reflect.MakeSlice(c.typ, l, l).UnsafePointer()
	for i, item := range n.Content {
		d.decode(c.elem, item, unsafe.Add(base, uintptr(i)*c.size))
	}
	*(*sliceHeader)(p) = sliceHeader{data: base, len: l, cap: l}
}

func (d *Decoder) structValue(info *structInfo, n *yamlnode.Node, p unsafe.Pointer) {
	if info.hasPos {
		*(*Pos)(unsafe.Add(p, info.posOffset)) = d.PosOf(n)
	}
	if n.IsNull() {
		// An empty value for an object: report the keys it must have.
		d.missing(n, info, nil)
		return
	}
	if n.Kind != yamlnode.MappingNode {
		d.errorf(n, "load-type", "expected a mapping with keys %s, found a %s", info.keyList(), n.Kind)
		return
	}
	var seen fieldSet
	content := n.Content
	for i := 0; i+1 < len(content); i += 2 {
		k, val := content[i], content[i+1]
		if k.Kind != yamlnode.ScalarNode {
			d.errorf(k, "load-type", "a key must be a plain name, found a %s", k.Kind)
			continue
		}
		fi := info.lookup(k.Value)
		if fi < 0 {
			d.errorf(k, "load-unknown-key", "unknown key %q in %s; allowed keys: %s", k.Value, info.name, info.keyList())
			continue
		}
		if seen.has(fi) {
			d.errorf(k, "load-duplicate-key", "duplicate key %q (first at line %d); remove one of them", k.Value, firstKey(content[:i], k.Value).Line)
			continue
		}
		seen.add(fi)
		d.decode(info.codecs[fi], val, unsafe.Add(p, info.offsets[fi]))
	}
	d.missing(n, info, &seen)
}

// firstKey finds the first plain key named key among a mapping's content.
func firstKey(content []*yamlnode.Node, key string) *yamlnode.Node {
	for i := 0; i < len(content); i += 2 {
		if k := content[i]; k.Kind == yamlnode.ScalarNode && k.Value == key {
			return k
		}
	}
	return nil
}

// missing reports the required keys not seen (all of them when seen is nil).
func (d *Decoder) missing(n *yamlnode.Node, info *structInfo, seen *fieldSet) {
	for _, i := range info.required {
		if seen == nil || !seen.has(i) {
			d.errorf(n, "load-missing-key", "missing required key %q in %s", info.fields[i].Key, info.name)
		}
	}
}

// fieldSet is a set of field indexes.
type fieldSet [maxFields / 64]uint64

const maxFields = 256

func (s *fieldSet) has(i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }
func (s *fieldSet) add(i int)      { s[i>>6] |= 1 << (i & 63) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Field describes one key of a struct type.
type Field struct {
	Key      string
	Required bool
	Doc      string
	Type     reflect.Type
	index    []int
}

type structInfo struct {
	name      string
	fields    []Field
	byKey     map[string]int
	hasPos    bool
	posOffset uintptr
	offsets   []uintptr // of each field from the start of the struct
	codecs    []*codec  // of each field
	required  []int     // indexes of the required fields
	keys      string    // the keys, comma-separated, for messages
}

func (s *structInfo) keyList() string { return s.keys }

// lookup finds a key's field index, -1 if the key is unknown.
func (s *structInfo) lookup(key string) int {
	if len(s.fields) <= 16 {
		for i := range s.fields {
			if s.fields[i].Key == key {
				return i
			}
		}
		return -1
	}
	if i, ok := s.byKey[key]; ok {
		return i
	}
	return -1
}

var (
	codecCache sync.Map   // reflect.Type -> *codec, complete codecs only
	buildMu    sync.Mutex // serializes building
)

// Fields lists the keys of a struct type in declaration order.
func Fields(t reflect.Type) []Field { return codecOf(t).info.fields }

// codecOf returns the codec of t, building it (and those of the types it
// contains) on first use.
func codecOf(t reflect.Type) *codec {
	if c, ok := codecCache.Load(t); ok {
		return c.(*codec)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	building := map[reflect.Type]*codec{}
	c := buildCodec(t, building)
	// Publish only complete codecs: a recursive type's codec refers to
	// itself, and is finished only when the outermost build returns.
	for t, c := range building {
		codecCache.Store(t, c)
	}
	return c
}

func buildCodec(t reflect.Type, building map[reflect.Type]*codec) *codec {
	if c, ok := codecCache.Load(t); ok {
		return c.(*codec)
	}
	if c, ok := building[t]; ok {
		return c
	}
	c := &codec{typ: t}
	building[t] = c
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		c.kind = kindUnmarshaler
		return c
	}
	switch t.Kind() {
	case reflect.Pointer:
		c.kind, c.elem = kindPointer, buildCodec(t.Elem(), building)
	case reflect.Struct:
		c.kind, c.info = kindStruct, buildStruct(t, building)
	case reflect.Slice:
		c.kind, c.elem, c.size = kindSlice, buildCodec(t.Elem(), building), t.Elem().Size()
	case reflect.String:
		c.kind = kindString
		switch {
		case t.Implements(enumType):
			c.enum = reflect.Zero(t).Interface().(Enum).Values()
		case reflect.PointerTo(t).Implements(enumType):
			c.enum = reflect.New(t).Interface().(Enum).Values()
		}
	case reflect.Bool:
		c.kind = kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.kind, c.bits = kindInt, t.Bits()
	case reflect.Float64:
		c.kind = kindFloat
	default:
		c.kind = kindUnsupported // panics when a value of it is decoded
	}
	return c
}

func buildStruct(t reflect.Type, building map[reflect.Type]*codec) *structInfo {
	info := &structInfo{name: friendlyName(t), byKey: map[string]int{}}
	collectFields(t, nil, 0, info)
	if len(info.fields) > maxFields {
		panic("decode: too many keys in " + t.String())
	}
	keys := make([]string, len(info.fields))
	for i, f := range info.fields {
		keys[i] = f.Key
		if f.Required {
			info.required = append(info.required, i)
		}
		info.codecs = append(info.codecs, buildCodec(f.Type, building))
	}
	info.keys = strings.Join(keys, ", ")
	return info
}

func collectFields(t reflect.Type, prefix []int, offset uintptr, info *structInfo) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		index := append(append([]int(nil), prefix...), i)
		if sf.Name == "Pos" && sf.Type == posType {
			if prefix == nil {
				info.hasPos, info.posOffset = true, sf.Offset
			}
			continue
		}
		tag := sf.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		key, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			collectFields(sf.Type, index, offset+sf.Offset, info)
			continue
		}
		if _, dup := info.byKey[key]; dup {
			panic("decode: duplicate key " + key + " in " + t.String())
		}
		info.byKey[key] = len(info.fields)
		info.fields = append(info.fields, Field{
			Key: key, Required: strings.Contains(opts, "required"),
			Doc: sf.Tag.Get("doc"), Type: sf.Type, index: index,
		})
		info.offsets = append(info.offsets, offset+sf.Offset)
	}
}

// friendlyName turns a Go type name into words for messages: DatasetGroup -> "dataset group".
func friendlyName(t reflect.Type) string {
	var b strings.Builder
	for i, r := range t.Name() {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return "a " + strings.ToLower(b.String())
}

// SortErrors orders errors by file, line and column.
func SortErrors(errs []*Error) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Pos, errs[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
