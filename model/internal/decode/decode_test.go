package decode_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model/internal/decode"
	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

type color string

func (color) Values() []string { return []string{"red", "green"} }

// upper has its own syntax: an upper-case word.
type upper struct {
	Pos  decode.Pos
	Word string
}

func (u *upper) UnmarshalNode(d *decode.Decoder, n *yamlnode.Node) error {
	u.Pos = d.PosOf(n)
	if n.Kind != yamlnode.ScalarNode || strings.ToUpper(n.Value) != n.Value {
		return errors.New("expected an upper-case word")
	}
	u.Word = n.Value
	return nil
}

type inner struct {
	Pos   decode.Pos
	Name  string  `yaml:"name,required" doc:"The name."`
	Items []inner `yaml:"items"`
}

type embedded struct {
	Pos   decode.Pos // not set: only the outer struct's Pos is
	Extra string     `yaml:"extra"`
	Deep  *inner     `yaml:"deep"`
}

type outer struct {
	Pos      decode.Pos
	Name     string   `yaml:"name,required"`
	Color    color    `yaml:"color"`
	Count    int      `yaml:"count"`
	Small    int8     `yaml:"small"`
	Big      int64    `yaml:"big"`
	Ratio    float64  `yaml:"ratio"`
	On       bool     `yaml:"on"`
	Tags     []string `yaml:"tags"`
	Ptr      *inner   `yaml:"ptr"`
	List     []inner  `yaml:"list"`
	Word     upper    `yaml:"word"`
	Words    []upper  `yaml:"words"`
	WordP    *upper   `yaml:"wordp"`
	Skipped  string
	Ignored  string `yaml:"-"`
	embedded `yaml:",inline"`
}

func parse(t *testing.T, src string) *yamlnode.Node {
	t.Helper()
	n, err := yamlnode.Parse("f.yaml", []byte(src))
	require.NoError(t, err)
	return n
}

func decodeOuter(t *testing.T, src string) (outer, []string) {
	t.Helper()
	var o outer
	d := &decode.Decoder{File: "f.yaml"}
	d.Decode(parse(t, src), &o)
	var errs []string
	for _, e := range d.Errors {
		errs = append(errs, fmt.Sprintf("%d:%d %s %s", e.Pos.Line, e.Pos.Col, e.Code, e.Msg))
	}
	return o, errs
}

func TestDecodeValues(t *testing.T) {
	o, errs := decodeOuter(t, `name: n
color: green
count: -12
small: 7
big: 9000000000
ratio: 2.5
on: true
tags: [a, "b", 'c']
ptr: {name: p, items: [{name: q}]}
list:
  - name: l1
  - name: l2
    items: []
word: ABC
words: [X, Y]
wordp: Z
extra: e
deep: {name: d}
`)
	require.Empty(t, errs)
	assert.Equal(t, decode.Pos{File: "f.yaml", Line: 1, Col: 1}, o.Pos)
	assert.Equal(t, "n", o.Name)
	assert.Equal(t, color("green"), o.Color)
	assert.Equal(t, -12, o.Count)
	assert.Equal(t, int8(7), o.Small)
	assert.Equal(t, int64(9000000000), o.Big)
	assert.Equal(t, 2.5, o.Ratio)
	assert.True(t, o.On)
	assert.Equal(t, []string{"a", "b", "c"}, o.Tags)
	require.NotNil(t, o.Ptr)
	assert.Equal(t, inner{Pos: decode.Pos{File: "f.yaml", Line: 9, Col: 6}, Name: "p",
		Items: []inner{{Pos: decode.Pos{File: "f.yaml", Line: 9, Col: 24}, Name: "q"}}}, *o.Ptr)
	require.Len(t, o.List, 2)
	assert.Equal(t, "l2", o.List[1].Name)
	assert.Equal(t, int32(12), o.List[1].Pos.Line)
	assert.NotNil(t, o.List[1].Items, "an empty list is an empty slice, not nil")
	assert.Empty(t, o.List[1].Items)
	assert.Nil(t, o.List[0].Items)
	assert.Equal(t, upper{Pos: decode.Pos{File: "f.yaml", Line: 14, Col: 7}, Word: "ABC"}, o.Word)
	assert.Equal(t, "Y", o.Words[1].Word)
	require.NotNil(t, o.WordP)
	assert.Equal(t, "Z", o.WordP.Word)
	assert.Equal(t, "e", o.Extra)
	assert.Equal(t, decode.Pos{}, o.embedded.Pos)
	assert.Equal(t, "d", o.Deep.Name)
}

func TestDecodeNulls(t *testing.T) {
	o, errs := decodeOuter(t, "name: n\ntags:\nptr: ~\nlist: null\nwordp:\n")
	require.Empty(t, errs)
	assert.Nil(t, o.Tags)
	assert.Nil(t, o.Ptr)
	assert.Nil(t, o.List)
	assert.Nil(t, o.WordP)
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"name: n\nnmae: x\n", `2:1 load-unknown-key unknown key "nmae" in a outer; allowed keys: name, color, count, small, big, ratio, on, tags, ptr, list, word, words, wordp, extra, deep`},
		{"name: n\nname: m\n", `2:1 load-duplicate-key duplicate key "name" (first at line 1); remove one of them`},
		{"color: red\n", `1:1 load-missing-key missing required key "name" in a outer`},
		{"name: n\ncolor: blue\n", `2:8 load-value "blue" is not one of red, green`},
		{"name: n\ncolor: [red]\n", `2:8 load-type expected a text value, found a sequence`},
		{"name: n\ncount: 1.5\n", `2:8 load-type expected an integer, found "1.5"`},
		{"name: n\ncount: '3'\n", `2:8 load-type expected an integer, found "3"`},
		{"name: n\nsmall: 300\n", `2:8 load-type expected an integer, found "300"`},
		{"name: n\ncount: {a: 1}\n", `2:8 load-type expected an integer, found a mapping`},
		{"name: n\nratio: x\n", `2:8 load-type expected a number, found "x"`},
		{"name: n\nratio: '1'\n", `2:8 load-type expected a number, found "1"`},
		{"name: n\non: yes\n", `2:5 load-type expected true or false, found "yes"`},
		{"name: n\non: [true]\n", `2:5 load-type expected true or false, found a sequence`},
		{"name: n\ntags: a\n", `2:7 load-type expected a list, found a scalar`},
		{"name: n\nptr: x\n", `2:6 load-type expected a mapping with keys name, items, found a scalar`},
		{"name: n\nptr: {}\n", `2:6 load-missing-key missing required key "name" in a inner`},
		{"name: n\nlist:\n  -\n", `3:4 load-missing-key missing required key "name" in a inner`},
		{"name: n\nword: abc\n", `2:7 load-value expected an upper-case word`},
		{"name: n\nwords: [A, b]\n", `2:12 load-value expected an upper-case word`},
		{"name: n\ndeep: {name: d, x: 1}\n", `2:17 load-unknown-key unknown key "x" in a inner; allowed keys: name, items`},
		{"[1, 2]\n", `1:1 load-type expected a mapping with keys name, color, count, small, big, ratio, on, tags, ptr, list, word, words, wordp, extra, deep, found a sequence`},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			_, errs := decodeOuter(t, c.src)
			require.NotEmpty(t, errs)
			assert.Equal(t, c.want, errs[0])
		})
	}
}

func TestDecodeRefusesComplexKeys(t *testing.T) {
	// The parser refuses such keys; the decoder does too, for a parser that does not.
	scalar := func(v string, line, col int32) *yamlnode.Node {
		return &yamlnode.Node{Kind: yamlnode.ScalarNode, Value: v, Line: line, Column: col}
	}
	n := &yamlnode.Node{Kind: yamlnode.MappingNode, Line: 1, Column: 1, Content: []*yamlnode.Node{
		scalar("name", 1, 1), scalar("n", 1, 7),
		{Kind: yamlnode.SequenceNode, Style: yamlnode.Flow, Line: 2, Column: 1, Content: []*yamlnode.Node{scalar("a", 2, 2)}}, scalar("x", 2, 6),
	}}
	var o outer
	d := &decode.Decoder{File: "f.yaml"}
	d.Decode(n, &o)
	require.Len(t, d.Errors, 1)
	assert.Equal(t, "f.yaml:2:1: a key must be a plain name, found a sequence", d.Errors[0].Error())
	assert.Equal(t, "load-type", d.Errors[0].Code)
	assert.Equal(t, "n", o.Name)
}

func TestDecodeReportsEveryProblem(t *testing.T) {
	o, errs := decodeOuter(t, "count: x\ncount: 2\nbogus: 1\nlist: [{}, {name: ok}, {items: 3}]\n")
	assert.Equal(t, []string{
		`1:8 load-type expected an integer, found "x"`,
		`2:1 load-duplicate-key duplicate key "count" (first at line 1); remove one of them`,
		`3:1 load-unknown-key unknown key "bogus" in a outer; allowed keys: name, color, count, small, big, ratio, on, tags, ptr, list, word, words, wordp, extra, deep`,
		`4:8 load-missing-key missing required key "name" in a inner`,
		`4:32 load-type expected a list, found a scalar`,
		`4:24 load-missing-key missing required key "name" in a inner`,
		`1:1 load-missing-key missing required key "name" in a outer`,
	}, errs)
	assert.Equal(t, "ok", o.List[1].Name)
}

func TestDecodeRefusesNonPointer(t *testing.T) {
	d := &decode.Decoder{File: "f.yaml"}
	assert.Panics(t, func() { d.Decode(parse(t, "name: n\n"), outer{}) })
	assert.Panics(t, func() { d.Decode(parse(t, "name: n\n"), (*outer)(nil)) })
}

func TestFields(t *testing.T) {
	fs := decode.Fields(fieldsType)
	var keys []string
	for _, f := range fs {
		keys = append(keys, f.Key)
	}
	assert.Equal(t, []string{"name", "items"}, keys)
	assert.True(t, fs[0].Required)
	assert.Equal(t, "The name.", fs[0].Doc)
}

// A struct decoded concurrently from many goroutines, the first time its
// type is seen, must not race (go test -race).
func TestDecodeConcurrentFirstUse(t *testing.T) {
	type fresh struct {
		A string  `yaml:"a"`
		B []fresh `yaml:"b"`
	}
	n := parse(t, "a: x\nb: [{a: y}]\n")
	done := make(chan fresh)
	for range 8 {
		go func() {
			var v fresh
			(&decode.Decoder{File: "f.yaml"}).Decode(n, &v)
			done <- v
		}()
	}
	for range 8 {
		v := <-done
		assert.Equal(t, "y", v.B[0].A)
	}
}

var fieldsType = reflect.TypeFor[inner]()

func TestDecodeSharesStrings(t *testing.T) {
	src := []byte("name: abc\ntags: [abc, abc, xyz]\nwords: [ABC, ABC]\nextra: " + strings.Repeat("long ", 20) + "\n")
	n, err := yamlnode.Parse("f.yaml", src)
	require.NoError(t, err)
	strs := decode.NewStrings()
	var o outer
	d := &decode.Decoder{File: "f.yaml", Strings: strs}
	d.Decode(n, &o)
	require.Empty(t, d.Errors)
	assert.Equal(t, []string{"abc", "abc", "xyz"}, o.Tags)
	assert.Equal(t, "ABC", o.Words[1].Word)
	assert.Equal(t, strings.TrimSpace(strings.Repeat("long ", 20)), o.Extra)
	// Equal values share one copy.
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	assert.True(t, same(o.Name, o.Tags[0]))
	assert.True(t, same(o.Tags[0], o.Tags[1]))
	assert.True(t, same(o.Words[0].Word, o.Words[1].Word))
}
