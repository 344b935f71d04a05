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
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

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
	d.value(n, v.Elem())
}

var (
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	enumType        = reflect.TypeFor[Enum]()
	posType         = reflect.TypeFor[Pos]()
)

func (d *Decoder) value(n *yamlnode.Node, v reflect.Value) {
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		if err := v.Addr().Interface().(Unmarshaler).UnmarshalNode(d, n); err != nil {
			d.errorf(n, "load-value", "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.IsNull() {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem())
	case reflect.Struct:
		d.structValue(n, v)
	case reflect.Slice:
		d.slice(n, v)
	case reflect.String:
		if !d.scalar(n, "a text value") {
			return
		}
		if v.Addr().Type().Implements(enumType) || v.Type().Implements(enumType) {
			allowed := reflect.Zero(v.Type()).Interface().(Enum).Values()
			if !contains(allowed, n.Value) {
				d.errorf(n, "load-value", "%q is not one of %s", n.Value, strings.Join(allowed, ", "))
				return
			}
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if !d.scalar(n, "true or false") {
			return
		}
		switch n.Value {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.errorf(n, "load-type", "expected true or false, found %q", n.Value)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.scalar(n, "an integer") {
			return
		}
		i, err := strconv.ParseInt(n.Value, 10, v.Type().Bits())
		if err != nil || n.Style != yamlnode.Plain {
			d.errorf(n, "load-type", "expected an integer, found %q", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if !d.scalar(n, "a number") {
			return
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || n.Style != yamlnode.Plain {
			d.errorf(n, "load-type", "expected a number, found %q", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		panic("decode: unsupported field type " + v.Type().String())
	}
}

func (d *Decoder) scalar(n *yamlnode.Node, want string) bool {
	if n.Kind != yamlnode.ScalarNode {
		d.errorf(n, "load-type", "expected %s, found a %s", want, n.Kind)
		return false
	}
	return true
}

func (d *Decoder) slice(n *yamlnode.Node, v reflect.Value) {
	if n.IsNull() {
		return
	}
	if n.Kind != yamlnode.SequenceNode {
		d.errorf(n, "load-type", "expected a list, found a %s", n.Kind)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, s.Index(i))
	}
	v.Set(s)
}

func (d *Decoder) structValue(n *yamlnode.Node, v reflect.Value) {
	info := structInfoOf(v.Type())
	if info.pos != nil {
		v.FieldByIndex(info.pos).Set(reflect.ValueOf(d.PosOf(n)))
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
	seen := make([]*yamlnode.Node, len(info.fields))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yamlnode.ScalarNode {
			d.errorf(k, "load-type", "a key must be a plain name, found a %s", k.Kind)
			continue
		}
		fi, ok := info.byKey[k.Value]
		if !ok {
			d.errorf(k, "load-unknown-key", "unknown key %q in %s; allowed keys: %s", k.Value, info.name, info.keyList())
			continue
		}
		if first := seen[fi]; first != nil {
			d.errorf(k, "load-duplicate-key", "duplicate key %q (first at line %d); remove one of them", k.Value, first.Line)
			continue
		}
		seen[fi] = k
		d.value(val, v.FieldByIndex(info.fields[fi].index))
	}
	d.missing(n, info, seen)
}

func (d *Decoder) missing(n *yamlnode.Node, info *structInfo, seen []*yamlnode.Node) {
	for i, f := range info.fields {
		if f.Required && (seen == nil || seen[i] == nil) {
			d.errorf(n, "load-missing-key", "missing required key %q in %s", f.Key, info.name)
		}
	}
}

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
	name   string
	fields []Field
	byKey  map[string]int
	pos    []int
}

func (s *structInfo) keyList() string {
	keys := make([]string, len(s.fields))
	for i, f := range s.fields {
		keys[i] = f.Key
	}
	return strings.Join(keys, ", ")
}

var infoCache sync.Map // reflect.Type -> *structInfo

// Fields lists the keys of a struct type in declaration order.
func Fields(t reflect.Type) []Field { return structInfoOf(t).fields }

func structInfoOf(t reflect.Type) *structInfo {
	if v, ok := infoCache.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{name: friendlyName(t), byKey: map[string]int{}}
	collectFields(t, nil, info)
	infoCache.Store(t, info)
	return info
}

func collectFields(t reflect.Type, prefix []int, info *structInfo) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		index := append(append([]int(nil), prefix...), i)
		if sf.Name == "Pos" && sf.Type == posType {
			if prefix == nil {
				info.pos = index
			}
			continue
		}
		tag := sf.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		key, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			collectFields(sf.Type, index, info)
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
