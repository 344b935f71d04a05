package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// The reconcile bench times `merge-runner reconcile` of the snapshot
// bench's orders table (in Iceberg) against a legacy copy in PostgreSQL
// that differs in a known fraction of its rows, beside the time of reading
// both tables once in full (a binary COPY of the legacy table, a scan of the
// Iceberg table). A bench folder D holds:
//
//	D/catalog.db, D/warehouse    the Iceberg table (snap-merge)
//	D/job.json                   the job spec reconcile reads
//	D/reconcile-expected.json    what recon-legacy made (ReconCounts)
//	D/reconcile.json             reconcile's JSON report; D/reconcile.stderr its log

// LegacyTable is the legacy copy of orders.
const LegacyTable = "legacy.orders"

// ReconOptions say where the reconcile bench's tables are.
type ReconOptions struct {
	DSN string
	Dir string
	// Fraction of orders' rows that differ in the legacy copy (recon-legacy).
	Fraction float64
	// MergeRunner is the merge-runner binary (recon-run).
	MergeRunner string
}

// Kinds of the legacy copy's differences.
const (
	pickChanged    = iota // values changed in the legacy copy
	pickOnlyNew           // deleted from the legacy copy
	pickOnlyLegacy        // deleted from the source before it is merged into Iceberg
)

// pick is a key of orders the legacy copy differs at.
type pick struct {
	ID   int64
	Kind int
	// Variant is which columns a changed row has changed (changeVariants).
	Variant int
}

// changeVariants are the changes made to changed rows, in turn: each
// changes two columns of different types, and each change alters every
// row (NULLs included) in a way reconcile's exact comparison sees.
var changeVariants = []struct {
	cols []string
	set  string
}{
	{[]string{"name", "price"}, "name = name || ' (legacy)', price = COALESCE(price + 0.01, 1.00)"},
	{[]string{"qty", "active"}, "qty = qty + 1, active = NOT active"},
	{[]string{"updated_at", "born"}, "updated_at = updated_at + interval '1 millisecond', born = COALESCE(born + 1, date '2000-01-01')"},
	{[]string{"score", "note"}, "score = COALESCE(score + 0.5, 0.5), note = CASE WHEN note IS NULL THEN 'legacy note' END"},
}

// reconPlan picks round(rows × fraction) keys of 0..rows-1 (at least one),
// one every rows/n keys, so they spread over the whole key space; of every
// five, three are changed (the variants in turn), one is only in the new
// table and one only in the legacy one.
func reconPlan(rows int64, fraction float64) ([]pick, error) {
	if rows <= 0 {
		return nil, fmt.Errorf("the table has %d rows: prepare it first (snap-prepare --rows N)", rows)
	}
	if !(fraction > 0 && fraction <= 1) {
		return nil, fmt.Errorf("--fraction %v: use a fraction of the rows in (0, 1]", fraction)
	}
	n := max(int64(math.Round(float64(rows)*fraction)), 1)
	stride := rows / n
	picks := make([]pick, n)
	changed := 0
	for j := range n {
		p := pick{ID: j*stride + stride/2}
		switch j % 5 {
		case 3:
			p.Kind = pickOnlyNew
		case 4:
			p.Kind = pickOnlyLegacy
		default:
			p.Kind, p.Variant = pickChanged, changed%len(changeVariants)
			changed++
		}
		picks[j] = p
	}
	return picks, nil
}

// ReconCounts are the counts of a reconcile report: what recon-legacy
// made, and what reconcile found.
type ReconCounts struct {
	LegacyRows int64            `json:"legacy_rows"`
	NewRows    int64            `json:"new_rows"`
	Matching   int64            `json:"matching_rows"`
	OnlyLegacy int64            `json:"only_legacy"`
	OnlyNew    int64            `json:"only_new"`
	Changed    int64            `json:"changed"`
	ByColumn   map[string]int64 `json:"changed_by_column"`
}

// planCounts are the counts the plan makes of a rows-row table.
func planCounts(rows int64, picks []pick) ReconCounts {
	c := ReconCounts{ByColumn: map[string]int64{}}
	for _, p := range picks {
		switch p.Kind {
		case pickChanged:
			c.Changed++
			for _, col := range changeVariants[p.Variant].cols {
				c.ByColumn[col]++
			}
		case pickOnlyNew:
			c.OnlyNew++
		case pickOnlyLegacy:
			c.OnlyLegacy++
		}
	}
	c.LegacyRows = rows - c.OnlyNew
	c.NewRows = rows - c.OnlyLegacy
	c.Matching = rows - c.OnlyNew - c.OnlyLegacy - c.Changed
	return c
}

// mismatches lists the counts of got that differ from want.
func (want ReconCounts) mismatches(got ReconCounts) []string {
	var out []string
	for _, f := range []struct {
		name      string
		want, got int64
	}{
		{"legacy_rows", want.LegacyRows, got.LegacyRows}, {"new_rows", want.NewRows, got.NewRows},
		{"matching_rows", want.Matching, got.Matching}, {"only_legacy", want.OnlyLegacy, got.OnlyLegacy},
		{"only_new", want.OnlyNew, got.OnlyNew}, {"changed", want.Changed, got.Changed},
	} {
		if f.want != f.got {
			out = append(out, fmt.Sprintf("%s %d, want %d", f.name, f.got, f.want))
		}
	}
	cols := map[string]bool{}
	for c := range want.ByColumn {
		cols[c] = true
	}
	for c := range got.ByColumn {
		cols[c] = true
	}
	for _, c := range slices.Sorted(maps.Keys(cols)) {
		if want.ByColumn[c] != got.ByColumn[c] {
			out = append(out, fmt.Sprintf("changed_by_column[%s] %d, want %d", c, got.ByColumn[c], want.ByColumn[c]))
		}
	}
	return out
}

func (c ReconCounts) String() string {
	return fmt.Sprintf("only_legacy=%d only_new=%d changed=%d matching=%d legacy_rows=%d new_rows=%d", c.OnlyLegacy, c.OnlyNew, c.Changed, c.Matching, c.LegacyRows, c.NewRows)
}

// ReconLegacy makes legacy.orders, a copy of orders (snap-prepare's) that
// differs in o.Fraction of its rows, and writes D/job.json and
// D/reconcile-expected.json. The keys only in the legacy copy are deleted
// from orders itself, so they lie among the others (the keys are 0..N-1
// with no gaps): run snap-merge after this step. The counts it prints and
// records are the database's (a full join of the two tables), checked
// against the plan.
func ReconLegacy(ctx context.Context, w io.Writer, o ReconOptions) error {
	conn, err := pgx.Connect(ctx, o.DSN)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	started := time.Now()
	var rows int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&rows); err != nil {
		return fmt.Errorf("counting orders: %w (run snap-prepare first)", err)
	}
	picks, err := reconPlan(rows, o.Fraction)
	if err != nil {
		return err
	}
	for _, q := range []string{
		"CREATE SCHEMA IF NOT EXISTS legacy",
		"DROP TABLE IF EXISTS " + LegacyTable,
		// The key's index is made after the rows: faster than filling an index.
		"CREATE TABLE " + LegacyTable + " (LIKE orders INCLUDING ALL EXCLUDING INDEXES)",
		"INSERT INTO " + LegacyTable + " SELECT * FROM orders",
		"ALTER TABLE " + LegacyTable + " ADD PRIMARY KEY (id)",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
	}
	ids := func(kind, variant int) []int64 {
		var out []int64
		for _, p := range picks {
			if p.Kind == kind && (kind != pickChanged || p.Variant == variant) {
				out = append(out, p.ID)
			}
		}
		return out
	}
	type change struct {
		q   string
		ids []int64
	}
	var changes []change
	for v, cv := range changeVariants {
		changes = append(changes, change{"UPDATE " + LegacyTable + " SET " + cv.set + " WHERE id = ANY($1)", ids(pickChanged, v)})
	}
	changes = append(changes,
		change{"DELETE FROM " + LegacyTable + " WHERE id = ANY($1)", ids(pickOnlyNew, 0)},
		change{"DELETE FROM orders WHERE id = ANY($1)", ids(pickOnlyLegacy, 0)})
	for _, c := range changes {
		if len(c.ids) == 0 {
			continue
		}
		tag, err := conn.Exec(ctx, c.q, c.ids)
		if err != nil {
			return fmt.Errorf("%s: %w", c.q, err)
		}
		if tag.RowsAffected() != int64(len(c.ids)) {
			return fmt.Errorf("%s touched %d rows of %d keys: orders is not snap-prepare's table of keys 0..%d", c.q, tag.RowsAffected(), len(c.ids), rows-1)
		}
	}
	for _, q := range []string{"VACUUM ANALYZE " + LegacyTable, "VACUUM ANALYZE orders"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	made, err := diffCounts(ctx, conn)
	if err != nil {
		return err
	}
	if bad := planCounts(rows, picks).mismatches(made); len(bad) > 0 {
		return fmt.Errorf("the legacy copy differs from orders otherwise than planned: %s", strings.Join(bad, "; "))
	}
	if err := writeReconSpec(o.Dir); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(o.Dir, "reconcile-expected.json"), made); err != nil {
		return err
	}
	n := made.OnlyLegacy + made.OnlyNew + made.Changed
	return finish(w, &Result{Step: "recon-legacy", Rows: rows, Events: n, RowsWritten: made.LegacyRows, Note: made.String()}, time.Since(started))
}

// diffCounts counts, by a full join on the key, how legacy.orders differs
// from orders, the table snap-merge copies into Iceberg.
func diffCounts(ctx context.Context, conn *pgx.Conn) (ReconCounts, error) {
	cols := strings.Split(strings.ReplaceAll(pgColumns, " ", ""), ",")[1:]
	var sel []string
	for _, c := range cols {
		sel = append(sel, fmt.Sprintf("count(*) FILTER (WHERE l.id = o.id AND l.%[1]s IS DISTINCT FROM o.%[1]s)", c))
	}
	q := `SELECT count(l.id), count(o.id), count(*) FILTER (WHERE l.id = o.id AND ROW(l.*) IS NOT DISTINCT FROM ROW(o.*)),
	count(*) FILTER (WHERE o.id IS NULL), count(*) FILTER (WHERE l.id IS NULL),
	count(*) FILTER (WHERE l.id = o.id AND ROW(l.*) IS DISTINCT FROM ROW(o.*)), ` + strings.Join(sel, ", ") + `
FROM ` + LegacyTable + ` l FULL JOIN orders o ON l.id = o.id`
	var c ReconCounts
	byCol := make([]int64, len(cols))
	dst := []any{&c.LegacyRows, &c.NewRows, &c.Matching, &c.OnlyLegacy, &c.OnlyNew, &c.Changed}
	for i := range byCol {
		dst = append(dst, &byCol[i])
	}
	if err := conn.QueryRow(ctx, q).Scan(dst...); err != nil {
		return c, fmt.Errorf("comparing %s with orders: %w", LegacyTable, err)
	}
	c.ByColumn = map[string]int64{}
	for i, col := range cols {
		if byCol[i] > 0 {
			c.ByColumn[col] = byCol[i]
		}
	}
	return c, nil
}

// reconSpec is the snapshot bench's job spec for a reconcile of D's table:
// the catalog named as openCatalog names it (the SQL catalog keys its
// tables by catalog name).
func reconSpec(dir string) *jobspec.Spec {
	s := SnapSpec(SnapOptions{Dir: dir, Tables: 1})
	s.Target.Catalog = "lake"
	return s
}

func writeReconSpec(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	b, err := jobspec.Marshal(reconSpec(abs))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "job.json"), b, 0o644)
}

// ReconCopy times a binary COPY of legacy.orders in key order into
// nothing: reading the legacy table once, as reconcile reads it.
func ReconCopy(ctx context.Context, w io.Writer, o ReconOptions) error {
	conn, err := pgx.Connect(ctx, o.DSN)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	started := time.Now()
	tag, err := conn.PgConn().CopyTo(ctx, io.Discard, "COPY (SELECT "+pgColumns+" FROM "+LegacyTable+" ORDER BY id) TO STDOUT (FORMAT binary)")
	if err != nil {
		return fmt.Errorf("COPY of %s: %w (run recon-legacy first)", LegacyTable, err)
	}
	return finish(w, &Result{Step: "recon-copy", Rows: tag.RowsAffected(), Events: tag.RowsAffected()}, time.Since(started))
}

// IcebergScan times a scan of every row and column of D's orders table
// through iceberg-go, as reconcile reads it (target.ScanAt of the current
// snapshot), counting the rows. The time includes opening the catalog.
func IcebergScan(ctx context.Context, w io.Writer, dir string) error {
	started := time.Now()
	cat, err := openCatalog(ctx, dir)
	if err != nil {
		return err
	}
	defer func() { _ = target.CloseCatalog(cat) }()
	tbl, err := cat.LoadTable(ctx, table.Identifier{Namespace, TableName})
	if err != nil {
		return fmt.Errorf("table %s.%s in %s: %w (run snap-merge first)", Namespace, TableName, dir, err)
	}
	t := Table()
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = c.Name
	}
	var n int64
	err = target.ScanAt(ctx, tbl, 0, cols, func(r []row.Value) error {
		n++
		return nil
	})
	if err != nil {
		return err
	}
	return finish(w, &Result{Step: "iceberg-scan", Rows: n, Events: n}, time.Since(started))
}

// ReconRun runs `merge-runner reconcile --format json` of D's table against
// legacy.orders as its own process, times it from start to exit and reads
// its peak RSS and CPU time from the rusage wait4 returns. It checks the
// report's counts against what recon-legacy made and fails, after printing
// its line, when they differ.
func ReconRun(ctx context.Context, w io.Writer, o ReconOptions) error {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	var want ReconCounts
	if err := readJSON(filepath.Join(dir, "reconcile-expected.json"), &want); err != nil {
		return fmt.Errorf("%w (run recon-legacy first)", err)
	}
	if o.MergeRunner == "" {
		return errors.New("recon-run needs --merge-runner BIN (go build -o BIN ./merge-runner)")
	}
	reportPath, logPath := filepath.Join(dir, "reconcile.json"), filepath.Join(dir, "reconcile.stderr")
	stdout, err := os.Create(reportPath)
	if err != nil {
		return err
	}
	defer stdout.Close()
	stderr, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer stderr.Close()
	cmd := exec.CommandContext(ctx, o.MergeRunner, "reconcile", "--job", filepath.Join(dir, "job.json"),
		"--state", filepath.Join(dir, "state"), "--table", TableName, "--legacy-table", LegacyTable, "--format", "json")
	cmd.Env = append(os.Environ(), reconEnv(dir, o.DSN)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	started := time.Now()
	runErr := cmd.Run()
	elapsed := time.Since(started)
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return fmt.Errorf("running %s: %w", o.MergeRunner, runErr)
	}
	code := cmd.ProcessState.ExitCode()
	// Exit 1: the tables differ, as they were made to (merge-runner reconcile --help).
	if code != 1 {
		return fmt.Errorf("merge-runner reconcile exited %d, want 1 (the tables differ); its log %s ends: %s", code, logPath, tail(logPath, 2000))
	}
	b, err := os.ReadFile(reportPath)
	if err != nil {
		return err
	}
	var got ReconCounts
	if err := json.Unmarshal(b, &got); err != nil {
		return fmt.Errorf("reconcile's report %s is not JSON: %w", reportPath, err)
	}
	r := &Result{Step: "recon-run", Rows: got.LegacyRows, Events: got.OnlyLegacy + got.OnlyNew + got.Changed,
		Note: fmt.Sprintf("exit=%d %s", code, got)}
	if err := finishChild(w, r, elapsed, cmd.ProcessState); err != nil {
		return err
	}
	if bad := want.mismatches(got); len(bad) > 0 {
		return fmt.Errorf("reconcile's report %s does not match what recon-legacy made (%s): %s", reportPath, want, strings.Join(bad, "; "))
	}
	return nil
}

// reconEnv is the environment reconcile reads the legacy database and the
// catalog from (merge-runner's reconcile.go and config.go); the _USER and
// _PASSWORD variables are cleared so the DSN's user is the one used.
func reconEnv(dir, dsn string) []string {
	return []string{
		"DATASURFACE_LEGACY_URI=" + dsn, "DATASURFACE_LEGACY_USER=", "DATASURFACE_LEGACY_PASSWORD=",
		"DATASURFACE_SOURCE_USER=", "DATASURFACE_SOURCE_PASSWORD=",
		"DATASURFACE_CATALOG_URI=sqlite:" + filepath.Join(dir, "catalog.db"), "DATASURFACE_CATALOG_USER=", "DATASURFACE_CATALOG_PASSWORD=",
		"DATASURFACE_WAREHOUSE=" + filepath.Join(dir, "warehouse"),
	}
}

// finishChild is finish with the figures of a child process: its peak RSS
// and CPU time, not this process's.
func finishChild(w io.Writer, r *Result, elapsed time.Duration, ps *os.ProcessState) error {
	r.Seconds = round(elapsed.Seconds(), 3)
	if r.Seconds > 0 && r.Events > 0 {
		r.EventsPerS = round(float64(r.Events)/elapsed.Seconds(), 0)
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		// ru_maxrss is in KiB on Linux (getrusage(2)).
		r.PeakRSSMiB = round(float64(ru.Maxrss)/1024, 1)
		r.CPUSeconds = round(tv(ru.Utime)+tv(ru.Stime), 2)
	}
	r.Load1 = load1()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// tail is the last n bytes of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// ReconSummary is the reconcile bench's last line: reconcile against
// reading both tables once in full.
type ReconSummary struct {
	Step             string  `json:"step"`
	Rows             int64   `json:"rows"`
	ReconcileSeconds float64 `json:"reconcile_seconds"`
	ReconcileRSSMiB  float64 `json:"reconcile_peak_rss_mib"`
	ReconcileCPU     float64 `json:"reconcile_cpu_seconds"`
	CopySeconds      float64 `json:"baseline_copy_seconds"`
	ScanSeconds      float64 `json:"baseline_scan_seconds"`
	BaselineSeconds  float64 `json:"baseline_seconds"`
	Ratio            float64 `json:"ratio"`
	// The goals of the reconcile: faster than the baseline, under 1 GiB.
	Faster   bool `json:"faster_than_baseline"`
	Under1GB bool `json:"under_1gb"`
}

// Summarize reads the steps' JSON lines and writes the summary line: the
// last recon-run, recon-copy and iceberg-scan lines.
func Summarize(r io.Reader, w io.Writer) error {
	last := map[string]Result{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var res Result
		if err := json.Unmarshal(line, &res); err != nil {
			return fmt.Errorf("a step's line is not JSON: %w: %s", err, line)
		}
		last[res.Step] = res
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, s := range []string{"recon-run", "recon-copy", "iceberg-scan"} {
		if _, ok := last[s]; !ok {
			return fmt.Errorf("no %s line among the steps' lines: run the steps of scripts/bench-reconcile.sh first", s)
		}
	}
	rec, cp, scan := last["recon-run"], last["recon-copy"], last["iceberg-scan"]
	s := ReconSummary{
		Step: "summary", Rows: cp.Rows, ReconcileSeconds: rec.Seconds, ReconcileRSSMiB: rec.PeakRSSMiB, ReconcileCPU: rec.CPUSeconds,
		CopySeconds: cp.Seconds, ScanSeconds: scan.Seconds, BaselineSeconds: round(cp.Seconds+scan.Seconds, 3),
		Under1GB: rec.PeakRSSMiB < 1024,
	}
	if s.BaselineSeconds > 0 {
		s.Ratio = round(s.ReconcileSeconds/s.BaselineSeconds, 3)
		s.Faster = s.ReconcileSeconds < s.BaselineSeconds
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
