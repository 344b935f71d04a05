// Command mask-customers is a transformer (docs/transformers.md): it reads
// the input tables its run pinned and writes them, with the customer data
// masked, as the output datasets' Parquet files and the run's manifest.
//
// Usage (the image's command; the DAG sets the environment):
//
//	/mask-customers [--map INPUT=OUTPUT]... [--email COLS] [--name COLS] [--hash COLS]
//	                [--rename OLD=NEW]... [--drop COLS] [--catalog NAME]
//
// What it reads and where it writes come from the environment the DAG sets:
// DATASURFACE_RUN_ID and DATASURFACE_RUN_DIR (the run's folder:
// s3://bucket/prefix/<run> or a local folder) and a read-only catalog login,
// DATASURFACE_CATALOG_URI, DATASURFACE_CATALOG_USER,
// DATASURFACE_CATALOG_PASSWORD, DATASURFACE_WAREHOUSE and DATASURFACE_S3_*
// (_ENDPOINT, _REGION, _USER, _PASSWORD) for the warehouse's files. The run
// folder, when in S3, is written with DATASURFACE_LANDING_S3_*, each falling
// back to DATASURFACE_S3_*. --catalog is the catalog's name, which a SQL
// catalog keys its tables by: default $DATASURFACE_CATALOG_NAME, else
// target.catalog of the job spec in $DATASURFACE_JOB_SPEC, else "lake".
//
// For each input of <run dir>/_inputs.json it scans the table at the pinned
// snapshot and writes <run dir>/<OUTPUT>/part-<n>.parquet with the table's
// columns, where OUTPUT is the --map entry for the input's dataset
// (<store>.<dataset>) or, without one, the dataset's name after the store.
// Masking, by column name:
//
//   - --email (default "email"): the local part becomes the first 16 hex
//     digits of SHA-256(salt + local part), the domain stays:
//     ada@example.com -> 3c5e...@example.com. The same address always masks
//     alike, so masked rows still join and group.
//   - --name (default "name,first_name,last_name,full_name"): initials, each
//     word's first letter and a dot: "Ada King Lovelace" -> "A.K.L.".
//   - --hash (default "phone"): the first 16 hex digits of SHA-256(salt + value).
//
// The salt is a secret: $MASK_SALT, else the variable --salt-env names
// (default DATASURFACE_CREDENTIAL_MASK_SALT_PASSWORD, the password of the
// transformer's credential mask_salt as the DAG passes it); without one it
// refuses to run unless --unsalted.
//
// Other columns, keys among them, are copied. --rename writes a (masked)
// column under another name and --drop leaves columns out, so that the
// files have exactly the output dataset's columns; examples/enterprise's
// transformer runs
//
//	/mask-customers --name full_name --rename full_name=initials --drop birth_date,home_address,preferences
//
// Nulls stay null. It writes
// _manifest.json last; any failure exits 1 before it, so the merge refuses
// the run.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
	"github.com/datasurface/datasurface/merge-runner/internal/transformout"
)

// rowsPerFile bounds a Parquet file (and what is held to write it).
const rowsPerFile = 100_000

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mask-customers:", err)
		os.Exit(1)
	}
}

// config is what a run is told.
type config struct {
	runID, runDir string
	catalog       target.CatalogConfig
	out           target.S3
	maps          map[string]string
	masks         map[string]func(string) string
	rename        map[string]string
	drop          map[string]bool
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parse(args []string, env func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("mask-customers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var maps listFlag
	fs.Var(&maps, "map", "INPUT=OUTPUT: write input dataset INPUT (<store>.<dataset>) as output dataset OUTPUT (repeatable)")
	email := fs.String("email", "email", "comma-separated columns holding e-mail addresses")
	name := fs.String("name", "name,first_name,last_name,full_name", "comma-separated columns holding personal names")
	hash := fs.String("hash", "phone", "comma-separated columns replaced by a stable hash")
	var renames listFlag
	fs.Var(&renames, "rename", "OLD=NEW: write input column OLD (masked) as output column NEW (repeatable)")
	drop := fs.String("drop", "", "comma-separated input columns the output datasets do not have")
	saltEnv := fs.String("salt-env", "DATASURFACE_CREDENTIAL_MASK_SALT_PASSWORD", "the variable holding the hashes' salt (the transformer's credential mask_salt, by reference); MASK_SALT overrides it")
	unsalted := fs.Bool("unsalted", false, "hash without a salt (anyone can then test a guessed value against a hash: tests only)")
	specCatalog := ""
	if js := env("DATASURFACE_JOB_SPEC"); js != "" {
		if spec, err := jobspec.Parse([]byte(js)); err == nil {
			specCatalog = spec.Target.Catalog
		}
	}
	cat := fs.String("catalog", first(env("DATASURFACE_CATALOG_NAME"), specCatalog, "lake"), "the catalog's name")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c := &config{runID: env("DATASURFACE_RUN_ID"), runDir: env("DATASURFACE_RUN_DIR"), maps: map[string]string{}, masks: map[string]func(string) string{}}
	if c.runID == "" || c.runDir == "" {
		return nil, fmt.Errorf("set DATASURFACE_RUN_ID and DATASURFACE_RUN_DIR (the DAG's transform task does)")
	}
	if env("DATASURFACE_CATALOG_URI") == "" {
		return nil, fmt.Errorf("set DATASURFACE_CATALOG_URI to the catalog the inputs are in (the DAG sets a read-only login)")
	}
	s3 := func(p string) target.S3 {
		return target.S3{Endpoint: env(p + "_ENDPOINT"), Region: env(p + "_REGION"), AccessKeyID: env(p + "_USER"), SecretAccessKey: env(p + "_PASSWORD")}
	}
	w, o := s3("DATASURFACE_S3"), s3("DATASURFACE_LANDING_S3")
	c.catalog = target.CatalogConfig{Name: *cat, URI: env("DATASURFACE_CATALOG_URI"), User: env("DATASURFACE_CATALOG_USER"),
		Password: env("DATASURFACE_CATALOG_PASSWORD"), Warehouse: env("DATASURFACE_WAREHOUSE"), S3: w}
	c.out = target.S3{Endpoint: first(o.Endpoint, w.Endpoint), Region: first(o.Region, w.Region),
		AccessKeyID: first(o.AccessKeyID, w.AccessKeyID), SecretAccessKey: first(o.SecretAccessKey, w.SecretAccessKey)}
	for _, m := range maps {
		in, out, ok := strings.Cut(m, "=")
		if !ok || in == "" || out == "" {
			return nil, fmt.Errorf("--map %q: use INPUT=OUTPUT, e.g. customer_db.customers=masked_customers", m)
		}
		c.maps[in] = out
	}
	c.rename, c.drop = map[string]string{}, map[string]bool{}
	for _, r := range renames {
		old, nw, ok := strings.Cut(r, "=")
		if !ok || old == "" || nw == "" {
			return nil, fmt.Errorf("--rename %q: use OLD=NEW, e.g. full_name=initials", r)
		}
		c.rename[old] = nw
	}
	for _, d := range strings.Split(*drop, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.drop[d] = true
		}
	}
	// Unsalted hashes of e-mail local parts and phone numbers are reversed
	// by trying likely values, so a salt is required unless asked otherwise.
	salt := first(env("MASK_SALT"), env(*saltEnv))
	if salt == "" && !*unsalted {
		return nil, fmt.Errorf("no salt for the hashes: give the transformer a credential mask_salt (its password is the salt, in %s) or set MASK_SALT; --unsalted hashes without one", *saltEnv)
	}
	for _, m := range []struct {
		cols string
		fn   func(string) string
	}{{*email, func(s string) string { return maskEmail(salt, s) }}, {*name, initials}, {*hash, func(s string) string { return digest(salt, s) }}} {
		for _, col := range strings.Split(m.cols, ",") {
			if col = strings.TrimSpace(col); col != "" {
				c.masks[col] = m.fn
			}
		}
	}
	return c, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// digest is the first 16 hex digits of SHA-256(salt + s).
func digest(salt, s string) string {
	h := sha256.Sum256([]byte(salt + s))
	return hex.EncodeToString(h[:8])
}

// maskEmail keeps the domain and hashes the local part.
func maskEmail(salt, s string) string {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return digest(salt, s)
	}
	return digest(salt, s[:i]) + s[i:]
}

// initials is each word's first letter, upper-cased, with a dot.
func initials(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '-' }) {
		r, _ := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteByte('.')
	}
	return b.String()
}

// run does one transformer run.
func run(ctx context.Context, args []string, env func(string) string, stderr io.Writer) error {
	c, err := parse(args, env, stderr)
	if err != nil {
		return err
	}
	out, prefix, err := c.store(ctx)
	if err != nil {
		return err
	}
	key := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "/" + name
	}
	var in transformout.Inputs
	if err := readJSON(ctx, out, key(transformout.InputsFile), &in); err != nil {
		return fmt.Errorf("%s/%s: %w", c.runDir, transformout.InputsFile, err)
	}
	if in.RunID != c.runID {
		return fmt.Errorf("%s/%s is run %q's, not %q (DATASURFACE_RUN_ID)", c.runDir, transformout.InputsFile, in.RunID, c.runID)
	}
	cat, err := target.OpenCatalog(ctx, c.catalog)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	defer func() { _ = target.CloseCatalog(cat) }()
	m := transformout.Manifest{Version: transformout.Version, RunID: c.runID, Inputs: in.Inputs, Datasets: map[string][]string{}}
	for _, input := range in.Inputs {
		ds := c.maps[input.Dataset]
		if ds == "" {
			ds = input.Dataset[strings.LastIndexByte(input.Dataset, '.')+1:]
		}
		if _, dup := m.Datasets[ds]; dup {
			return fmt.Errorf("two inputs write output dataset %s; name them apart with --map", ds)
		}
		tbl, err := cat.LoadTable(ctx, table.Identifier{input.Namespace, input.Table})
		if err != nil {
			return fmt.Errorf("input %s (%s.%s): %w", input.Dataset, input.Namespace, input.Table, err)
		}
		files, err := c.copyMasked(ctx, out, key, tbl, input.SnapshotID, ds)
		if err != nil {
			return fmt.Errorf("input %s (%s.%s) at snapshot %d: %w", input.Dataset, input.Namespace, input.Table, input.SnapshotID, err)
		}
		m.Datasets[ds] = files
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return out.Put(ctx, key(transformout.ManifestFile), bytes.NewReader(b), int64(len(b)))
}

// store opens the run folder.
func (c *config) store(ctx context.Context) (landing.Writer, string, error) {
	rest, ok := strings.CutPrefix(c.runDir, "s3://")
	if !ok {
		if err := os.MkdirAll(c.runDir, 0o755); err != nil {
			return nil, "", err
		}
		return landing.NewLocalStore(filepath.Clean(c.runDir)), "", nil
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	st, err := landing.NewS3Store(ctx, landing.S3Config{Endpoint: c.out.Endpoint, Region: c.out.Region, Bucket: bucket,
		AccessKeyID: c.out.AccessKeyID, SecretAccessKey: c.out.SecretAccessKey})
	if err != nil {
		return nil, "", fmt.Errorf("run folder %s: %w (set DATASURFACE_LANDING_S3_* or DATASURFACE_S3_*)", c.runDir, err)
	}
	return st, strings.Trim(prefix, "/"), nil
}

func readJSON(ctx context.Context, st landing.Store, key string, v any) error {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	return json.NewDecoder(rc).Decode(v)
}

// copyMasked writes the table at snapshot id, masked, as dataset ds's files.
func (c *config) copyMasked(ctx context.Context, out landing.Writer, key func(string) string, tbl *table.Table, id int64, ds string) ([]string, error) {
	if id != 0 && tbl.SnapshotByID(id) == nil {
		return nil, fmt.Errorf("the table has no snapshot %d (expired by maintenance?); start a new run", id)
	}
	sc := tbl.Schema()
	full, err := table.SchemaToArrowSchema(sc, nil, false, false)
	if err != nil {
		return nil, err
	}
	var cols []string
	var fields []arrow.Field
	var masks []func(string) string
	for i, f := range sc.Fields() {
		if c.drop[f.Name] {
			continue
		}
		af := full.Field(i)
		if n := c.rename[f.Name]; n != "" {
			af.Name = n
		}
		cols = append(cols, f.Name)
		fields = append(fields, af)
		masks = append(masks, c.masks[f.Name])
	}
	asc := arrow.NewSchema(fields, nil)
	files := []string{}
	recs := target.NewRecords(asc)
	defer recs.Release()
	flush := func() error {
		if recs.Len() == 0 {
			return nil
		}
		name := fmt.Sprintf("%s/part-%d.parquet", ds, len(files))
		batch := recs.Batch()
		defer batch.Release()
		var buf bytes.Buffer
		w, err := pqarrow.NewFileWriter(asc, &buf, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
		if err != nil {
			return err
		}
		if err := w.Write(batch); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := out.Put(ctx, key(name), bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
			return err
		}
		files = append(files, name)
		return nil
	}
	if id != 0 {
		err = target.ScanAt(ctx, tbl, id, cols, func(r []row.Value) error {
			r = slices.Clone(r)
			for i, m := range masks {
				if m != nil && r[i].Kind() == row.KindString {
					r[i] = row.String(m(r[i].Text()))
				}
			}
			if err := recs.Append(r); err != nil {
				return err
			}
			if recs.Len() == rowsPerFile {
				return flush()
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return files, nil
}
