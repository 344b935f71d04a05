package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

var update = flag.Bool("update", false, "rewrite the example's landed events")

const (
	exampleJob    = "../golden/customer-cdc/platforms/lakehouse/jobs/customer_db.json"
	exampleEvents = "../examples/events/customer-cdc"
)

// landExampleEvents writes the example's change history: a snapshot of
// customers and addresses, then a day of changes (new customers, updates, a
// deletion, addresses moving country, which moves their partition).
func landExampleEvents(t *testing.T, root string) {
	t.Helper()
	spec, err := jobspec.Read(exampleJob)
	require.NoError(t, err)
	enc := spec.Source.Debezium.Encoding
	customers, addresses := &spec.Tables[0], &spec.Tables[2]
	ce, err := encode.NewEncoder(customers, enc, encode.Meta{Database: "customer_db"})
	require.NoError(t, err)
	ae, err := encode.NewEncoder(addresses, enc, encode.Meta{Database: "customer_db"})
	require.NoError(t, err)
	opts := encode.LandOptions{Prefix: spec.Source.Debezium.Prefix, FlushSize: 10}
	cl, err := encode.NewLander(root, customers.Topic, opts)
	require.NoError(t, err)
	al, err := encode.NewLander(root, addresses.Topic, opts)
	require.NoError(t, err)

	t0 := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	first := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken", "Radia", "Tim", "Anita", "Leslie", "Shafi"}
	last := []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton", "Thompson", "Perlman", "Berners-Lee", "Borg", "Lamport", "Goldwasser"}
	countries := []string{"GB", "US", "GB", "NL", "US", "US", "US", "US", "US", "US", "US", "GB", "US", "US", "US"}
	customer := func(i int, email string, limit int64) []row.Value {
		e := row.Null()
		if email != "" {
			e = row.String(email)
		}
		return []row.Value{
			row.String(fmt.Sprintf("C%05d", i)), row.String(first[i]), row.String(last[i]),
			row.Date(int32(-20000 + 997*i)), e, row.String(fmt.Sprintf("+1-555-01%02d", i)),
			row.Decimal(limit, 2), row.TimestampTZ(t0.Add(-time.Duration(400-i) * 24 * time.Hour).UnixMicro()),
		}
	}
	address := func(i int, street, city, country string) []row.Value {
		return []row.Value{
			row.String(fmt.Sprintf("A%05d", i)), row.String(fmt.Sprintf("C%05d", i)), row.String(street), row.String(city),
			row.Null(), row.String(fmt.Sprintf("%05d", 10000+i*7)), row.String(country),
			row.Struct([]row.Value{row.Float64(40 + float64(i)/10), row.Float64(-74 + float64(i)/10)}),
		}
	}
	add := func(l *encode.Lander, line []byte, err error) {
		t.Helper()
		require.NoError(t, err)
		_, err = l.Add(0, line)
		require.NoError(t, err)
	}
	at := func(e *encode.Encoder, ts time.Time) { e.SetSource(encode.Source{TsMs: ts.UnixMilli()}) }

	// The initial snapshot.
	for i := 0; i < 10; i++ {
		at(ce, t0)
		line, err := ce.Read(customer(i, fmt.Sprintf("%s@example.com", first[i]), 100000+int64(i)*25000))
		add(cl, line, err)
		at(ae, t0)
		line, err = ae.Read(address(i, fmt.Sprintf("%d Main St", i+1), "Springfield", countries[i]))
		add(al, line, err)
	}
	// A day of changes.
	ts := t0.Add(time.Hour)
	next := func() time.Time { ts = ts.Add(7 * time.Minute); return ts }
	for i := 10; i < 15; i++ {
		at(ce, next())
		line, err := ce.Create(customer(i, "", 50000))
		add(cl, line, err)
		at(ae, ts)
		line, err = ae.Create(address(i, "1 Market St", "Portland", countries[i]))
		add(al, line, err)
	}
	for _, i := range []int{1, 4, 10, 12, 1} {
		at(ce, next())
		line, err := ce.Update(nil, customer(i, fmt.Sprintf("%s.%s@example.org", first[i], last[i]), 250000+int64(i)*100))
		add(cl, line, err)
	}
	for _, mv := range []struct {
		i             int
		city, country string
	}{{3, "Toronto", "CA"}, {5, "Amsterdam", "NL"}, {11, "Dublin", "IE"}} {
		at(ae, next())
		line, err := ae.Update(nil, address(mv.i, "2 Canal St", mv.city, mv.country))
		add(al, line, err)
	}
	at(ce, next())
	lines, err := ce.DeleteLines(ce.KeyRow([]row.Value{row.String("C00007")}))
	require.NoError(t, err)
	for _, l := range lines {
		add(cl, l, nil)
	}
	at(ae, ts)
	lines, err = ae.DeleteLines(ae.KeyRow([]row.Value{row.String("A00007")}))
	require.NoError(t, err)
	for _, l := range lines {
		add(al, l, nil)
	}
	require.NoError(t, cl.Close())
	require.NoError(t, al.Close())
}

// TestExampleEvents keeps examples/events/customer-cdc equal to what
// landExampleEvents writes; -update rewrites it.
func TestExampleEvents(t *testing.T) {
	if *update {
		require.NoError(t, os.RemoveAll(exampleEvents))
		landExampleEvents(t, exampleEvents)
		return
	}
	tmp := t.TempDir()
	landExampleEvents(t, tmp)
	want := readTree(t, tmp)
	got := readTree(t, exampleEvents)
	assert.Equal(t, want, got, "the example's events are stale: go test ./merge-runner -run TestExampleEvents -update")
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return out
}

// TestExampleRun runs the README's command on the example: the embedded
// SQLite catalog, a local warehouse and the landed example events.
func TestExampleRun(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	state := t.TempDir()
	var out, errb = run2(t, "run", "--job", exampleJob, "--events", exampleEvents, "--state", state)
	sum := lastLine(t, out)
	require.Equal(t, "ok", sum["status"], errb)
	assert.EqualValues(t, 21+21+19, sum["events"], "customers (live and history) and addresses")
	assert.EqualValues(t, 3, sum["rows_deleted"], "one customer (live and history) and one address")
	out, errb = run2(t, "status", "--job", exampleJob, "--state", state)
	var st []tableStatus
	out, _ = run2(t, "status", "--job", exampleJob, "--state", state, "--json")
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	got := map[string]string{}
	records := map[string]int64{}
	for _, s := range st {
		got[s.Table], records[s.Table] = s.Position, s.Records
	}
	assert.Equal(t, map[string]string{
		"customer_db.customers": `{"0":21}`, "customer_db.customers_history": `{"0":21}`, "customer_db.addresses": `{"0":19}`,
	}, got, errb)
	// 15 customers, one deleted; every version of each: 15 + 5 updates.
	assert.Equal(t, map[string]int64{
		"customer_db.customers": 14, "customer_db.customers_history": 20, "customer_db.addresses": 14,
	}, records)
}

func run2(t *testing.T, args ...string) (string, string) {
	t.Helper()
	f := fixture{}
	code, out, errb := f.run(t, args...)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errb)
	return out, errb
}
