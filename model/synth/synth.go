// Package synth writes large, valid, synthetic models for measuring the
// loader and the lint rules.
//
// The model has the shape of the Python reference's large test model,
// repeated until it holds the number of datasets asked for. One repetition is
// one team with
//   - a datastore captured by SQL snapshot with 31 datasets of 5 to 30
//     columns each, 363 columns in all, single-column primary keys and a mix of
//     types (int32, int64, varchar(n), decimal(p,s), date, timestamp,
//     timestamptz, boolean, float64, text);
//   - a datastore captured by Debezium with 1 dataset of 5 columns;
//   - 4 workspaces of one dataset group each, 22 sinks in all: 3 groups are
//     served by the airflow-iceberg platform, the 4th by a legacy platform.
//
// The teams are spread over up to 10 zones (team r lives in zone r mod 10),
// and one workspace of each team sinks datasets of the next team, so that
// consumption crosses zones. The output depends only on the number of
// datasets asked for: the same number gives byte-identical files.
package synth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The shape of one repetition.
const (
	DatastoresPerRep = 2
	DatasetsPerRep   = SnapshotDatasets + 1
	ColumnsPerRep    = SnapshotColumns + feedColumns
	WorkspacesPerRep = 4
	SinksPerRep      = 22
	// SnapshotDatasets and SnapshotColumns are the SQL snapshot store's size.
	SnapshotDatasets = 31
	SnapshotColumns  = 363
	// MaxZones is how many zones the teams are spread over.
	MaxZones = 10

	feedColumns = 5
)

// snapshotColumns is the column count of each of the snapshot store's
// datasets: 5 to 30, 363 in all.
var snapshotColumns = [SnapshotDatasets]int{
	30, 5, 8, 12, 6, 15, 16, 5, 20, 14, 17, 16, 14, 5, 8, 25,
	6, 11, 7, 9, 5, 18, 6, 10, 8, 13, 5, 7, 12, 6, 24,
}

// The four workspaces of a repetition: which platform serves their group,
// with which requirements, and which datasets they sink (indexes into the
// snapshot store; feed means the Debezium store's dataset).
type workspaceShape struct {
	suffix, group, platform, history, latency string
	sinks                                     []int // snapshot dataset indexes
	feed                                      bool  // also sink the feed dataset
	next                                      bool  // sink the next repetition's datasets
}

var workspaceShapes = [WorkspacesPerRep]workspaceShape{
	{"live", "live_tables", "lakehouse", "live_only", "minutes", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, false, false},
	{"history", "audit_history", "lakehouse", "forensic", "hours", []int{10, 11, 12, 13, 14}, true, false},
	{"partner", "partner_feed", "lakehouse", "live_only", "minutes", []int{0, 15, 16, 17}, false, true},
	{"legacy", "nightly_extract", "legacy_etl", "live_only", "hours", []int{20, 30}, false, false},
}

// Stats says what was written.
type Stats struct {
	Reps       int   // repetitions, one team each
	Zones      int   // zones
	Teams      int   // teams
	Datastores int   // datastores
	Datasets   int   // datasets
	Columns    int   // columns
	Workspaces int   // workspaces
	Groups     int   // dataset groups
	Sinks      int   // sinks
	Files      int   // files written
	Bytes      int64 // bytes written
}

// Expect is what a model synthesized for about datasets datasets holds,
// without writing it.
func Expect(datasets int) Stats {
	reps := Reps(datasets)
	zones := min(reps, MaxZones)
	return Stats{
		Reps: reps, Zones: zones, Teams: reps,
		Datastores: reps * DatastoresPerRep, Datasets: reps * DatasetsPerRep, Columns: reps * ColumnsPerRep,
		Workspaces: reps * WorkspacesPerRep, Groups: reps * WorkspacesPerRep, Sinks: reps * SinksPerRep,
		Files: 1 + zones + reps*(1+DatastoresPerRep+WorkspacesPerRep),
	}
}

// Reps is how many repetitions hold at least datasets datasets (at least one).
func Reps(datasets int) int {
	return max(1, (datasets+DatasetsPerRep-1)/DatasetsPerRep)
}

// Config says what to write.
type Config struct {
	// Datasets is about how many datasets the model holds: it is rounded up
	// to whole repetitions of 32.
	Datasets int
	// Progress, when set, receives a progress line about every second.
	Progress io.Writer
	// Workers is how many files are written at once; 2 per core when 0.
	Workers int
}

// Write writes a model of about datasets datasets into dir, which must be
// missing or empty.
func Write(ctx context.Context, dir string, datasets int) (Stats, error) {
	return Config{Datasets: datasets}.Write(ctx, dir)
}

// Write writes the model into dir, which must be missing or empty.
func (c Config) Write(ctx context.Context, dir string) (Stats, error) {
	if c.Datasets < 1 {
		return Stats{}, fmt.Errorf("synth: the number of datasets must be at least 1, found %d", c.Datasets)
	}
	if err := emptyDir(dir); err != nil {
		return Stats{}, err
	}
	st := Expect(c.Datasets)
	g := &gen{dir: dir, reps: st.Reps, zones: st.Zones}

	var files atomic.Int64
	var bytesOut atomic.Int64
	write := func(rel string, data []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		files.Add(1)
		bytesOut.Add(int64(len(data)))
		return nil
	}

	// The ecosystem and the zones first, then the teams in parallel.
	var b bytes.Buffer
	g.ecosystem(&b)
	if err := write("ecosystem.yaml", b.Bytes()); err != nil {
		return Stats{}, err
	}
	for z := 0; z < g.zones; z++ {
		if err := os.MkdirAll(filepath.Join(dir, "zones", zoneName(z), "teams"), 0o755); err != nil {
			return Stats{}, err
		}
		b.Reset()
		g.zone(&b, z)
		if err := write("zones/"+zoneName(z)+"/zone.yaml", b.Bytes()); err != nil {
			return Stats{}, err
		}
	}

	workers := c.Workers
	if workers <= 0 {
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	var next, done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var failed atomic.Bool
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	stop := make(chan struct{})
	var progress sync.WaitGroup
	if c.Progress != nil {
		progress.Add(1)
		go func() {
			defer progress.Done()
			start := time.Now()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					d := done.Load()
					fmt.Fprintf(c.Progress, "synth: %d/%d teams (%d%%), %d files, %.0f MiB, %.1fs\n",
						d, g.reps, d*100/int64(g.reps), files.Load(), float64(bytesOut.Load())/(1<<20), time.Since(start).Seconds())
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b bytes.Buffer
			for {
				r := int(next.Add(1) - 1)
				if r >= g.reps || ctx.Err() != nil || failed.Load() {
					return
				}
				if err := g.team(r, &b, write); err != nil {
					fail(err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	progress.Wait()
	if firstErr != nil {
		return Stats{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	st.Files, st.Bytes = int(files.Load()), bytesOut.Load()
	return st, nil
}

// emptyDir makes sure dir exists and holds nothing.
func emptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if len(names) > 0 {
		return fmt.Errorf("synth: %s is not empty; give a new or empty folder", dir)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

type gen struct {
	dir         string
	reps, zones int
}

func zoneName(z int) string { return "zone_" + pad(z, 2) }
func teamName(r int) string { return "team_" + pad(r, 5) }
func snapName(r int) string { return "snap_" + pad(r, 5) }
func feedName(r int) string { return "feed_" + pad(r, 5) }

func datasetName(i int) string { return datasetWords[i%len(datasetWords)] + "_" + pad(i, 2) }

// pad formats n in decimal with at least width digits.
func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

var datasetWords = []string{
	"customers", "orders", "order_lines", "products", "prices", "stock", "shipments", "returns",
	"invoices", "payments", "refunds", "accounts", "ledger", "budgets", "suppliers", "contracts",
}

var columnWords = []string{
	"amount", "status", "created", "updated", "code", "label", "price", "quantity", "flag", "note",
	"reference", "score", "region", "channel", "origin", "rate", "balance", "category", "holder", "revision",
}

func (g *gen) ecosystem(b *bytes.Buffer) {
	b.WriteString(`# A synthetic model for measuring: ` + strconv.Itoa(g.reps) + ` teams in ` + strconv.Itoa(g.zones) + ` zones.
ecosystem: synthetic
owner: acme/model@main
documentation: A synthetic ecosystem with the shape of the reference's large test model, repeated.

classifications:
  - {name: public, documentation: May be shared with anyone.}
  - {name: internal, documentation: Staff only.}
  - {name: cpi, documentation: Customer personal information.}

vendors:
  - name: onprem
    documentation: Our own data centres.
    locations:
      - name: dc1
        locations:
          - {name: rack_a}
      - name: dc2

containers:
  - name: minio
    location: onprem/dc1
    object_storage: {endpoint: "http://minio:9000", region: us-east-1, path_style: true}
  - name: catalog_db
    location: onprem/dc1
    postgres: {host: catalog-db, port: 5432, database: iceberg_catalog}
  - name: kafka
    location: onprem/dc1
    kafka: {bootstrap: "kafka:9092"}
  - name: connect
    location: onprem/dc1
    kafka_connect: {url: "http://kafka-connect:8083", kafka: kafka}

credentials:
  - {name: minio_keys, kind: s3_keys}
  - {name: catalog_rw, kind: user_password}
  - {name: trino_svc, kind: user_password}

platforms:
  - name: lakehouse
    kind: airflow-iceberg
    production: true
    documentation: Airflow runs the merge-runner; Iceberg tables on MinIO; Trino serves the views.
    airflow_iceberg:
      airflow: {version: 3, operator: docker, owner: data-platform}
      images: {merge_runner: "registry.acme.internal/datasurface/merge-runner:1.0.0"}
      landing: {container: minio, bucket: landing, prefix: cdc, credential: minio_keys}
      iceberg:
        catalog: {kind: sql, name: lakehouse, container: catalog_db, credential: catalog_rw}
        warehouse: {container: minio, bucket: warehouse, prefix: iceberg, credential: minio_keys}
      kafka_connect: {container: connect, topic_prefix: synthetic}
      trino: {url: "http://trino:8080", catalog: iceberg, credential: trino_svc}
  - name: legacy_etl
    kind: legacy
    production: true
    documentation: The nightly extracts that exist today.
    legacy: {description: Nightly ETL jobs copying tables to the old warehouse., contact: etl-team, schedule: every night}

zones:
`)
	for z := 0; z < g.zones; z++ {
		b.WriteString("  - {name: " + zoneName(z) + ", owner: acme/model-" + zoneName(z) + "@main}\n")
	}
}

func (g *gen) zone(b *bytes.Buffer, z int) {
	b.WriteString("zone: " + zoneName(z) + "\n")
	b.WriteString(`documentation: A synthetic zone.
policies:
  classification:
    - name: known_classes
      documentation: Only declared classifications are consumed here.
      allowed: [public, internal, cpi]
  location:
    - name: onprem_only
      documentation: Data stays in our own data centres.
      allowed: [onprem]
  storage:
    - name: approved_stores
      allowed: [source_db, minio]
  platform:
    - name: approved_platforms
      allowed: [lakehouse, legacy_etl]
teams:
`)
	for r := z; r < g.reps; r += MaxZones {
		b.WriteString("  - {name: " + teamName(r) + ", owner: acme/" + teamName(r) + "@main}\n")
	}
}

// team writes one repetition: team.yaml, its 2 datastores and 4 workspaces.
func (g *gen) team(r int, b *bytes.Buffer, write func(string, []byte) error) error {
	teamDir := "zones/" + zoneName(r%MaxZones) + "/teams/" + teamName(r)
	for _, sub := range []string{"datastores", "workspaces"} {
		if err := os.MkdirAll(filepath.Join(g.dir, filepath.FromSlash(teamDir), sub), 0o755); err != nil {
			return err
		}
	}
	b.Reset()
	b.WriteString("team: " + teamName(r) + "\n")
	b.WriteString(`documentation: A synthetic team.
containers:
  - name: source_db
    location: onprem/dc1/rack_a
    postgres: {host: source-db, port: 5432, database: source}
credentials:
  - {name: source_reader, kind: user_password, documentation: Reads the source tables.}
`)
	if err := write(teamDir+"/team.yaml", b.Bytes()); err != nil {
		return err
	}

	b.Reset()
	snapshotStore(b, r)
	if err := write(teamDir+"/datastores/"+snapName(r)+".yaml", b.Bytes()); err != nil {
		return err
	}
	b.Reset()
	feedStore(b, r)
	if err := write(teamDir+"/datastores/"+feedName(r)+".yaml", b.Bytes()); err != nil {
		return err
	}
	for _, w := range workspaceShapes {
		name := "ws_" + pad(r, 5) + "_" + w.suffix
		b.Reset()
		g.workspace(b, r, name, w)
		if err := write(teamDir+"/workspaces/"+name+".yaml", b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func snapshotStore(b *bytes.Buffer, r int) {
	b.WriteString("datastore: " + snapName(r) + "\n")
	b.WriteString(`documentation: Reference and transaction tables, copied nightly.
production: true
capture:
  kind: sql_snapshot
  container: source_db
  credential: source_reader
  source_schema: sales
  trigger: {cron: "0 2 * * *"}
  consistency: multi_dataset
datasets:
`)
	for i, n := range snapshotColumns {
		dataset(b, r, i, n)
	}
}

func feedStore(b *bytes.Buffer, r int) {
	b.WriteString("datastore: " + feedName(r) + "\n")
	b.WriteString(`documentation: Events captured from the source's write-ahead log.
production: true
capture:
  kind: debezium_cdc
  container: source_db
  credential: source_reader
  trigger: {cron: "*/5 * * * *"}
datasets:
  - name: events
    documentation: One row per business event.
    primary_key: [id]
    columns:
      - {name: id, type: int64}
      - {name: kind, type: varchar(40), nullable: false}
      - {name: occurred_at, type: timestamptz, nullable: false}
      - {name: payload, type: text, classifications: [cpi]}
      - {name: amount, type: "decimal(18,4)"}
`)
}

// dataset writes snapshot dataset i of repetition r with n columns. The
// column types and attributes vary with r, i and the column's index.
func dataset(b *bytes.Buffer, r, i, n int) {
	b.WriteString("  - name: " + datasetName(i) + "\n")
	b.WriteString("    documentation: Table " + strconv.Itoa(i) + " of the source.\n")
	wholeClass := i%4 == 0
	if wholeClass {
		b.WriteString("    classifications: [internal]\n")
	}
	b.WriteString("    primary_key: [id]\n    columns:\n")
	if (r+i)%2 == 0 {
		b.WriteString("      - {name: id, type: int64}\n")
	} else {
		b.WriteString("      - {name: id, type: varchar(36)}\n")
	}
	for j := 1; j < n; j++ {
		k := r*7 + i*3 + j
		b.WriteString("      - {name: ")
		b.WriteString(columnWords[(i+j)%len(columnWords)])
		b.WriteByte('_')
		b.WriteString(strconv.Itoa(j))
		b.WriteString(", type: ")
		b.WriteString(columnType(k))
		if j%3 == 0 {
			b.WriteString(", nullable: false")
		}
		if !wholeClass {
			switch {
			case j%5 == 1:
				b.WriteString(", classifications: [cpi]")
			case j%7 == 2:
				b.WriteString(", classifications: [internal]")
			}
		}
		b.WriteString("}\n")
	}
}

// columnType picks one of the ten types (with its parameters) for k.
func columnType(k int) string {
	switch k % 10 {
	case 0:
		return "int32"
	case 1:
		return "int64"
	case 2:
		return varchars[(k/10)%len(varchars)]
	case 3:
		return decimals[(k/10)%len(decimals)]
	case 4:
		return "date"
	case 5:
		return "timestamp"
	case 6:
		return "timestamptz"
	case 7:
		return "boolean"
	case 8:
		return "float64"
	}
	return "text"
}

var (
	varchars = []string{"varchar(20)", "varchar(50)", "varchar(100)", "varchar(255)"}
	// A decimal's comma would split a flow mapping: quote it.
	decimals = []string{`"decimal(10,2)"`, `"decimal(18,4)"`, `"decimal(38,10)"`}
)

func (g *gen) workspace(b *bytes.Buffer, r int, name string, w workspaceShape) {
	from := r
	if w.next {
		from = (r + 1) % g.reps
	}
	b.WriteString("workspace: " + name + "\n")
	b.WriteString("documentation: A synthetic consumer (" + w.suffix + ").\n")
	b.WriteString("production: true\npriority: " + [...]string{"high", "medium", "critical", "low"}[r%4] + "\n")
	b.WriteString("groups:\n  - name: " + w.group + "\n")
	b.WriteString("    platform: " + w.platform + "\n")
	b.WriteString("    requirements: {history: " + w.history + ", latency: " + w.latency + "}\n")
	b.WriteString("    sinks:\n")
	for _, i := range w.sinks {
		b.WriteString("      - " + snapName(from) + "." + datasetName(i) + "\n")
	}
	if w.feed {
		b.WriteString("      - " + feedName(from) + ".events\n")
	}
}
