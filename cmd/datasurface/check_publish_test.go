package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/datasurface/datasurface/generator"
)

// TestCheckPassImpliesPublish is the project's rule as a property: whatever
// check passes, the default branch can validate, generate and publish. It
// makes a few hundred random merge requests against examples/enterprise in
// a real git repository (renames, datasets, datastores, workspaces, sinks,
// columns, deprecations, case variants, names chosen to collide with what
// the generator derives, platform moves ...), each from its region's owner
// or now and then from someone else. A change check passes is merged and
// published into a bare deploy repository, as the default branch's
// pipeline would; one it refuses is dropped. Seeded and deterministic:
// DATASURFACE_RANDOM_SEED and DATASURFACE_RANDOM_EDITS choose another run.
func TestCheckPassImpliesPublish(t *testing.T) {
	seed, edits := uint64(1), 300
	if testing.Short() {
		edits = 60
	}
	if s := os.Getenv("DATASURFACE_RANDOM_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		seed = n
	}
	if s := os.Getenv("DATASURFACE_RANDOM_EDITS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		edits = n
	}
	r, deploy := newEnterpriseRepo(t)
	out := t.TempDir() // generate's folder, kept from merge to merge as a deployment's is
	c, o, e := runCLI(t, "generate", "--repo", r.dir, "--rev", "HEAD", "--out", out)
	require.Equal(t, exitOK, c, o+e)

	f := &fuzzer{t: t, r: r, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	refusedBy := map[string]int{}
	kinds := map[string][2]int{} // per edit kind: passed, refused
	passed := 0
	for i := 0; i < edits; i++ {
		base := r.git("rev-parse", "HEAD")
		kind, desc, ok := f.edit()
		if !ok || r.git("status", "--porcelain") == "" {
			r.git("reset", "-q", "--hard", base)
			r.git("clean", "-qfd")
			continue
		}
		r.commit(fmt.Sprintf("edit %d: %s", i, desc))
		source := f.source()
		code, stdout, stderr := r.check("--source", source, "--format", "json")
		k := kinds[kind]
		switch code {
		case exitOK:
			passed++
			k[0]++
			c, o, e := runCLI(t, "validate", "--repo", r.dir, "--rev", "HEAD")
			if c != exitOK {
				t.Errorf("edit %d (%s, from %s): check passed but validate fails:\n%s%s", i, desc, source, o, e)
			}
			c, o, e = runCLI(t, "generate", "--repo", r.dir, "--rev", "HEAD", "--out", out)
			if c != exitOK {
				t.Errorf("edit %d (%s, from %s): check passed but generate fails:\n%s%s", i, desc, source, o, e)
			}
			for _, bad := range deployCollisions(t, out) {
				t.Errorf("edit %d (%s, from %s): check passed but the deploy tree %s", i, desc, source, bad)
			}
			c, o, e = runPublish(t, "publish", "--repo", r.dir, "--rev", "HEAD", "--deploy-repo", deploy)
			if c != exitOK {
				t.Errorf("edit %d (%s, from %s): check passed but publish fails:\n%s%s", i, desc, source, o, e)
			}
			if t.Failed() {
				t.Fatalf("the change, HEAD~1..HEAD in %s:\n%s", r.dir, r.git("show", "--stat", "-p", "HEAD"))
			}
		case exitProblems:
			k[1]++
			res := parseCheckJSON(t, stdout)
			codes := map[string]bool{}
			for _, p := range res.Problems {
				if p.Severity == "error" {
					codes[p.Code] = true
				}
			}
			for c := range codes {
				refusedBy[c]++
			}
			r.git("reset", "-q", "--hard", base)
		default:
			t.Fatalf("edit %d (%s): check could not judge the change (exit %d):\n%s%s", i, desc, code, stdout, stderr)
		}
		kinds[kind] = k
	}
	var lines []string
	for k, v := range kinds {
		lines = append(lines, fmt.Sprintf("  %-22s %3d passed %3d refused", k, v[0], v[1]))
	}
	sort.Strings(lines)
	var codes []string
	for c, n := range refusedBy {
		codes = append(codes, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(codes)
	t.Logf("seed %d: %d edits, %d passed (each validated, generated and published), refused with: %s\n%s",
		seed, edits, passed, strings.Join(codes, ", "), strings.Join(lines, "\n"))
	require.Positive(t, passed, "some changes must pass, or the property says nothing")
}

var (
	viewRE   = regexp.MustCompile(`(?m)^CREATE OR REPLACE VIEW "([^"]*)"\."([^"]*)"\."([^"]*)"`)
	schemaRE = regexp.MustCompile(`(?m)^CREATE SCHEMA IF NOT EXISTS "([^"]*)"\."([^"]*)"`)
	fromRE   = regexp.MustCompile(`(?m)^FROM "([^"]*)"\."([^"]*)"\."([^"]*)"`)
	topicsRE = regexp.MustCompile(`"topics": "([^"]*)"`)
)

// deployCollisions finds in a generated tree what generate does not refuse
// but the deployment would suffer: paths equal on a case-insensitive file
// system, Trino views or schemas that fold together, a workspace schema
// that is a table namespace, Kafka topics that collide ('.' and '_' are one
// to Kafka) and DAG ids shared across platforms.
func deployCollisions(t *testing.T, dir string) []string {
	t.Helper()
	tree, err := generator.ReadTree(dir)
	require.NoError(t, err)
	var bad []string
	folded := map[string]string{}
	dags := map[string]string{}
	topics := map[string]string{}
	views := map[string]string{}   // catalog.schema.view, folded
	schemas := map[string]string{} // catalog.schema of workspaces, folded
	namespaces := map[string]string{}
	for _, p := range tree.Paths() {
		if other, dup := folded[strings.ToLower(p)]; dup {
			bad = append(bad, fmt.Sprintf("has %s and %s, one file on a case-insensitive file system", other, p))
		}
		folded[strings.ToLower(p)] = p
		b := string(tree.Files[p])
		switch {
		case strings.Contains(p, "/dags/"):
			id := strings.ToLower(strings.TrimSuffix(path.Base(p), ".py"))
			if other, dup := dags[id]; dup {
				bad = append(bad, fmt.Sprintf("has DAG id %s twice: %s and %s", id, other, p))
			}
			dags[id] = p
		case strings.HasSuffix(p, ".s3-sink.json"):
			for _, m := range topicsRE.FindAllStringSubmatch(b, -1) {
				for _, tp := range strings.Split(m[1], ",") {
					key := strings.ToLower(strings.ReplaceAll(tp, ".", "_"))
					if other, dup := topics[key]; dup {
						bad = append(bad, fmt.Sprintf("has Kafka topics %s and %s, which collide", other, tp+" in "+p))
					}
					topics[key] = tp + " in " + p
				}
			}
		case strings.HasSuffix(p, ".sql"):
			for _, m := range schemaRE.FindAllStringSubmatch(b, -1) {
				schemas[strings.ToLower(m[1]+"."+m[2])] = p
			}
			for _, m := range viewRE.FindAllStringSubmatch(b, -1) {
				key := strings.ToLower(m[1] + "." + m[2] + "." + m[3])
				if other, dup := views[key]; dup {
					bad = append(bad, fmt.Sprintf("creates Trino view %s twice (folded): in %s and %s", key, other, p))
				}
				views[key] = p
			}
			for _, m := range fromRE.FindAllStringSubmatch(b, -1) {
				namespaces[strings.ToLower(m[1]+"."+m[2])] = p
			}
		}
	}
	for s, p := range schemas {
		if q, ok := namespaces[s]; ok {
			bad = append(bad, fmt.Sprintf("uses %s as a workspace's schema (%s) and as a datastore's namespace (%s)", s, p, q))
		}
	}
	sort.Strings(bad)
	return bad
}

// fuzzer makes random model edits in a checkout, as YAML trees.
type fuzzer struct {
	t     *testing.T
	r     *checkRepo
	rng   *rand.Rand
	n     int      // a counter for fresh names
	files []string // the files the last edit touched
}

func (f *fuzzer) pick(n int) int { return f.rng.IntN(n) }

func (f *fuzzer) chance(p float64) bool { return f.rng.Float64() < p }

func pickOf[T any](f *fuzzer, xs []T) T { return xs[f.pick(len(xs))] }

func (f *fuzzer) fresh(prefix string) string {
	f.n++
	return fmt.Sprintf("%s%d", prefix, f.n)
}

// modelFiles lists the checkout's model files matching a folder kind
// ("datastores" or "workspaces"), sorted.
func (f *fuzzer) modelFiles(kind string) []string {
	var out []string
	root := f.r.dir
	require.NoError(f.t, filepath.WalkDir(filepath.Join(root, "zones"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if strings.Contains(rel, "/"+kind+"/") {
			out = append(out, rel)
		}
		return nil
	}))
	sort.Strings(out)
	return out
}

func (f *fuzzer) teams() []string {
	var out []string
	for _, z := range f.dirs("zones") {
		for _, t := range f.dirs("zones/" + z + "/teams") {
			out = append(out, "zones/"+z+"/teams/"+t)
		}
	}
	return out
}

func (f *fuzzer) dirs(rel string) []string {
	es, err := os.ReadDir(filepath.Join(f.r.dir, rel))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range es {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// doc reads a file's YAML; nil when it is not there.
func (f *fuzzer) doc(rel string) *yaml.Node {
	b, err := os.ReadFile(filepath.Join(f.r.dir, rel))
	if err != nil {
		return nil
	}
	var n yaml.Node
	require.NoError(f.t, yaml.Unmarshal(b, &n), rel)
	if len(n.Content) == 0 {
		return nil
	}
	return n.Content[0]
}

func (f *fuzzer) save(rel string, root *yaml.Node) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	require.NoError(f.t, enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}))
	require.NoError(f.t, enc.Close())
	p := filepath.Join(f.r.dir, filepath.FromSlash(rel))
	require.NoError(f.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(f.t, os.WriteFile(p, b.Bytes(), 0o644))
	f.files = append(f.files, rel)
}

func (f *fuzzer) remove(rel string) {
	require.NoError(f.t, os.Remove(filepath.Join(f.r.dir, filepath.FromSlash(rel))))
	f.files = append(f.files, rel)
}

// YAML tree helpers.

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, str(key), v)
}

func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// flow makes a flow mapping of key, value pairs.
func flow(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for i := 0; i < len(kv); i += 2 {
		var v *yaml.Node
		switch x := kv[i+1].(type) {
		case string:
			v = str(x)
		case bool:
			v = boolean(x)
		case *yaml.Node:
			v = x
		}
		m.Content = append(m.Content, str(kv[i].(string)), v)
	}
	return m
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Content: items}
}

func mapping(kv ...any) *yaml.Node {
	m := flow(kv...)
	m.Style = 0
	return m
}

func copyNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = nil
	for _, x := range n.Content {
		c.Content = append(c.Content, copyNode(x))
	}
	return &c
}

// edit applies one random edit; kind names it for the tallies.
func (f *fuzzer) edit() (kind, desc string, ok bool) {
	f.files = nil
	type mutation struct {
		kind   string
		weight int
		fn     func() (string, bool)
	}
	ms := []mutation{
		{"add column", 8, f.addColumn},
		{"remove column", 3, f.removeColumn},
		{"change column type", 6, f.changeType},
		{"rename column", 2, f.renameColumn},
		{"add dataset", 8, f.addDataset},
		{"remove dataset", 3, f.removeDataset},
		{"rename dataset", 3, f.renameDataset},
		{"add datastore", 6, f.addDatastore},
		{"remove datastore", 2, f.removeDatastore},
		{"rename datastore", 2, f.renameDatastore},
		{"add workspace", 5, f.addWorkspace},
		{"remove workspace", 2, f.removeWorkspace},
		{"add sink", 10, f.addSink},
		{"remove sink", 5, f.removeSink},
		{"deprecate", 6, f.deprecate},
		{"undeprecate", 2, f.undeprecate},
		{"acknowledge", 3, f.acknowledge},
		{"move platform", 4, f.movePlatform},
		{"change history", 4, f.changeHistory},
		{"change consistency", 3, f.changeConsistency},
		{"source table", 2, f.sourceTable},
		{"topic prefix", 1, f.topicPrefix},
	}
	total := 0
	for _, m := range ms {
		total += m.weight
	}
	w := f.pick(total)
	for _, m := range ms {
		if w < m.weight {
			desc, ok := m.fn()
			return m.kind, m.kind + ": " + desc, ok
		}
		w -= m.weight
	}
	panic("unreachable")
}

// source is the merge request's source: the owner of the region the edit
// touched, or now and then another region's owner.
func (f *fuzzer) source() string {
	var owners []string
	for _, rel := range f.files {
		owners = append(owners, f.ownerOf(rel))
	}
	if len(owners) == 0 || f.chance(0.05) {
		owners = append(owners, f.ownerOf("ecosystem.yaml"), "meridian/retail/marketing/model@main")
	}
	return pickOf(f, owners)
}

func (f *fuzzer) ownerOf(rel string) string {
	parts := strings.Split(rel, "/")
	switch {
	case len(parts) >= 4 && parts[0] == "zones" && parts[2] == "teams":
		for _, d := range get(f.doc("zones/"+parts[1]+"/zone.yaml"), "teams").Content {
			if get(d, "name").Value == parts[3] {
				return get(d, "owner").Value
			}
		}
	case len(parts) >= 2 && parts[0] == "zones":
		for _, d := range get(f.doc("ecosystem.yaml"), "zones").Content {
			if get(d, "name").Value == parts[1] {
				return get(d, "owner").Value
			}
		}
	}
	return get(f.doc("ecosystem.yaml"), "owner").Value
}

// A datastore file, its tree and one of its datasets.
func (f *fuzzer) store() (string, *yaml.Node) {
	files := f.modelFiles("datastores")
	if len(files) == 0 {
		return "", nil
	}
	rel := pickOf(f, files)
	return rel, f.doc(rel)
}

func (f *fuzzer) dataset(root *yaml.Node) *yaml.Node {
	ds := get(root, "datasets")
	if ds == nil || len(ds.Content) == 0 {
		return nil
	}
	return pickOf(f, ds.Content)
}

// allDatasets lists every datastore.dataset, and which of them are the
// datastore's single datasets.
func (f *fuzzer) allDatasets() (sinks []string, stores map[string]*yaml.Node) {
	stores = map[string]*yaml.Node{}
	for _, rel := range f.modelFiles("datastores") {
		root := f.doc(rel)
		name := get(root, "datastore").Value
		stores[name] = root
		for _, d := range get(root, "datasets").Content {
			sinks = append(sinks, name+"."+get(d, "name").Value)
		}
	}
	return sinks, stores
}

// caseVariant flips the case of a name's first letter.
func caseVariant(s string) string {
	if s == "" {
		return s
	}
	c := s[0]
	switch {
	case c >= 'a' && c <= 'z':
		c -= 'a' - 'A'
	case c >= 'A' && c <= 'Z':
		c += 'a' - 'A'
	}
	return string(c) + s[1:]
}

var fuzzTypes = []string{"int16", "int32", "int64", "varchar(10)", "varchar(50)", "text", "decimal(10,2)", "decimal(12,2)", "boolean", "date", "timestamptz", "uuid"}

// columnName is a fresh name, or one chosen to collide.
func (f *fuzzer) columnName(existing []string) string {
	switch f.pick(10) {
	case 0:
		if len(existing) > 0 {
			return caseVariant(pickOf(f, existing))
		}
	case 1:
		return pickOf(f, []string{"dsf_valid_to", "DSF_Batch_In", "dsf_valid_from_x"})
	case 2:
		return pickOf(f, []string{"select", "9lives", "Order"})
	}
	return f.fresh("col_")
}

func columnNames(d *yaml.Node) []string {
	var out []string
	for _, c := range get(d, "columns").Content {
		out = append(out, get(c, "name").Value)
	}
	return out
}

func (f *fuzzer) addColumn() (string, bool) {
	rel, root := f.store()
	d := f.dataset(root)
	if d == nil {
		return "", false
	}
	name := f.columnName(columnNames(d))
	col := flow("name", name, "type", pickOf(f, fuzzTypes))
	if f.chance(0.2) {
		set(col, "nullable", boolean(false))
	}
	cols := get(d, "columns")
	cols.Content = append(cols.Content, col)
	f.save(rel, root)
	return fmt.Sprintf("%s gets column %s", rel, name), true
}

func (f *fuzzer) removeColumn() (string, bool) {
	rel, root := f.store()
	d := f.dataset(root)
	if d == nil || len(get(d, "columns").Content) < 2 {
		return "", false
	}
	cols := get(d, "columns")
	i := f.pick(len(cols.Content))
	name := get(cols.Content[i], "name").Value
	cols.Content = append(cols.Content[:i], cols.Content[i+1:]...)
	f.save(rel, root)
	return fmt.Sprintf("%s loses column %s", rel, name), true
}

func (f *fuzzer) changeType() (string, bool) {
	rel, root := f.store()
	d := f.dataset(root)
	if d == nil {
		return "", false
	}
	c := pickOf(f, get(d, "columns").Content)
	typ := get(c, "type")
	if typ == nil || typ.Kind != yaml.ScalarNode || typ.Value == "struct" || typ.Value == "list" || typ.Value == "map" {
		return "", false
	}
	old := typ.Value
	widen := map[string]string{"int16": "int32", "int32": "int64", "varchar(10)": "varchar(50)", "varchar(50)": "text", "decimal(10,2)": "decimal(12,2)", "float32": "float64"}
	if w, ok := widen[old]; ok && f.chance(0.7) {
		typ.Value = w
	} else {
		typ.Value = pickOf(f, fuzzTypes)
	}
	typ.Style = 0
	if strings.Contains(typ.Value, ",") {
		typ.Style = yaml.DoubleQuotedStyle
	}
	f.save(rel, root)
	return fmt.Sprintf("%s: %s %s to %s", rel, get(c, "name").Value, old, typ.Value), true
}

func (f *fuzzer) renameColumn() (string, bool) {
	rel, root := f.store()
	d := f.dataset(root)
	if d == nil {
		return "", false
	}
	c := pickOf(f, get(d, "columns").Content)
	n := get(c, "name")
	old := n.Value
	n.Value = f.columnName(columnNames(d))
	f.save(rel, root)
	return fmt.Sprintf("%s: column %s renamed %s", rel, old, n.Value), true
}

// datasetName is a fresh name, or one chosen to collide: a case variant,
// another's history table, a name whose stream is another store's.
func (f *fuzzer) datasetName(store string, root *yaml.Node) string {
	var names []string
	for _, d := range get(root, "datasets").Content {
		names = append(names, get(d, "name").Value)
	}
	sinks, stores := f.allDatasets()
	switch f.pick(8) {
	case 0:
		if len(names) > 0 {
			return caseVariant(pickOf(f, names))
		}
	case 1:
		if len(names) > 0 {
			return pickOf(f, names) + "_history"
		}
	case 2:
		// <store>_<name> is the stream of another store whose name starts with <store>_.
		for other := range stores {
			if rest, ok := strings.CutPrefix(other, store+"_"); ok && rest != "" {
				return rest
			}
		}
		// or <store>_<name> = <other>_<dataset> for another single_dataset store.
		s := pickOf(f, sinks)
		return strings.ReplaceAll(s, ".", "_")
	}
	return f.fresh("set_")
}

func (f *fuzzer) newDataset(name string, capture *yaml.Node) *yaml.Node {
	d := mapping("name", name, "primary_key", &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: []*yaml.Node{str("id")}})
	cols := seq(flow("name", "id", "type", "int64"))
	for range f.pick(3) {
		cols.Content = append(cols.Content, flow("name", f.fresh("col_"), "type", pickOf(f, fuzzTypes)))
	}
	if capture != nil && get(capture, "watermark_column") != nil {
		wm := get(capture, "watermark_column").Value
		cols.Content = append(cols.Content, flow("name", wm, "type", "timestamp", "nullable", false))
	}
	set(d, "columns", cols)
	return d
}

func (f *fuzzer) addDataset() (string, bool) {
	rel, root := f.store()
	if root == nil {
		return "", false
	}
	name := f.datasetName(get(root, "datastore").Value, root)
	ds := get(root, "datasets")
	ds.Content = append(ds.Content, f.newDataset(name, get(root, "capture")))
	f.save(rel, root)
	return fmt.Sprintf("%s gets dataset %s", rel, name), true
}

func (f *fuzzer) removeDataset() (string, bool) {
	rel, root := f.store()
	ds := get(root, "datasets")
	if ds == nil || len(ds.Content) < 2 {
		return "", false
	}
	i := f.pick(len(ds.Content))
	name := get(ds.Content[i], "name").Value
	ds.Content = append(ds.Content[:i], ds.Content[i+1:]...)
	f.save(rel, root)
	return fmt.Sprintf("%s loses dataset %s", rel, name), true
}

func (f *fuzzer) renameDataset() (string, bool) {
	rel, root := f.store()
	d := f.dataset(root)
	if d == nil {
		return "", false
	}
	n := get(d, "name")
	old := n.Value
	n.Value = f.datasetName(get(root, "datastore").Value, root)
	if f.chance(0.3) {
		n.Value = caseVariant(old)
	}
	f.save(rel, root)
	return fmt.Sprintf("%s: dataset %s renamed %s", rel, old, n.Value), true
}

// storeName is a fresh name or one chosen to collide with a derived name.
func (f *fuzzer) storeName() string {
	sinks, stores := f.allDatasets()
	switch f.pick(8) {
	case 0:
		for s := range stores {
			return caseVariant(s)
		}
	case 1:
		if len(sinks) > 0 {
			return strings.ReplaceAll(pickOf(f, sinks), ".", "_") // another's stream
		}
	case 2:
		return pickOf(f, []string{"maintenance", "Maintenance"})
	case 3:
		ws := f.modelFiles("workspaces")
		if len(ws) > 0 {
			return strings.TrimSuffix(filepath.Base(pickOf(f, ws)), ".yaml") // a workspace's Trino schema
		}
	}
	return f.fresh("store_")
}

func (f *fuzzer) addDatastore() (string, bool) {
	// Clone the capture of a store of the same team, so that its container
	// and credential resolve.
	rel, root := f.store()
	if root == nil || get(root, "capture") == nil {
		return "", false
	}
	name := f.storeName()
	capture := copyNode(get(root, "capture"))
	if c := get(capture, "consistency"); c != nil || f.chance(0.5) {
		set(capture, "consistency", str(pickOf(f, []string{"single_dataset", "multi_dataset"})))
	}
	if get(capture, "kind").Value == "sql_watermark" {
		set(capture, "consistency", str("single_dataset"))
	}
	sets := seq()
	for range 1 + f.pick(2) {
		sets.Content = append(sets.Content, f.newDataset(f.fresh("set_"), capture))
	}
	out := mapping("datastore", name, "capture", capture, "datasets", sets)
	if get(root, "production") != nil {
		set(out, "production", copyNode(get(root, "production")))
	}
	nrel := filepath.ToSlash(filepath.Join(filepath.Dir(rel), name+".yaml"))
	if _, err := os.Stat(filepath.Join(f.r.dir, nrel)); err == nil {
		return "", false
	}
	f.save(nrel, out)
	return fmt.Sprintf("%s added", nrel), true
}

func (f *fuzzer) removeDatastore() (string, bool) {
	rel, root := f.store()
	if root == nil {
		return "", false
	}
	f.remove(rel)
	return rel + " removed", true
}

func (f *fuzzer) renameDatastore() (string, bool) {
	rel, root := f.store()
	if root == nil {
		return "", false
	}
	name := f.storeName()
	get(root, "datastore").Value = name
	nrel := filepath.ToSlash(filepath.Join(filepath.Dir(rel), name+".yaml"))
	if _, err := os.Stat(filepath.Join(f.r.dir, nrel)); err == nil {
		return "", false
	}
	f.remove(rel)
	f.save(nrel, root)
	return fmt.Sprintf("%s renamed %s", rel, name), true
}

var platforms = []string{"lakehouse", "analytics_lake", "legacy_reporting"}

func (f *fuzzer) group(sinks []string) *yaml.Node {
	history := pickOf(f, []string{"live_only", "forensic"})
	latency := pickOf(f, []string{"minutes", "hours", "days"})
	g := mapping("name", f.fresh("group_"), "platform", pickOf(f, platforms), "requirements", flow("history", history, "latency", latency))
	ss := seq()
	for range 1 + f.pick(3) {
		ss.Content = append(ss.Content, f.sinkNode(pickOf(f, sinks)))
	}
	set(g, "sinks", ss)
	return g
}

func (f *fuzzer) sinkNode(s string) *yaml.Node {
	if f.chance(0.15) {
		return flow("dataset", s, "deprecations_allowed", true)
	}
	return str(s)
}

func (f *fuzzer) addWorkspace() (string, bool) {
	sinks, stores := f.allDatasets()
	if len(sinks) == 0 {
		return "", false
	}
	var name string
	switch f.pick(6) {
	case 0:
		ws := f.modelFiles("workspaces")
		name = caseVariant(strings.TrimSuffix(filepath.Base(pickOf(f, ws)), ".yaml"))
	case 1:
		for s := range stores {
			name = s
			break
		}
	default:
		name = f.fresh("ws_")
	}
	team := pickOf(f, f.teams())
	rel := team + "/workspaces/" + name + ".yaml"
	if _, err := os.Stat(filepath.Join(f.r.dir, rel)); err == nil {
		return "", false
	}
	groups := seq()
	for range 1 + f.pick(2) {
		groups.Content = append(groups.Content, f.group(sinks))
	}
	f.save(rel, mapping("workspace", name, "groups", groups))
	return rel + " added", true
}

func (f *fuzzer) workspace() (string, *yaml.Node) {
	ws := f.modelFiles("workspaces")
	if len(ws) == 0 {
		return "", nil
	}
	rel := pickOf(f, ws)
	return rel, f.doc(rel)
}

func (f *fuzzer) removeWorkspace() (string, bool) {
	rel, root := f.workspace()
	if root == nil {
		return "", false
	}
	f.remove(rel)
	return rel + " removed", true
}

func (f *fuzzer) groupOf(root *yaml.Node) *yaml.Node {
	gs := get(root, "groups")
	if gs == nil || len(gs.Content) == 0 {
		return nil
	}
	return pickOf(f, gs.Content)
}

func (f *fuzzer) addSink() (string, bool) {
	rel, root := f.workspace()
	g := f.groupOf(root)
	sinks, _ := f.allDatasets()
	if g == nil || len(sinks) == 0 {
		return "", false
	}
	s := pickOf(f, sinks)
	if f.chance(0.05) {
		s = "no_such_store.x"
	}
	ss := get(g, "sinks")
	if ss == nil {
		ss = seq()
		set(g, "sinks", ss)
	}
	ss.Style = 0
	ss.Content = append(ss.Content, f.sinkNode(s))
	f.save(rel, root)
	return fmt.Sprintf("%s sinks %s", rel, s), true
}

func (f *fuzzer) removeSink() (string, bool) {
	rel, root := f.workspace()
	g := f.groupOf(root)
	ss := get(g, "sinks")
	if ss == nil || len(ss.Content) == 0 {
		return "", false
	}
	i := f.pick(len(ss.Content))
	ss.Content = append(ss.Content[:i], ss.Content[i+1:]...)
	f.save(rel, root)
	return fmt.Sprintf("%s drops a sink", rel), true
}

func (f *fuzzer) deprecate() (string, bool) {
	rel, root := f.store()
	if root == nil {
		return "", false
	}
	dep := flow("reason", "Being replaced.")
	target := root
	what := "datastore"
	if d := f.dataset(root); d != nil && f.chance(0.7) {
		target, what = d, "dataset "+get(d, "name").Value
	}
	if get(target, "deprecated") != nil {
		return "", false
	}
	// A key after name (or datastore) keeps the file readable; order does not matter to the loader.
	target.Content = append(target.Content[:2], append([]*yaml.Node{str("deprecated"), dep}, target.Content[2:]...)...)
	f.save(rel, root)
	return fmt.Sprintf("%s deprecates %s", rel, what), true
}

func (f *fuzzer) undeprecate() (string, bool) {
	for _, rel := range f.modelFiles("datastores") {
		root := f.doc(rel)
		if get(root, "deprecated") != nil {
			del(root, "deprecated")
			f.save(rel, root)
			return rel + " is no longer deprecated", true
		}
		for _, d := range get(root, "datasets").Content {
			if get(d, "deprecated") != nil {
				del(d, "deprecated")
				f.save(rel, root)
				return fmt.Sprintf("%s: dataset %s no longer deprecated", rel, get(d, "name").Value), true
			}
		}
	}
	return "", false
}

func (f *fuzzer) acknowledge() (string, bool) {
	rel, root := f.workspace()
	g := f.groupOf(root)
	ss := get(g, "sinks")
	if ss == nil || len(ss.Content) == 0 {
		return "", false
	}
	i := f.pick(len(ss.Content))
	s := ss.Content[i]
	if s.Kind == yaml.ScalarNode {
		ss.Content[i] = flow("dataset", s.Value, "deprecations_allowed", true)
	} else {
		ss.Content[i] = str(get(s, "dataset").Value)
	}
	ss.Style = 0
	f.save(rel, root)
	return fmt.Sprintf("%s toggles an acknowledgement", rel), true
}

func (f *fuzzer) movePlatform() (string, bool) {
	rel, root := f.workspace()
	g := f.groupOf(root)
	if g == nil {
		return "", false
	}
	p := get(g, "platform")
	old := p.Value
	p.Value = pickOf(f, slices.DeleteFunc(slices.Clone(platforms), func(s string) bool { return s == old }))
	f.save(rel, root)
	return fmt.Sprintf("%s moves group %s from %s to %s", rel, get(g, "name").Value, old, p.Value), true
}

func (f *fuzzer) changeHistory() (string, bool) {
	rel, root := f.workspace()
	g := f.groupOf(root)
	if g == nil {
		return "", false
	}
	h := get(get(g, "requirements"), "history")
	if h.Value == "forensic" {
		h.Value = "live_only"
	} else {
		h.Value = "forensic"
	}
	f.save(rel, root)
	return fmt.Sprintf("%s: group %s becomes %s", rel, get(g, "name").Value, h.Value), true
}

func (f *fuzzer) changeConsistency() (string, bool) {
	rel, root := f.store()
	c := get(root, "capture")
	if c == nil {
		return "", false
	}
	v := "multi_dataset"
	if x := get(c, "consistency"); x != nil && x.Value == "multi_dataset" {
		v = "single_dataset"
	}
	set(c, "consistency", str(v))
	f.save(rel, root)
	return fmt.Sprintf("%s becomes %s", rel, v), true
}

func (f *fuzzer) sourceTable() (string, bool) {
	rel, root := f.store()
	d := f.dataset(root)
	if d == nil {
		return "", false
	}
	other := get(pickOf(f, get(root, "datasets").Content), "name").Value
	set(d, "source_table", str(other))
	f.save(rel, root)
	return fmt.Sprintf("%s: dataset %s reads source table %s", rel, get(d, "name").Value, other), true
}

func (f *fuzzer) topicPrefix() (string, bool) {
	root := f.doc("ecosystem.yaml")
	for _, p := range get(root, "platforms").Content {
		ai := get(p, "airflow_iceberg")
		if kc := get(ai, "kafka_connect"); kc != nil {
			set(kc, "topic_prefix", str(pickOf(f, []string{"meridian", "meridian_customer", "lake", "analytics_lake"})))
			f.save("ecosystem.yaml", root)
			return "the lakehouse's topic prefix changes", true
		}
	}
	return "", false
}
