package encode_test

import (
	"fmt"
	"os"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Encode a few changes of a table and land them as the S3 sink would.
func Example() {
	table := &jobspec.Table{Name: "customers", SourceTable: "public.customers", Topic: "acme.crm.public.customers",
		Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "name", Type: "varchar", Length: 100},
			{Name: "credit_limit", Type: "decimal", Precision: 12, Scale: 2, Nullable: true},
		}}
	enc := jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "base64",
		TombstonesOnDelete: true}
	e, err := encode.NewEncoder(table, enc, encode.Meta{Database: "crm"})
	if err != nil {
		panic(err)
	}
	root, err := os.MkdirTemp("", "landing")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	l, err := encode.NewLander(root, e.Topic(), encode.LandOptions{Prefix: "cdc", FlushSize: 2})
	if err != nil {
		panic(err)
	}

	e.SetSource(encode.Source{TsMs: 1709288130123, LSN: 24023128, TxID: 555})
	create, _ := e.Create([]row.Value{row.Int64(1), row.String("Anne"), row.Decimal(100000, 2)})
	e.SetSource(encode.Source{TsMs: 1709288131000, LSN: 24023200, TxID: 556})
	update, _ := e.Update(nil, []row.Value{row.Int64(1), row.String("Anne"), row.Unavailable()})
	e.SetSource(encode.Source{TsMs: 1709288132000, LSN: 24023300, TxID: 557})
	deleted, _ := e.DeleteLines(e.KeyRow([]row.Value{row.Int64(1)}))

	fmt.Println(string(create[:80]))
	for _, line := range append([][]byte{create, update}, deleted...) {
		if _, err := l.Add(0, line); err != nil {
			panic(err)
		}
	}
	if err := l.Close(); err != nil {
		panic(err)
	}
	for _, f := range l.Files() {
		fmt.Println(f.Key, f.Records)
	}
	// Output:
	// {"before":null,"after":{"id":1,"name":"Anne","credit_limit":"AYag"},"source":{"v
	// cdc/acme.crm.public.customers/partition=0/acme.crm.public.customers+0+0000000000.json 2
	// cdc/acme.crm.public.customers/partition=0/acme.crm.public.customers+0+0000000002.json 2
}
