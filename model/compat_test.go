package model_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

const customerDB = "zones/retail/teams/crm/datastores/customer_db.yaml"

// judged renders the evolutions as "dataset path: rule allowed|refused".
func judged(t *testing.T, base, head files) []string {
	t.Helper()
	var out []string
	for _, e := range model.Compatibility(base.load(t), head.load(t)) {
		verdict := "refused"
		if e.Allowed {
			verdict = "allowed"
		}
		if e.Warning {
			verdict += " (warns " + strings.Join(e.Consumers, ",") + ")"
		}
		out = append(out, strings.TrimSuffix(fmt.Sprintf("%s %s", e.Dataset, e.Path), " ")+": "+e.Rule+" "+verdict)
	}
	return out
}

func TestCompatibility(t *testing.T) {
	base := ownedExample(t)
	// notes is a dataset no workspace sinks, so it can be widened and narrowed freely in the model.
	base.edit(t, customerDB, "  - name: addresses\n", `  - name: notes
    primary_key: [id]
    columns:
      - {name: id, type: int64, classifications: [internal]}
      - {name: n32, type: int32, classifications: [internal]}
      - {name: f32, type: float32, classifications: [internal]}
      - {name: d, type: "decimal(10,2)", classifications: [internal]}
      - {name: v, type: varchar(10), classifications: [internal]}
      - {name: opt, type: text, classifications: [internal]}
      - {name: req, type: text, nullable: false, classifications: [internal]}
  - name: addresses
`)
	col := func(old, new string) func(files) {
		return func(f files) { f.edit(t, customerDB, old, new) }
	}
	for _, tc := range []struct {
		name   string
		change func(files)
		want   []string
	}{
		{"add nullable column", col("{name: req, type: text, nullable: false, classifications: [internal]}", "{name: req, type: text, nullable: false, classifications: [internal]}\n      - {name: extra, type: text, classifications: [internal]}"), []string{"customer_db.notes extra: add-nullable allowed"}},
		{"add required column", col("{name: req, type: text, nullable: false, classifications: [internal]}", "{name: req, type: text, nullable: false, classifications: [internal]}\n      - {name: extra, type: text, nullable: false, classifications: [internal]}"), []string{"customer_db.notes extra: add-required refused"}},
		{"drop column", col("      - {name: opt, type: text, classifications: [internal]}\n", ""), []string{"customer_db.notes opt: drop refused"}},
		{"rename column", col("{name: opt, type: text", "{name: opt2, type: text"), []string{"customer_db.notes opt: drop refused", "customer_db.notes opt2: add-nullable allowed"}},
		{"int32 to int64", col("{name: n32, type: int32", "{name: n32, type: int64"), []string{"customer_db.notes n32: widen-int allowed"}},
		{"float32 to float64", col("{name: f32, type: float32", "{name: f32, type: float64"), []string{"customer_db.notes f32: widen-float allowed"}},
		{"decimal precision up", col(`type: "decimal(10,2)"`, `type: "decimal(12,2)"`), []string{"customer_db.notes d: widen-decimal allowed"}},
		{"varchar longer", col("type: varchar(10)", "type: varchar(20)"), []string{"customer_db.notes v: widen-string allowed"}},
		{"varchar to text", col("type: varchar(10)", "type: text"), []string{"customer_db.notes v: widen-string allowed"}},
		{"nullable to required", col("{name: opt, type: text, classifications", "{name: opt, type: text, nullable: false, classifications"), []string{"customer_db.notes opt: nullable-to-required refused"}},
		{"required to nullable", col("{name: req, type: text, nullable: false,", "{name: req, type: text, nullable: true,"), []string{"customer_db.notes req: required-to-nullable allowed"}},
		{"type change", col("{name: opt, type: text", "{name: opt, type: int64"), []string{"customer_db.notes opt: type-change refused"}},
		{"key change", col("  - name: notes\n    primary_key: [id]", "  - name: notes\n    primary_key: [id, n32]"), []string{"customer_db.notes n32: nullable-to-required refused", "customer_db.notes: key-change refused"}},
		{"partition change", col("  - name: notes\n    primary_key: [id]", "  - name: notes\n    primary_key: [id]\n    partition_by: [v]"), []string{"customer_db.notes: partition-change refused"}},
		{"add dataset", col("  - name: addresses\n", "  - name: extra\n    primary_key: [id]\n    columns:\n      - {name: id, type: int64, classifications: [internal]}\n  - name: addresses\n"), []string{"customer_db.extra: add-dataset allowed"}},
		{"delete an unsunk dataset", func(f files) {
			i := strings.Index(f[customerDB], "  - name: notes\n")
			j := strings.Index(f[customerDB], "  - name: addresses\n")
			f[customerDB] = f[customerDB][:i] + f[customerDB][j:]
		}, []string{"customer_db.notes: drop-dataset allowed"}},
		{"delete a sunk dataset", func(f files) {
			i := strings.Index(f[customerDB], "  - name: addresses\n")
			f[customerDB] = f[customerDB][:i]
		}, []string{"customer_db.addresses: drop-dataset refused"}},
		{"delete a sunk datastore", func(f files) { delete(f, customerDB) }, []string{
			"customer_db.addresses: drop-dataset refused", "customer_db.customers: drop-dataset refused", "customer_db.notes: drop-dataset allowed",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := base.clone()
			tc.change(head)
			assert.Equal(t, tc.want, judged(t, base, head))
		})
	}

	// Every widening refused the other way round.
	for _, tc := range []struct{ name, wide, narrow, rule string }{
		{"int64 to int32", "{name: n32, type: int64", "{name: n32, type: int32", "narrow"},
		{"float64 to float32", "{name: f32, type: float64", "{name: f32, type: float32", "narrow"},
		{"decimal precision down", `type: "decimal(12,2)"`, `type: "decimal(10,2)"`, "narrow"},
		{"varchar shorter", "type: varchar(20)", "type: varchar(10)", "narrow"},
		{"text to varchar", "{name: v, type: text", "{name: v, type: varchar(10)", "narrow"},
		{"nullable back to required", "{name: req, type: text, nullable: true,", "{name: req, type: text, nullable: false,", "nullable-to-required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wide := base.clone()
			wide.edit(t, customerDB, tc.narrow, tc.wide)
			got := judged(t, wide, base)
			require.Len(t, got, 1)
			assert.Contains(t, got[0], ": "+tc.rule+" refused")
		})
	}

	// The deprecation flow: deprecate (allowed, warns the consumers), the
	// consumers move off, then the dataset goes.
	deprecated := base.clone()
	deprecated.edit(t, customerDB, "  - name: addresses\n", "  - name: addresses\n    deprecated: {reason: use addresses_v2}\n")
	assert.Equal(t, []string{"customer_db.addresses: deprecate allowed (warns campaigns)"}, judged(t, base, deprecated))
	moved := deprecated.clone()
	moved.edit(t, "zones/retail/teams/marketing/workspaces/campaigns.yaml", "      - customer_db.addresses\n", "")
	assert.Empty(t, judged(t, deprecated, moved))
	gone := moved.clone()
	i := strings.Index(gone[customerDB], "  - name: addresses\n")
	gone[customerDB] = gone[customerDB][:i]
	assert.Equal(t, []string{"customer_db.addresses: drop-dataset allowed"}, judged(t, moved, gone))
}

// TestCompatibilityPositions: each evolution points at where the head says
// it, the column or nested field, so that a merge request's reviewer lands
// on the line; a dropped column, which the head no longer has, points at
// its dataset.
func TestCompatibilityPositions(t *testing.T) {
	base := ownedExample(t)
	base.edit(t, customerDB, "  - name: addresses\n", `  - name: notes
    primary_key: [id]
    columns:
      - {name: id, type: int64, classifications: [internal]}
      - {name: n32, type: int32, classifications: [internal]}
      - {name: gone, type: text, classifications: [internal]}
      - name: s
        type: struct
        fields:
          - {name: a, type: int16, classifications: [internal]}
  - name: addresses
`)
	head := files{}
	for k, v := range base {
		head[k] = v
	}
	head.edit(t, customerDB, "{name: n32, type: int32", "{name: n32, type: int64")
	head.edit(t, customerDB, "      - {name: gone, type: text, classifications: [internal]}\n", "")
	head.edit(t, customerDB, "{name: a, type: int16", "{name: a, type: int8")
	line := func(text string) int32 {
		for i, l := range strings.Split(head[customerDB], "\n") {
			if strings.Contains(l, text) {
				return int32(i + 1)
			}
		}
		t.Fatalf("no line %q", text)
		return 0
	}
	got := map[string]int32{}
	for _, e := range model.Compatibility(base.load(t), head.load(t)) {
		got[e.Path+" "+e.Rule] = e.Pos.Line
	}
	assert.Equal(t, map[string]int32{
		"n32 widen-int": line("{name: n32,"),
		"s.a narrow":    line("{name: a, type: int8"),
		"gone drop":     line("  - name: notes"),
	}, got)
}

// TestCompatibilityIsLinearInColumns: columns are matched by name through
// a map (a dataset may have tens of thousands); 40,000 took seconds when
// each was looked up by scanning the others.
func TestCompatibilityIsLinearInColumns(t *testing.T) {
	const n = 40000
	var b, h strings.Builder
	b.WriteString("  - name: wide\n    primary_key: [k]\n    columns:\n      - {name: k, type: int64, classifications: [internal]}\n")
	h.WriteString(b.String())
	for i := range n {
		fmt.Fprintf(&b, "      - {name: c%d, type: int32, classifications: [internal]}\n", i)
		fmt.Fprintf(&h, "      - {name: c%d, type: int64, classifications: [internal]}\n", i)
	}
	base := ownedExample(t)
	head := files{}
	for k, v := range base {
		head[k] = v
	}
	base.edit(t, customerDB, "  - name: addresses\n", b.String()+"  - name: addresses\n")
	head.edit(t, customerDB, "  - name: addresses\n", h.String()+"  - name: addresses\n")
	bm, hm := base.load(t), head.load(t)
	// A quadratic lookup shows as this test running into its timeout;
	// speed itself is for benchmarks, not assertions.
	evs := model.Compatibility(bm, hm)
	require.Len(t, evs, n)
}
