package merge

import (
	"errors"
	"fmt"
	"slices"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// CheckSpec makes, from the spec alone, every check the merge-runner would
// otherwise make only once a run has opened the catalog or the source: the
// contract (jobspec.Validate), each table's Iceberg schema and partition
// spec, the Debezium decoder of each table of a debezium spec, a key on
// every table of a snapshot, and a watermark column of an orderable type in
// every table of a watermark capture. A refusal is a *target.ConfigError
// (exit 2) naming the table and what to change.
func CheckSpec(spec *jobspec.Spec) error {
	if err := spec.Validate(); err != nil {
		return &target.ConfigError{Msg: err.Error()}
	}
	ns := spec.Target.Namespace
	for i := range spec.Tables {
		t := &spec.Tables[i]
		switch spec.Source.Kind {
		case jobspec.SourceSnapshot, jobspec.SourceTransformer:
			// A transformer's output is merged as a snapshot is.
			if len(t.PrimaryKey) == 0 {
				return configErrorf("table %s.%s: a snapshot capture needs a primary key to tell rows apart", ns, t.Name)
			}
		case jobspec.SourceWatermark:
			if err := checkWatermark(ns, t, spec.Source.Postgres.WatermarkColumn); err != nil {
				return err
			}
		}
		sc, err := target.Schema(t)
		if err != nil {
			return asConfigError(err)
		}
		if _, err := target.PartitionSpec(t, sc); err != nil {
			return asConfigError(err)
		}
		if spec.Source.Kind == jobspec.SourceDebezium {
			if _, err := debezium.NewDecoder(t, spec.Source.Debezium.Encoding); err != nil {
				return asConfigError(err)
			}
		}
	}
	return nil
}

// checkWatermark: the capture reads "WHERE wm > $1 ORDER BY wm" on each
// source table, so the column must be there, and its values must have an
// order the runner can resume from.
func checkWatermark(ns string, t *jobspec.Table, wm string) error {
	i := slices.IndexFunc(t.Columns, func(c jobspec.Column) bool { return c.Name == wm })
	if i < 0 {
		return configErrorf("table %s.%s: the watermark column %s is not one of its columns; add it to the dataset or capture the store another way", ns, t.Name, wm)
	}
	if c := &t.Columns[i]; !orderable(c.Type) {
		return configErrorf("table %s.%s: the watermark column %s is %s, which has no order; use a timestamp, date, integer, decimal or string column", ns, t.Name, wm, c.Type)
	}
	return nil
}

// orderable is the model's rule for watermark columns (model.DataType.Orderable).
func orderable(typ string) bool {
	switch typ {
	case "int8", "int16", "int32", "int64", "float32", "float64", "decimal",
		"date", "time", "timestamp", "timestamptz", "char", "varchar", "text":
		return true
	}
	return false
}

func configErrorf(format string, args ...any) error {
	return &target.ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// asConfigError makes a refusal of the spec a *target.ConfigError with its
// whole message: the decoder's are plain errors, and the schema's wrap the
// ConfigError in the column's path.
func asConfigError(err error) error {
	var ce *target.ConfigError
	if errors.As(err, &ce) && ce == err {
		return err
	}
	return &target.ConfigError{Msg: err.Error()}
}
