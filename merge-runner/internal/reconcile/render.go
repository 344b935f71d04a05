package reconcile

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// The JSON shape of a report.
type jsonReport struct {
	Table      string           `json:"table"`
	Legacy     string           `json:"legacy_table"`
	Equal      bool             `json:"equal"`
	KeyColumns []string         `json:"key_columns"`
	LegacyRows int64            `json:"legacy_rows"`
	NewRows    int64            `json:"new_rows"`
	Matching   int64            `json:"matching_rows"`
	OnlyLegacy int64            `json:"only_legacy"`
	OnlyNew    int64            `json:"only_new"`
	Changed    int64            `json:"changed"`
	ByColumn   map[string]int64 `json:"changed_by_column"`
	Tolerances jsonTolerances   `json:"tolerances"`
	Freshness  *jsonFreshness   `json:"freshness,omitempty"`
	KeyRanges  int              `json:"key_ranges"`
	Compared   int              `json:"key_ranges_compared_by_row"`
	Diffs      []jsonDiff       `json:"diffs"`
	Truncated  bool             `json:"diffs_truncated"`
}

type jsonTolerances struct {
	TimestampPrecision string  `json:"timestamp_precision"`
	FloatEpsilon       float64 `json:"float_epsilon"`
	TrimText           bool    `json:"trim_text"`
}

type jsonFreshness struct {
	Column        string   `json:"column"`
	LegacyNewest  any      `json:"legacy_newest"`
	NewNewest     any      `json:"new_newest"`
	BehindSeconds *float64 `json:"behind_seconds,omitempty"`
}

type jsonDiff struct {
	Kind    string           `json:"kind"`
	Key     map[string]any   `json:"key"`
	Columns []jsonColumnDiff `json:"columns,omitempty"`
}

type jsonColumnDiff struct {
	Column string `json:"column"`
	Legacy any    `json:"legacy"`
	New    any    `json:"new"`
}

// WriteJSON writes the report as one JSON object; legacy names the legacy
// table.
func (r *Report) WriteJSON(w io.Writer, legacy string) error {
	j := jsonReport{
		Table: r.Table, Legacy: legacy, Equal: r.Equal(), KeyColumns: r.KeyColumns,
		LegacyRows: r.LegacyRows, NewRows: r.NewRows, Matching: r.Matching,
		OnlyLegacy: r.OnlyLegacy, OnlyNew: r.OnlyNew, Changed: r.Changed, ByColumn: r.ChangedCols,
		Tolerances: jsonTolerances{TimestampPrecision: precision(r.Options), FloatEpsilon: r.Options.FloatEpsilon, TrimText: r.Options.TrimText},
		KeyRanges:  r.KeyRanges, Compared: r.KeyRangesDiffering,
		Diffs:     []jsonDiff{},
		Truncated: r.total() > int64(len(r.Diffs)),
	}
	if f := r.Freshness; f != nil {
		jf := &jsonFreshness{Column: f.Column, LegacyNewest: instant(f.Legacy), NewNewest: instant(f.New)}
		if f.HasBehind {
			s := f.Behind.Seconds()
			jf.BehindSeconds = &s
		}
		j.Freshness = jf
	}
	for _, d := range r.Diffs {
		jd := jsonDiff{Kind: d.Kind, Key: map[string]any{}}
		for i, k := range r.KeyColumns {
			jd.Key[k] = jsonValue(d.Key[i])
		}
		for _, c := range d.Columns {
			jd.Columns = append(jd.Columns, jsonColumnDiff{Column: c.Column, Legacy: jsonValue(c.Legacy), New: jsonValue(c.New)})
		}
		j.Diffs = append(j.Diffs, jd)
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// jsonValue is v.JSONValue() but for strings, which it trims: here a
// trailing space can be the difference reported.
func jsonValue(v row.Value) any {
	if v.Kind() == row.KindString {
		return v.Text()
	}
	return v.JSONValue()
}

// instant renders timestamps in RFC 3339 (a timestamp without time zone
// without an offset), which monitors parse; other values as jsonValue.
func instant(v row.Value) any {
	switch v.Kind() {
	case row.KindTimestamp:
		return time.UnixMicro(v.Int()).UTC().Format("2006-01-02T15:04:05.999999")
	case row.KindTimestampTZ:
		return time.UnixMicro(v.Int()).UTC().Format(time.RFC3339Nano)
	}
	return jsonValue(v)
}

func (r *Report) total() int64 { return r.OnlyLegacy + r.OnlyNew + r.Changed }

func precision(o Options) string {
	if o.TimestampPrecision == 0 {
		return "exact"
	}
	return o.TimestampPrecision.String()
}

// WriteMarkdown writes a summary table, then the listed differing keys.
func (r *Report) WriteMarkdown(w io.Writer, legacy string) error {
	var b strings.Builder
	verdict := "equal within the tolerances"
	if !r.Equal() {
		verdict = "**different**"
	}
	fmt.Fprintf(&b, "## Reconcile %s against %s: %s\n\n", legacy, r.Table, verdict)
	fmt.Fprintf(&b, "| | legacy (%s) | new (%s) |\n|---|---:|---:|\n", cell(legacy), cell(r.Table))
	fmt.Fprintf(&b, "| rows | %d | %d |\n", r.LegacyRows, r.NewRows)
	fmt.Fprintf(&b, "| keys only here | %d | %d |\n", r.OnlyLegacy, r.OnlyNew)
	fmt.Fprintf(&b, "| keys on both, rows equal | %d | %d |\n", r.Matching, r.Matching)
	fmt.Fprintf(&b, "| keys on both, rows differ | %d | %d |\n", r.Changed, r.Changed)
	if f := r.Freshness; f != nil {
		fmt.Fprintf(&b, "| newest %s | %s | %s |\n", cell(f.Column), cell(f.Legacy.Display()), cell(f.New.Display()))
	}
	fmt.Fprintf(&b, "\nTolerances: timestamp precision %s, float epsilon %g, trim text %v.\n", precision(r.Options), r.Options.FloatEpsilon, r.Options.TrimText)
	fmt.Fprintf(&b, "Compared row by row: %d of %d key ranges (the others' row hashes agree).\n", r.KeyRangesDiffering, r.KeyRanges)
	if f := r.Freshness; f != nil && f.HasBehind {
		fmt.Fprintf(&b, "The new table is %s behind the legacy one (newest %s).\n", f.Behind, f.Column)
	}
	if len(r.ChangedCols) > 0 {
		cols := make([]string, 0, len(r.ChangedCols))
		for c := range r.ChangedCols {
			cols = append(cols, c)
		}
		slices.Sort(cols)
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = fmt.Sprintf("%s %d", c, r.ChangedCols[c])
		}
		fmt.Fprintf(&b, "Rows differing, by column: %s.\n", strings.Join(parts, ", "))
	}
	if len(r.Diffs) > 0 {
		fmt.Fprintf(&b, "\n### Differing keys (%d of %d)\n\n", len(r.Diffs), r.total())
		fmt.Fprintf(&b, "| %s | difference | column | legacy | new |\n|", cell(strings.Join(r.KeyColumns, ", ")))
		b.WriteString(strings.Repeat("---|", 5) + "\n")
		for _, d := range r.Diffs {
			k := cell(keyText(d.Key))
			switch d.Kind {
			case OnlyLegacy:
				fmt.Fprintf(&b, "| %s | only in legacy | | | |\n", k)
			case OnlyNew:
				fmt.Fprintf(&b, "| %s | only in new | | | |\n", k)
			default:
				for _, c := range d.Columns {
					fmt.Fprintf(&b, "| %s | changed | %s | %s | %s |\n", k, cell(c.Column), cell(c.Legacy.Display()), cell(c.New.Display()))
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// keyText is a key's values, as the report lists them.
func keyText(k []row.Value) string { return namedKey(nil, k) }

// namedKey is a key as column=value pairs (for errors), or its values
// alone when cols is nil.
func namedKey(cols []string, k []row.Value) string {
	parts := make([]string, len(k))
	for i, v := range k {
		parts[i] = v.Display()
		if cols != nil {
			parts[i] = cols[i] + "=" + parts[i]
		}
	}
	return strings.Join(parts, ", ")
}

// cell escapes a value for a markdown table cell.
func cell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", `\n`, "\r", `\r`).Replace(s)
	if r := []rune(s); len(r) > 80 {
		s = string(r[:77]) + "..."
	}
	return s
}
