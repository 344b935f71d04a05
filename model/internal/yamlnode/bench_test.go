package yamlnode

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// benchInput builds a synthetic model file shaped like the large benchmark
// model: 3,200 datasets of 12 flow-style columns plus a few block-style
// ones.
var benchInput = sync.OnceValue(func() []byte {
	var b strings.Builder
	b.WriteString("datastore: s1\ncapture:\n  kind: sql_snapshot\ndatasets:\n")
	for d := 0; d < 3200; d++ {
		fmt.Fprintf(&b, "  - name: ds%d\n    primary_key: [c0]\n    documentation: some words here\n    columns:\n", d)
		for c := 0; c < 12; c++ {
			fmt.Fprintf(&b, "      - {name: c%d, type: varchar(20)}\n", c)
		}
		for c := 12; c < 14; c++ {
			fmt.Fprintf(&b, "      - name: c%d\n        type: decimal(10,2)\n        nullable: false\n", c)
		}
	}
	return []byte(b.String())
})

func BenchmarkParse(b *testing.B) {
	data := benchInput()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseReference(b *testing.B) {
	data := benchInput()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseReference("bench.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchInputMatchesReference(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: parses the benchmark input with yaml.v3")
	}
	data := benchInput()
	want, err := parseReference("bench.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("bench.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffNodes("$", want, got); d != "" {
		t.Fatal(d)
	}
}
