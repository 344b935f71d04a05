package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

const (
	enterpriseLakehouse = "../golden/enterprise/platforms/lakehouse"
	enterpriseInputJob  = enterpriseLakehouse + "/jobs/customer_db.json"
	enterpriseOutputJob = enterpriseLakehouse + "/jobs/masked_customers.json"
	enterpriseMaskDAG   = enterpriseLakehouse + "/dags/lakehouse__masked_customers.py"
)

// enterpriseMaskArgs is the transform task's command in
// golden/enterprise/platforms/lakehouse/dags/lakehouse__masked_customers.py,
// its image's entry point first; the test fails when the DAG's differs.
var enterpriseMaskArgs = []string{"/mask-customers", "--name", "full_name", "--rename", "full_name=initials", "--drop", "birth_date,home_address,preferences"}

// dagCommand is the command list of the DAG's task that runs entry, as the
// generator writes it: command=["entry", "arg", ...], a Python list of
// double-quoted strings, which is JSON.
func dagCommand(t *testing.T, path, entry string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, m := range regexp.MustCompile(`(?m)^\s*command=(\[.*\]),\s*$`).FindAllStringSubmatch(string(b), -1) {
		var cmd []string
		require.NoError(t, json.Unmarshal([]byte(m[1]), &cmd), "%s: command %s", path, m[1])
		if len(cmd) > 0 && cmd[0] == entry {
			return cmd
		}
	}
	t.Fatalf("%s: no task runs %s", path, entry)
	return nil
}

// readGoldenSpec reads a golden job spec and points it at the test's
// embedded catalog and warehouse (under --state), keeping its catalog name.
func readGoldenSpec(t *testing.T, path string) *jobspec.Spec {
	t.Helper()
	spec, err := jobspec.Read(path)
	require.NoError(t, err)
	spec.Target.Warehouse = ""
	return spec
}

// exampleInitials is a name's initials as cmd/mask-customers' package doc
// defines them: each word's first letter, upper-cased, and a dot.
func exampleInitials(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteByte('.')
	}
	return b.String()
}

// exampleEmail is an address masked as the package doc defines it: the first
// 16 hex digits of SHA-256(MASK_SALT + local part) @ domain.
func exampleEmail(salt, email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok {
		panic("test address without @: " + email)
	}
	h := sha256.Sum256([]byte(salt + local))
	return hex.EncodeToString(h[:])[:16] + "@" + domain
}

// TestTransformerEnterpriseExample runs examples/enterprise's transformer as
// its golden DAG does: customers land from Debezium as the golden input job
// spec has them (struct and map columns included), the transform task runs
// mask-customers with the DAG's arguments, and the merge writes the golden
// output job spec's table, whose columns are not the input's: full_name is
// renamed initials and three columns are dropped.
func TestTransformerEnterpriseExample(t *testing.T) {
	// The transform runs the DAG's arguments exactly; its program, the
	// image's /mask-customers, is the one built from ./cmd/mask-customers.
	args := dagCommand(t, enterpriseMaskDAG, "/mask-customers")
	require.Equal(t, enterpriseMaskArgs, args, "%s changed the transformer's command: update the test", enterpriseMaskDAG)

	dir := t.TempDir()
	f := &trFixture{dir: dir, state: filepath.Join(dir, "state"), events: filepath.Join(dir, "events"), runs: filepath.Join(dir, "runs"),
		inJob: filepath.Join(dir, "customer_db.json"), outJob: filepath.Join(dir, "masked_customers.json")}

	in := readGoldenSpec(t, enterpriseInputJob)
	// Only customers: the transformer reads nothing else.
	in.Tables = slices.DeleteFunc(in.Tables, func(tb jobspec.Table) bool { return tb.Dataset != "customers" })
	require.NotEmpty(t, in.Tables)
	writeSpec(t, f.inJob, in)
	out := readGoldenSpec(t, enterpriseOutputJob)
	require.NotNil(t, out.Source.Transformer)
	out.Source.Transformer.Output = f.runs
	writeSpec(t, f.outJob, out)
	outJSON, err := os.ReadFile(f.outJob)
	require.NoError(t, err)
	require.Len(t, out.Tables, 1)
	outTable := out.Tables[0]
	require.Equal(t, jobspec.ModeForensic, outTable.Mode)

	var customers *jobspec.Table
	for i := range in.Tables {
		if in.Tables[i].Mode == jobspec.ModeLive {
			customers = &in.Tables[i]
		}
	}
	require.NotNil(t, customers)
	colNames := func(cols []jobspec.Column) []string {
		var names []string
		for _, c := range cols {
			names = append(names, c.Name)
		}
		return names
	}
	// The row literals below follow this column order.
	require.Equal(t, []string{"customer_id", "loyalty_number", "full_name", "email", "birth_date", "home_address", "preferences", "created_at", "updated_at"},
		colNames(customers.Columns))

	enc, err := encode.NewEncoder(customers, in.Source.Debezium.Encoding, encode.Meta{Database: "customer_db"})
	require.NoError(t, err)
	lander, err := encode.NewLander(f.events, customers.Topic, encode.LandOptions{Prefix: in.Source.Debezium.Prefix})
	require.NoError(t, err)

	type customer struct {
		id                   [16]byte
		loyalty, name, email string // "" is NULL
		created, updated     time.Time
		address, preferences row.Value
		birthDays            int32
	}
	opt := func(s string) row.Value {
		if s == "" {
			return row.Null()
		}
		return row.String(s)
	}
	image := func(c customer) []row.Value {
		birth := row.Null()
		if c.birthDays != 0 {
			birth = row.Date(c.birthDays)
		}
		return []row.Value{row.UUID(c.id), opt(c.loyalty), row.String(c.name), opt(c.email), birth, c.address, c.preferences,
			row.TimestampTZ(c.created.UnixMicro()), row.TimestampTZ(c.updated.UnixMicro())}
	}
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	lsn := int64(0x1A2B3C00)
	emit := func(line []byte, err error) {
		t.Helper()
		require.NoError(t, err)
		_, err = lander.Add(0, line)
		require.NoError(t, err)
	}
	// Each event its own transaction, committed in order.
	next := func(ts time.Time) {
		enc.SetSource(encode.Source{TsMs: ts.UnixMilli(), LSN: lsn + 0x100, TxID: lsn/0x100 + 1, LastCommitLSN: lsn})
		lsn += 0x100
	}
	address := func(line1, line2, city, postcode, country string) row.Value {
		return row.Struct([]row.Value{row.String(line1), opt(line2), row.String(city), opt(postcode), row.String(country)})
	}
	prefs := func(kv ...any) row.Value {
		var es []row.MapEntry
		for i := 0; i < len(kv); i += 2 {
			es = append(es, row.MapEntry{Key: row.String(kv[i].(string)), Value: row.Bool(kv[i+1].(bool))})
		}
		return row.Map(es)
	}
	ada := customer{id: [16]byte{0x0a, 0xda, 15: 1}, loyalty: "LN-0001", name: "Ada King Lovelace", email: "ada@example.com",
		birthDays: -56000, address: address("12 St James's Square", "", "London", "SW1Y 4JH", "GB"),
		preferences: prefs("newsletter", true, "sms", false), created: t0, updated: t0}
	emilie := customer{id: [16]byte{0xe3, 15: 2}, name: "émilie du Châtelet", email: "emilie.chatelet@cirey.fr",
		address: row.Null(), preferences: row.Null(), created: t0.Add(time.Minute), updated: t0.Add(time.Minute)}
	grace := customer{id: [16]byte{0x6c, 15: 3}, loyalty: "LN-0003", name: "Grace Brewster Murray Hopper",
		birthDays: -23000, address: address("1 Navy Yard", "Building 7", "Arlington", "", "US"), preferences: prefs(),
		created: t0.Add(2 * time.Minute), updated: t0.Add(2 * time.Minute)}
	alan := customer{id: [16]byte{0xa1, 15: 4}, name: "Alan Turing", email: "alan@bletchley.org",
		address: row.Null(), preferences: prefs("newsletter", false), created: t0.Add(3 * time.Minute), updated: t0.Add(3 * time.Minute)}
	for _, c := range []customer{ada, emilie, grace, alan} {
		next(c.created)
		emit(enc.Create(image(c)))
	}
	// Ada changes her address and e-mail; Alan leaves.
	adaBefore := ada
	ada.email, ada.updated = "countess@lovelace.org.uk", t0.Add(time.Hour)
	ada.address = address("Ockham Park", "", "Ockham", "GU23 6NQ", "GB")
	next(ada.updated)
	emit(enc.Update(image(adaBefore), image(ada)))
	next(t0.Add(2 * time.Hour))
	emit(enc.Delete(enc.KeyRow([]row.Value{row.UUID(alan.id)})))
	require.NoError(t, lander.Close())

	code, stdout, stderr := f.mr(t, "run", "--job", f.inJob, "--events", f.events)
	require.Equal(t, 0, code, "%s\n%s", stdout, stderr)

	const runID = "manual__2026-11-30T11:00:00+00:00"
	assert.Equal(t, true, f.inputs(t, runID)["pinned"])

	// The transform task, with the DAG's arguments and the environment it
	// sets (DATASURFACE_JOB_SPEC names the catalog), on the embedded catalog.
	const salt = "enterprise-salt"
	cmd := exec.Command(maskCustomers(t), args[1:]...)
	cmd.Env = append(os.Environ(),
		"DATASURFACE_RUN_ID="+runID, "DATASURFACE_RUN_DIR="+filepath.Join(f.runs, runID),
		"DATASURFACE_JOB_SPEC="+string(outJSON), "DATASURFACE_CATALOG_NAME=",
		"DATASURFACE_CATALOG_URI=sqlite:"+filepath.Join(f.state, "catalog.db"),
		"DATASURFACE_WAREHOUSE="+filepath.Join(f.state, "warehouse"), "MASK_SALT="+salt)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "mask-customers %s: %s", strings.Join(args[1:], " "), b)

	code, stdout, stderr = f.mr(t, "run", "--job", f.outJob, "--run", runID)
	require.Equal(t, 0, code, "%s\n%s", stdout, stderr)
	stats := tableStats(t, lastLine(t, stdout), out.Target.Namespace+"."+outTable.Name)
	assert.Equal(t, 3.0, stats["rows_inserted"])

	// The output table has the output dataset's columns, none of the dropped.
	cat, err := target.OpenCatalog(context.Background(), target.CatalogConfig{Name: out.Target.Catalog,
		URI: "sqlite:" + filepath.Join(f.state, "catalog.db"), Warehouse: filepath.Join(f.state, "warehouse")})
	require.NoError(t, err)
	defer func() { _ = target.CloseCatalog(cat) }()
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{out.Target.Namespace, outTable.Name})
	require.NoError(t, err)
	var fields []string
	for _, fl := range tbl.Schema().Fields() {
		fields = append(fields, fl.Name)
	}
	assert.Equal(t, append([]string{"customer_id", "loyalty_number", "initials", "email", "created_at", "updated_at"}, jobspec.HistoryColumns...), fields)

	cols := append(colNames(outTable.Columns), jobspec.ColValidTo)
	var got [][]row.Value
	require.NoError(t, target.ScanAt(context.Background(), tbl, tbl.CurrentSnapshot().SnapshotID, cols, func(r []row.Value) error {
		got = append(got, slices.Clone(r))
		return nil
	}))
	slices.SortFunc(got, func(a, b []row.Value) int { return row.Compare(a[0], b[0]) })
	want := func(c customer, email row.Value) []row.Value {
		return []row.Value{row.UUID(c.id), opt(c.loyalty), row.String(exampleInitials(c.name)), email,
			row.TimestampTZ(c.created.UnixMicro()), row.TimestampTZ(c.updated.UnixMicro()), row.Null()}
	}
	// Sorted by customer_id: ada 0a.., grace 6c.., emilie e3...
	expected := [][]row.Value{
		want(ada, row.String(exampleEmail(salt, "countess@lovelace.org.uk"))),
		want(grace, row.Null()),
		want(emilie, row.String(exampleEmail(salt, "emilie.chatelet@cirey.fr"))),
	}
	// Spelled out once, so a slip in the helpers shows.
	assert.Equal(t, "A.K.L.", exampleInitials(ada.name))
	assert.Equal(t, "É.D.C.", exampleInitials(emilie.name))
	assert.Equal(t, "G.B.M.H.", exampleInitials(grace.name))
	require.Len(t, got, len(expected), "%v", got)
	for i := range expected {
		require.Len(t, got[i], len(cols))
		for j := range cols {
			assert.True(t, row.Equal(expected[i][j], got[i][j]), "row %d column %s: want %v, got %v", i, cols[j], expected[i][j], got[i][j])
		}
	}
}
