package generator_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

const (
	customersFile = "zones/retail/teams/crm/datastores/customer_db.yaml"
	phoneColumn   = "      - {name: phone, type: varchar(100), classifications: [cpi]}\n"
	tierColumn    = "      - {name: loyalty_tier, type: varchar(20), classifications: [internal]}\n"
)

// modelRepo is a git repository holding a copy of an example model, committed.
type modelRepo struct {
	t   *testing.T
	dir string
}

func newModelRepo(t *testing.T, example string) *modelRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &modelRepo{t: t, dir: t.TempDir()}
	src := filepath.Join("../examples", example)
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return r.write(rel, string(b))
	}))
	r.git("init", "-q", "-b", "main")
	r.commit("the example")
	return r
}

func (r *modelRepo) git(args ...string) {
	r.t.Helper()
	out, err := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...).CombinedOutput()
	require.NoError(r.t, err, string(out))
}

func (r *modelRepo) write(name, content string) error {
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// edit replaces old by new in a model file; old must be there.
func (r *modelRepo) edit(name, old, new string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	require.NoError(r.t, err)
	require.Contains(r.t, string(b), old, "%s", name)
	require.NoError(r.t, os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
}

func (r *modelRepo) commit(msg string) {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-qm", msg)
}

// load reads and lints the model at rev.
func (r *modelRepo) load(rev string) *model.Model {
	r.t.Helper()
	m, errs, err := model.LoadGit(context.Background(), r.dir, rev, "")
	require.NoError(r.t, err)
	require.Empty(r.t, errs)
	ps := lint.Lint(m)
	n, _, _ := lint.Count(ps)
	require.Zero(r.t, n, "%s has lint errors: %v", rev, ps)
	return m
}

// plan plans HEAD~1 -> HEAD.
func (r *modelRepo) plan() *generator.PlanResult {
	r.t.Helper()
	res, err := generator.Plan(r.load("HEAD~1"), r.load("HEAD"), generator.Options{Version: "test"})
	require.NoError(r.t, err)
	return res
}

func changes(res *generator.PlanResult) map[string]string {
	out := map[string]string{}
	for _, a := range res.Artifacts {
		out[a.Path] = a.Change
	}
	return out
}

func paths(res *generator.PlanResult, change string) []string {
	var out []string
	for _, a := range res.Artifacts {
		if a.Change == change {
			out = append(out, a.Path)
		}
	}
	return out
}

const lake = "platforms/lakehouse/"

func TestPlanAddNullableColumn(t *testing.T) {
	t.Parallel()
	r := newModelRepo(t, "customer-cdc")
	r.edit(customersFile, phoneColumn, phoneColumn+tierColumn)
	r.commit("add loyalty_tier")
	res := r.plan()

	// The job spec lists the columns, and so do the views of both
	// workspaces that sink customers; the DAGs and connectors do not.
	assert.Equal(t, map[string]string{
		lake + "jobs/customer_db.json":  generator.ArtifactChanged,
		lake + "trino/campaigns.sql":    generator.ArtifactChanged,
		lake + "trino/credit_audit.sql": generator.ArtifactChanged,
	}, changes(res))
	assert.Equal(t, generator.PlanSummary{Changed: 3, Unchanged: 6, Evolutions: 1}, res.Summary)
	assert.Equal(t, []generator.SchemaEvolution{{
		Dataset: "customer_db.customers", Path: "loyalty_tier", Allowed: true, Rule: "add-nullable",
		Message: "adds nullable column loyalty_tier varchar(20)", Scope: generator.ScopeTable, Platforms: []string{"lakehouse"},
	}}, res.Evolutions)

	// The commit is reported once, in the manifest, not in every file.
	assert.True(t, res.Manifest.CommitChanged)
	assert.Equal(t, res.Base.Commit, res.Manifest.BaseCommit)
	assert.Equal(t, res.Head.Commit, res.Manifest.HeadCommit)
	require.Len(t, res.Head.Commit, 40)
	assert.NotEqual(t, res.Base.Commit, res.Head.Commit)
	for _, a := range res.Artifacts {
		assert.NotContains(t, a.Diff, "at commit", a.Path)
		assert.True(t, strings.HasPrefix(a.Diff, "--- a/"+a.Path+"\n+++ b/"+a.Path+"\n@@ "), a.Diff)
		assert.False(t, a.Truncated)
	}
	views := res.Artifacts[1]
	require.Equal(t, lake+"trino/campaigns.sql", views.Path)
	assert.Equal(t, 1, views.LinesAdded)
	assert.Equal(t, 1, views.LinesRemoved)
	assert.Contains(t, views.Diff, "\n+SELECT \"id\", \"first_name\", \"last_name\", \"dob\", \"email\", \"phone\", \"loyalty_tier\", \"credit_limit\", \"created_at\"\n")
	// Three lines of context on each side of the change.
	assert.Contains(t, views.Diff, "\n@@ -7,7 +7,7 @@\n")

	md := res.Markdown()
	assert.Contains(t, md, "**0 added, 3 changed, 0 removed artifacts; 1 schema evolutions (0 refused)**")
	assert.Contains(t, md, "| `platforms/lakehouse/jobs/customer_db.json` | changed | +12 −0 |")
	assert.Contains(t, md, "| `customer_db.customers` | `loyalty_tier` | table (lakehouse) | allowed | `add-nullable` | adds nullable column loyalty\\_tier varchar\\(20\\) |")
	assert.Contains(t, md, "<details><summary><code>platforms/lakehouse/trino/credit_audit.sql</code> (changed)</summary>\n\n```diff\n--- a/platforms/lakehouse/trino/credit_audit.sql\n")
	assert.Equal(t, 3, strings.Count(md, "<details>"))
	assert.Contains(t, md, "changes from `"+res.Base.Commit[:12]+"` to `"+res.Head.Commit[:12]+"`")
}

func TestPlanSameModel(t *testing.T) {
	t.Parallel()
	r := newModelRepo(t, "customer-cdc")
	folder, errs, err := model.LoadDir(context.Background(), "../examples/customer-cdc")
	require.NoError(t, err)
	require.Empty(t, errs)

	// A folder and a commit of the same model: only the commit differs.
	res, err := generator.Plan(folder, r.load("HEAD"), generator.Options{Version: "test"})
	require.NoError(t, err)
	assert.Empty(t, res.Artifacts)
	assert.Empty(t, res.Evolutions)
	assert.Equal(t, 9, res.Summary.Unchanged)
	assert.True(t, res.Manifest.CommitChanged)
	assert.Empty(t, res.Manifest.BaseCommit)

	res, err = generator.Plan(folder, folder, generator.Options{Version: "test"})
	require.NoError(t, err)
	assert.Empty(t, res.Artifacts)
	assert.False(t, res.Manifest.CommitChanged)
	md := res.Markdown()
	assert.Contains(t, md, "**0 added, 0 changed, 0 removed artifacts; 0 schema evolutions (0 refused)**")
	assert.Contains(t, md, "No artifact changes (9 unchanged).")
	assert.Contains(t, md, "No schema changes.")
	assert.Contains(t, md, "does not change")
	assert.NotContains(t, md, "<details>")
}

func TestPlanRefusedEvolutions(t *testing.T) {
	t.Parallel()
	t.Run("narrow and drop", func(t *testing.T) {
		r := newModelRepo(t, "customer-cdc")
		r.edit(customersFile, "{name: email, type: varchar(100)", "{name: email, type: varchar(50)")
		r.edit(customersFile, phoneColumn, "")
		r.commit("narrow email, drop phone")
		res := r.plan()
		table := func(path, rule, msg string) generator.SchemaEvolution {
			return generator.SchemaEvolution{Dataset: "customer_db.customers", Path: path, Rule: rule, Message: msg, Scope: generator.ScopeTable, Platforms: []string{"lakehouse"}}
		}
		assert.Equal(t, []generator.SchemaEvolution{
			table("email", "narrow", "email narrows from varchar(100) to varchar(50); values may no longer fit"),
			table("phone", "drop", "drops column phone, which consumers may read; deprecate the dataset and publish a new one instead"),
		}, res.Evolutions)
		assert.Equal(t, 2, res.Summary.Refused)
		assert.Equal(t, []string{lake + "jobs/customer_db.json", lake + "trino/campaigns.sql", lake + "trino/credit_audit.sql"}, paths(res, generator.ArtifactChanged))
		md := res.Markdown()
		assert.Contains(t, md, "; 2 schema evolutions (2 refused)**")
		assert.Contains(t, md, "| `customer_db.customers` | `phone` | table (lakehouse) | **refused** | `drop` |")
	})
	t.Run("key and partitioning", func(t *testing.T) {
		r := newModelRepo(t, "customer-cdc")
		r.edit(customersFile, "    primary_key: [id]\n    partition_by: [country]\n", "    primary_key: [id, customer_id]\n")
		r.commit("rekey addresses")
		res := r.plan()
		var rules []string
		for _, e := range res.Evolutions {
			assert.Equal(t, "customer_db.addresses", e.Dataset)
			assert.Empty(t, e.Path)
			assert.False(t, e.Allowed)
			rules = append(rules, e.Rule)
		}
		assert.Equal(t, []string{generator.RuleKeyChange, generator.RulePartitionChange}, rules)
		assert.Contains(t, res.Evolutions[0].Message, "from (id) to (id, customer_id)")
		assert.Contains(t, res.Evolutions[1].Message, "from (country) to (none)")
		assert.Equal(t, []string{lake + "jobs/customer_db.json"}, paths(res, generator.ArtifactChanged))
		assert.Contains(t, res.Markdown(), "| `customer_db.addresses` | — | table (lakehouse) | **refused** | `key-change` |")
	})
}

func TestPlanWorkspacesAddAndRemoveFiles(t *testing.T) {
	t.Parallel()
	r := newModelRepo(t, "customer-cdc")
	require.NoError(t, r.write("zones/retail/teams/finance/workspaces/pricing.yaml", `workspace: pricing
documentation: Product prices for finance.
groups:
  - name: prices
    platform: lakehouse
    requirements: {history: live_only, latency: hours}
    sinks: [product_catalog.products]
`))
	r.commit("add the pricing workspace")
	res := r.plan()
	assert.Equal(t, map[string]string{
		lake + "trino/pricing.sql": generator.ArtifactAdded,
		// The DAG's docs and tags name the workspaces it serves.
		lake + "dags/lakehouse__product_catalog_products.py": generator.ArtifactChanged,
	}, changes(res))
	assert.Empty(t, res.Evolutions)
	added := res.Artifacts[1]
	require.Equal(t, lake+"trino/pricing.sql", added.Path)
	assert.True(t, strings.HasPrefix(added.Diff, "--- a/"+added.Path+"\n+++ b/"+added.Path+"\n@@ -0,0 +1,11 @@\n+"), added.Diff)
	assert.Zero(t, added.LinesRemoved)
	assert.Equal(t, 11, added.LinesAdded)
	assert.Contains(t, added.Diff, "\n+CREATE SCHEMA IF NOT EXISTS")

	// Without campaigns nobody sinks the products any more.
	r = newModelRepo(t, "customer-cdc")
	require.NoError(t, os.Remove(filepath.Join(r.dir, "zones/retail/teams/marketing/workspaces/campaigns.yaml")))
	r.commit("retire campaigns")
	res = r.plan()
	assert.Empty(t, paths(res, generator.ArtifactAdded))
	assert.Equal(t, []string{
		lake + "dags/lakehouse__product_catalog_products.py",
		lake + "jobs/product_catalog_products.json",
		lake + "trino/campaigns.sql",
	}, paths(res, generator.ArtifactRemoved))
	// The customer stream loses its live tables and the addresses.
	assert.Equal(t, []string{
		lake + "connect/customer_db.s3-sink.json",
		lake + "connect/customer_db.source.json",
		lake + "dags/lakehouse__customer_db.py",
		lake + "dags/lakehouse__maintenance.py", // one task per stream
		lake + "jobs/customer_db.json",
	}, paths(res, generator.ArtifactChanged))
	for _, a := range res.Artifacts {
		if a.Change != generator.ArtifactRemoved {
			continue
		}
		assert.Zero(t, a.LinesAdded, a.Path)
		assert.True(t, strings.HasPrefix(a.Diff, "--- a/"+a.Path+"\n+++ b/"+a.Path+"\n@@ -1,"), a.Diff)
		assert.Positive(t, a.LinesRemoved, a.Path) // a removed file is shown whole
	}
	assert.Equal(t, "0 added, 5 changed, 3 removed artifacts; 0 schema evolutions (0 refused)", res.SummaryLine())
}

func TestPlanModelOnlyDatasets(t *testing.T) {
	t.Parallel()
	notes := "  - name: notes\n    primary_key: [id]\n    columns:\n      - {name: id, type: int64, classifications: [internal]}\n"
	r := newModelRepo(t, "customer-cdc")
	r.edit(customersFile, "  - name: addresses\n", notes+"  - name: addresses\n")
	r.commit("add notes, which nobody sinks")
	res := r.plan()
	assert.Empty(t, res.Artifacts, "no platform ingests notes")
	assert.Equal(t, []generator.SchemaEvolution{{
		Dataset: "customer_db.notes", Allowed: true, Rule: generator.RuleAddDataset,
		Message: "adds dataset customer_db.notes with 1 column", Scope: generator.ScopeModel,
	}}, res.Evolutions)
	assert.Equal(t, 1, res.Summary.ModelOnly)
	md := res.Markdown()
	assert.Contains(t, md, "| `customer_db.notes` | — | model only | allowed | `add-dataset` |")
	assert.Contains(t, md, "1 of them are model-only")

	// Widening a column of notes is model-only too.
	r.edit(customersFile, "{name: id, type: int64, classifications: [internal]}\n  - name: addresses", "{name: id, type: int64, classifications: [internal]}\n      - {name: body, type: text, classifications: [internal]}\n  - name: addresses")
	r.commit("notes get a body")
	res = r.plan()
	require.Len(t, res.Evolutions, 1)
	assert.Equal(t, generator.ScopeModel, res.Evolutions[0].Scope)
	assert.Equal(t, "body", res.Evolutions[0].Path)

	// Removing a dataset no workspace sinks is allowed (deprecated or not).
	r.edit(customersFile, "  - name: notes\n", "  - name: notes\n    deprecated: {reason: nobody reads it}\n")
	r.commit("deprecate notes")
	r.edit(customersFile, "  - name: notes\n    deprecated: {reason: nobody reads it}\n    primary_key: [id]\n", "  - name: old_notes\n    primary_key: [id]\n")
	r.commit("rename notes")
	res = r.plan()
	require.Len(t, res.Evolutions, 2)
	assert.Equal(t, "customer_db.notes", res.Evolutions[0].Dataset)
	assert.Equal(t, generator.RuleDropDataset, res.Evolutions[0].Rule)
	assert.True(t, res.Evolutions[0].Allowed, "nobody sinks it")
	assert.Equal(t, "customer_db.old_notes", res.Evolutions[1].Dataset)
	assert.Equal(t, generator.RuleAddDataset, res.Evolutions[1].Rule)

	r.edit(customersFile, "  - name: old_notes\n    primary_key: [id]\n    columns:\n      - {name: id, type: int64, classifications: [internal]}\n      - {name: body, type: text, classifications: [internal]}\n", "")
	r.commit("drop old_notes")
	res = r.plan()
	require.Len(t, res.Evolutions, 1)
	assert.Equal(t, generator.SchemaEvolution{
		Dataset: "customer_db.old_notes", Rule: generator.RuleDropDataset, Allowed: true,
		Message: "removes dataset customer_db.old_notes, which no workspace sinks", Scope: generator.ScopeModel,
	}, res.Evolutions[0])
	assert.Equal(t, 0, res.Summary.Refused)
}

// fencesHold checks that every diff of a markdown plan stays inside its fence:
// the first line that could close a fence is the one right before
// </details>.
func fencesHold(t *testing.T, md string, diffs int) {
	t.Helper()
	lines := strings.Split(md, "\n")
	found := 0
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "```") || !strings.HasSuffix(l, "diff") {
			continue
		}
		found++
		fence := strings.TrimSuffix(l, "diff")
		for i++; i < len(lines); i++ {
			c := strings.TrimLeft(lines[i], " ")
			if len(lines[i])-len(c) <= 3 && strings.HasPrefix(c, fence) && strings.Trim(c, "` \t") == "" {
				break
			}
		}
		require.Less(t, i+2, len(lines), "fence %q never closes", fence)
		assert.Equal(t, fence, lines[i], "the fence closes early")
		assert.Equal(t, "", lines[i+1])
		assert.True(t, strings.HasPrefix(lines[i+2], "</details>") || strings.HasPrefix(lines[i+2], "_Diff cut"), lines[i+2])
	}
	assert.Equal(t, diffs, found)
}

func TestPlanMarkdownFences(t *testing.T) {
	t.Parallel()
	r := newModelRepo(t, "customer-cdc")
	r.edit(customersFile, "    documentation: One row per customer.\n", "    documentation: |\n      One row per customer.\n       ```\n      </details>\n      `````\n      @all see #1 | <b>x</b>\n")
	r.commit("hostile documentation")
	res := r.plan()
	require.NotEmpty(t, res.Artifacts)
	md := res.Markdown()
	fencesHold(t, md, len(res.Artifacts))
	assert.Contains(t, md, "\n``````diff\n", "a fence longer than the diff's longest backtick run")
}

func TestPlanMarkdownEscapes(t *testing.T) {
	t.Parallel()
	res := &generator.PlanResult{
		Base: generator.PlanSide{Source: "base"}, Head: generator.PlanSide{Source: "head"},
		Artifacts: []generator.ArtifactChange{
			{Path: "odd|<path>`", Change: generator.ArtifactAdded, Diff: "--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+ ```` not a fence\n"},
		},
		Evolutions: []generator.SchemaEvolution{
			{Dataset: "s.d", Path: "a`b", Rule: "narrow", Message: `x | y \| <script>alert(1)</script> @all #1 !2 ~l *b* _i_ [l](u) :smile:`, Scope: generator.ScopeModel},
		},
		Summary: generator.PlanSummary{Added: 1, Evolutions: 1, Refused: 1, ModelOnly: 1},
	}
	md := res.Markdown()
	fencesHold(t, md, 1)
	assert.Contains(t, md, "\n`````diff\n")
	assert.NotContains(t, md, "<script>")
	assert.NotContains(t, md, "<path>")
	assert.Contains(t, md, "<summary><code>odd|&lt;path&gt;`</code> (added)</summary>")
	for _, l := range strings.Split(md, "\n") {
		if !strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "| Artifact") || strings.HasPrefix(l, "| Dataset") {
			continue
		}
		// Cells split on pipes no backslash escapes.
		cells, escaped := 0, false
		for _, c := range l {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '|':
				cells++
			}
		}
		if strings.Contains(l, "odd") {
			assert.Equal(t, 4, cells, l)
		} else {
			assert.Equal(t, 7, cells, l)
			assert.Contains(t, l, `\@all \#1 \!2 \~l \*b\* \_i\_ \[l\]\(u\) \:smile\:`)
			assert.Contains(t, l, "&lt;script&gt;")
			assert.Contains(t, l, "| ``a`b`` |")
		}
	}
}

func TestPlanTruncatesLongDiffs(t *testing.T) {
	t.Parallel()
	r := newModelRepo(t, "customer-cdc")
	var cols strings.Builder
	for i := range 100 {
		cols.WriteString("      - {name: c" + strings.Repeat("x", i%3) + itoa(i) + ", type: text, classifications: [internal]}\n")
	}
	r.edit(customersFile, phoneColumn, phoneColumn+cols.String())
	r.commit("a hundred columns")
	res := r.plan()
	require.Len(t, res.Evolutions, 100)
	var job generator.ArtifactChange
	for _, a := range res.Artifacts {
		if a.Path == lake+"jobs/customer_db.json" {
			job = a
		}
	}
	require.True(t, job.Truncated)
	assert.Greater(t, job.DiffLines, generator.MaxDiffLines)
	assert.Equal(t, generator.MaxDiffLines, strings.Count(job.Diff, "\n"))
	assert.Greater(t, job.LinesAdded, generator.MaxDiffLines, "counted over the whole diff")
	md := res.Markdown()
	assert.Contains(t, md, "_Diff cut: 400 of "+itoa(job.DiffLines)+" lines shown._")
	fencesHold(t, md, len(res.Artifacts))
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestPlanJSON(t *testing.T) {
	t.Parallel()
	r := newModelRepo(t, "customer-cdc")
	r.edit(customersFile, phoneColumn, phoneColumn+tierColumn)
	r.commit("add loyalty_tier")
	res := r.plan()
	b, err := res.JSON()
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, generator.PlanFormat, got["format"])
	assert.Equal(t, map[string]any{"added": 0.0, "changed": 3.0, "removed": 0.0, "unchanged": 6.0, "evolutions": 1.0, "refused": 0.0, "model_only": 0.0}, got["summary"])
	arts := got["artifacts"].([]any)
	require.Len(t, arts, 3)
	a := arts[0].(map[string]any)
	assert.Equal(t, lake+"jobs/customer_db.json", a["path"])
	assert.Equal(t, "changed", a["change"])
	assert.True(t, strings.HasPrefix(a["diff"].(string), "--- a/"+lake+"jobs/customer_db.json\n"))
	assert.Equal(t, []any{map[string]any{
		"dataset": "customer_db.customers", "path": "loyalty_tier", "allowed": true, "rule": "add-nullable",
		"message": "adds nullable column loyalty_tier varchar(20)", "scope": "table", "platforms": []any{"lakehouse"},
	}}, got["evolutions"])
	assert.Equal(t, true, got["manifest"].(map[string]any)["commit_changed"])

	// Same input, same bytes; empty lists stay lists.
	again, err := r.plan().JSON()
	require.NoError(t, err)
	assert.Equal(t, string(b), string(again))
	m := r.load("HEAD")
	same, err := generator.Plan(m, m, generator.Options{Version: "test"})
	require.NoError(t, err)
	b, err = same.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(b), `"artifacts": []`)
	assert.Contains(t, string(b), `"evolutions": []`)
}
