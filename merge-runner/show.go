package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// errStopShow ends a scan once the limit is reached.
var errStopShow = errors.New("limit reached")

func newShowCmd() *cobra.Command {
	var c common
	var name, format string
	var limit int
	var snapshot int64
	cmd := &cobra.Command{
		Use:   "show --job SPEC --table T [--limit N] [--format table|json|csv] [--snapshot ID]",
		Short: "Print a table's rows as a query sees them, deletes applied",
		Long: `Reads one of the job spec's tables (its Iceberg name: the dataset's name for
the live table, <dataset>_history for the history table) through Iceberg's scan,
so equality and position deletes are applied: the rows a query engine returns,
not the rows the Parquet files happen to hold. --snapshot reads the table as an
earlier snapshot left it (status prints the current snapshot's id). Rows come in
the order the data files hold them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := c.spec()
			if err != nil {
				return err
			}
			var names []string
			found := false
			for _, t := range spec.Tables {
				names = append(names, t.Name)
				found = found || t.Name == name
			}
			if !found {
				return configErrorf("--table %q is not a table of job spec %s; its tables are %s", name, spec.Stream, strings.Join(names, ", "))
			}
			switch format {
			case "table", "json", "csv":
			default:
				return configErrorf("--format %q: use table, json or csv", format)
			}
			cat, err := c.openCatalog(cmd.Context(), spec)
			if err != nil {
				return err
			}
			defer func() { _ = target.CloseCatalog(cat) }()
			tbl, err := cat.LoadTable(cmd.Context(), table.Identifier{spec.Target.Namespace, name})
			if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
				return configErrorf("table %s.%s is not created yet: the first run creates it", spec.Target.Namespace, name)
			}
			if err != nil {
				return err
			}
			var cols []string
			for _, f := range tbl.Schema().Fields() {
				cols = append(cols, f.Name)
			}
			out := newRowWriter(cmd.OutOrStdout(), format, cols)
			n := 0
			err = target.ScanAt(cmd.Context(), tbl, snapshot, cols, func(r []row.Value) error {
				if limit > 0 && n == limit {
					return errStopShow
				}
				n++
				return out.row(r)
			})
			if err != nil && !errors.Is(err, errStopShow) {
				return err
			}
			if err := out.flush(); err != nil {
				return err
			}
			if format == "table" {
				more := ""
				if errors.Is(err, errStopShow) {
					more = fmt.Sprintf(" (the first %d; --limit 0 shows all)", limit)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d rows of %s.%s%s\n", n, spec.Target.Namespace, name, more)
			}
			return nil
		},
	}
	c.register(cmd)
	f := cmd.Flags()
	f.StringVar(&name, "table", "", "the table: the dataset's name, or <dataset>_history")
	f.IntVar(&limit, "limit", 20, "rows to print at most (0: all)")
	f.StringVar(&format, "format", "table", "table, json (one object a line) or csv")
	f.Int64Var(&snapshot, "snapshot", 0, "read the table as this snapshot left it")
	_ = cmd.MarkFlagRequired("table")
	return cmd
}

// rowWriter prints rows in one of show's formats.
type rowWriter struct {
	format string
	cols   []string
	tw     *tabwriter.Writer
	cw     *csv.Writer
	w      io.Writer
	cells  []string
}

func newRowWriter(w io.Writer, format string, cols []string) *rowWriter {
	rw := &rowWriter{format: format, cols: cols, w: w, cells: make([]string, len(cols))}
	switch format {
	case "table":
		rw.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(rw.tw, strings.ToUpper(strings.Join(cols, "\t")))
	case "csv":
		rw.cw = csv.NewWriter(w)
		_ = rw.cw.Write(cols)
	}
	return rw
}

func (rw *rowWriter) row(r []row.Value) error {
	switch rw.format {
	case "json":
		obj := make(map[string]any, len(r))
		for i, v := range r {
			obj[rw.cols[i]] = v.JSONValue()
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(rw.w, "%s\n", b)
		return err
	case "csv":
		for i, v := range r {
			rw.cells[i] = ""
			if !v.IsNull() {
				rw.cells[i] = v.Display()
			}
		}
		return rw.cw.Write(rw.cells)
	}
	for i, v := range r {
		s := v.Display()
		if r := []rune(s); len(r) > 60 {
			s = string(r[:57]) + "..."
		}
		rw.cells[i] = strings.NewReplacer("\t", `\t`, "\n", `\n`).Replace(s)
	}
	_, err := fmt.Fprintln(rw.tw, strings.Join(rw.cells, "\t"))
	return err
}

func (rw *rowWriter) flush() error {
	switch rw.format {
	case "table":
		return rw.tw.Flush()
	case "csv":
		rw.cw.Flush()
		return rw.cw.Error()
	}
	return nil
}
