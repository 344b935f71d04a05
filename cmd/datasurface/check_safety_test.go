package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The owners examples/enterprise declares for the regions these tests change.
const (
	entCRM       = "meridian/retail/crm/model@main"
	entOrders    = "meridian/retail/orders/model@main"
	entMarketing = "meridian/retail/marketing/model@main"

	entCustomerDB = "zones/retail/teams/crm/datastores/customer_db.yaml"
	entCatalog    = "zones/retail/teams/orders/datastores/product_catalog.yaml"
	entCampaigns  = "zones/retail/teams/marketing/workspaces/campaigns.yaml"
)

// newEnterpriseRepo is a git repository holding examples/enterprise,
// committed once, and a bare deploy repository that its main has been
// published to.
func newEnterpriseRepo(t *testing.T) (*checkRepo, string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &checkRepo{t: t, dir: t.TempDir()}
	src := "../../examples/enterprise"
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r.write(filepath.ToSlash(rel), string(b))
		return nil
	}))
	r.git("init", "-q", "-b", "main")
	r.commit("the enterprise example")
	deploy := t.TempDir()
	_, err := git.PlainInit(deploy, true)
	require.NoError(t, err)
	code, out, errOut := runPublish(t, "publish", "--repo", r.dir, "--rev", "HEAD", "--deploy-repo", deploy)
	require.Equal(t, exitOK, code, out+errOut)
	return r, deploy
}

// checkThenPublish runs check on HEAD~1..HEAD and, when it passes, what the
// default branch's pipeline runs after the merge: validate, generate and
// publish of HEAD. The project's rule: whatever check passes, main can
// validate, generate and publish. It returns check's exit code and output.
func checkThenPublish(t *testing.T, r *checkRepo, deploy, source string) (int, string) {
	t.Helper()
	code, out, errOut := r.check("--source", source)
	require.NotEqual(t, exitUnread, code, out+errOut)
	if code != exitOK {
		return code, out
	}
	c, o, e := runCLI(t, "validate", "--repo", r.dir, "--rev", "HEAD")
	assert.Equal(t, exitOK, c, "check passed but validate fails:\n%s%s", o, e)
	c, o, e = runCLI(t, "generate", "--repo", r.dir, "--rev", "HEAD", "--out", t.TempDir())
	assert.Equal(t, exitOK, c, "check passed but generate fails:\n%s%s", o, e)
	c, o, e = runPublish(t, "publish", "--repo", r.dir, "--rev", "HEAD", "--deploy-repo", deploy)
	assert.Equal(t, exitOK, c, "check passed but publish fails:\n%s%s", o, e)
	return code, out
}

// lineOf is the 1-based line of the first line of file holding text.
func lineOf(t *testing.T, r *checkRepo, file, text string) int {
	t.Helper()
	for i, l := range strings.Split(r.read(file), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, text)
	return 0
}

func TestCheckRefusesStreamNameCollision(t *testing.T) {
	t.Parallel()
	r, deploy := newEnterpriseRepo(t)
	// product_catalog is single_dataset: its dataset products is ingested
	// as the stream product_catalog_products. A multi_dataset store of that
	// name would be the same stream (job spec, DAG, maintenance task).
	const store = "zones/retail/teams/orders/datastores/product_catalog_products.yaml"
	r.write(store, `datastore: product_catalog_products
production: true
capture:
  kind: sql_snapshot
  container: orders_postgres
  credential: oms_snapshot
  consistency: multi_dataset
  trigger: {cron: "0 3 * * *"}
datasets:
  - name: items
    primary_key: [sku]
    columns:
      - {name: sku, type: varchar(32)}
`)
	r.write("zones/retail/teams/orders/workspaces/order_ops.yaml", `workspace: order_ops
groups:
  - name: live
    platform: lakehouse
    requirements: {history: live_only, latency: minutes}
    sinks: [product_catalog_products.items, product_catalog.products]
`)
	r.commit("orders adds a store named like another's stream, and sinks both")

	code, out := checkThenPublish(t, r, deploy, entOrders)
	require.Equal(t, exitProblems, code, out)
	assert.Contains(t, out, store+":1:1: error name-collision: ")
	assert.Contains(t, out, "stream product_catalog_products")
	assert.Contains(t, out, entCatalog+":"+strconv.Itoa(lineOf(t, r, entCatalog, "- name: products"))+":5", "the message names the other place")

	// Proposed alone, without any sink, the store is refused all the same:
	// the name is taken whoever sinks it.
	r.git("rm", "-q", "zones/retail/teams/orders/workspaces/order_ops.yaml")
	r.git("reset", "-q", "--soft", "HEAD~1")
	r.commit("orders adds the store alone")
	code, out = checkThenPublish(t, r, deploy, entOrders)
	require.Equal(t, exitProblems, code, out)
	assert.Contains(t, out, "error name-collision")
}

func TestCheckRefusesHistoryTableCollision(t *testing.T) {
	t.Parallel()
	r, deploy := newEnterpriseRepo(t)
	// credit_risk sinks customer_db.customers forensically: its history
	// table is customers_history, in the customer_db namespace.
	r.edit(entCustomerDB, "  - name: customer_flags\n", `  - name: customers_history
    primary_key: [customer_id]
    columns:
      - {name: customer_id, type: uuid}
  - name: customer_flags
`)
	r.commit("crm adds a dataset named like a history table")
	code, out := checkThenPublish(t, r, deploy, entCRM)
	require.Equal(t, exitProblems, code, out)
	assert.Contains(t, out, "error name-collision: ")
	assert.Contains(t, out, "customers_history")
	assert.Contains(t, out, entCustomerDB+":"+strconv.Itoa(lineOf(t, r, entCustomerDB, "- name: customers"))+":5")
}

func TestCheckRefusesReservedHistoryColumn(t *testing.T) {
	t.Parallel()
	r, deploy := newEnterpriseRepo(t)
	r.edit(entCustomerDB, "      - {name: loyalty_number,", "      - {name: DSF_Valid_To, type: timestamptz}\n      - {name: loyalty_number,")
	r.commit("crm adds a column a history table adds itself")
	code, out := checkThenPublish(t, r, deploy, entCRM)
	require.Equal(t, exitProblems, code, out)
	assert.Contains(t, out, "dsf_valid_to")
}

func TestCheckRefusesCaseVariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, source, file, content string
		other                       string // the file of the name it folds onto
	}{
		{"workspace", entMarketing, "zones/retail/teams/marketing/workspaces/Campaigns.yaml", `workspace: Campaigns
groups:
  - name: g
    platform: lakehouse
    requirements: {history: live_only}
    sinks: [order_db.orders]
`, entCampaigns},
		{"datastore", entOrders, "zones/retail/teams/orders/datastores/Product_Catalog.yaml", `datastore: Product_Catalog
capture: {kind: sql_snapshot, container: orders_postgres, credential: oms_snapshot, trigger: {cron: "0 4 * * *"}}
datasets:
  - name: prices
    primary_key: [sku]
    columns:
      - {name: sku, type: varchar(32)}
`, entCatalog},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, deploy := newEnterpriseRepo(t)
			r.write(tc.file, tc.content)
			r.commit("a " + tc.name + " named like another but for case")
			code, out := checkThenPublish(t, r, deploy, tc.source)
			require.Equal(t, exitProblems, code, out)
			// Both places are named, whichever the error is reported at.
			assert.Contains(t, out, ":1:1: error name-duplicate: ")
			assert.Contains(t, out, "differs only in case")
			assert.Contains(t, out, tc.file+":1:1")
			assert.Contains(t, out, tc.other+":1:1")
		})
	}

	// A dataset, inside its store.
	r, deploy := newEnterpriseRepo(t)
	r.edit(entCatalog, "datasets:\n", "datasets:\n  - name: Products\n    primary_key: [sku]\n    columns:\n      - {name: sku, type: varchar(32)}\n")
	r.commit("orders adds Products beside products")
	code, out := checkThenPublish(t, r, deploy, entOrders)
	require.Equal(t, exitProblems, code, out)
	assert.Contains(t, out, "error name-duplicate")
	assert.Contains(t, out, "only in case")
}

func TestCheckDeprecationKeepsMainPublishable(t *testing.T) {
	t.Parallel()
	r, deploy := newEnterpriseRepo(t)
	// campaigns and credit_risk sink customers without acknowledging any
	// deprecation.
	r.edit(entCustomerDB, "  - name: customers\n", "  - name: customers\n    deprecated: {reason: customers_v2 replaces it}\n")
	r.commit("crm deprecates customers")
	code, out := checkThenPublish(t, r, deploy, entCRM)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, entCampaigns+":"+strconv.Itoa(lineOf(t, r, entCampaigns, "- customer_db.customers"))+":9: warning sink-deprecated: customer_db.customers is deprecated (customers_v2 replaces it)")
	assert.Contains(t, out, "warning compat-deprecate")

	// Main, as merged, validates with the sinks as warnings.
	code, vout, _ := runCLI(t, "validate", "--repo", r.dir, "--rev", "HEAD")
	require.Equal(t, exitOK, code, vout)
	assert.Contains(t, vout, "warning sink-deprecated")

	// A new consumer of the deprecated dataset is refused unless it
	// acknowledges the deprecation; the existing ones still only warn.
	sales := "zones/retail/teams/analytics/workspaces/sales_analytics.yaml"
	r.edit(sales, "      - treasury_db.fx_rates\n", "      - treasury_db.fx_rates\n      - customer_db.customers\n")
	r.commit("analytics starts sinking the deprecated customers")
	code, out = checkThenPublish(t, r, deploy, "meridian/retail/analytics/model@main")
	require.Equal(t, exitProblems, code, out)
	assert.Contains(t, out, sales+":"+strconv.Itoa(lineOf(t, r, sales, "- customer_db.customers"))+":9: error sink-deprecated: ")
	assert.Contains(t, out, "new sink")
	assert.Contains(t, out, entCampaigns+":"+strconv.Itoa(lineOf(t, r, entCampaigns, "- customer_db.customers"))+":9: warning sink-deprecated")

	r.edit(sales, "      - customer_db.customers\n", "      - {dataset: customer_db.customers, deprecations_allowed: true}\n")
	r.git("add", "-A")
	r.git("commit", "-q", "--amend", "-m", "analytics sinks customers, acknowledging its deprecation")
	code, out = checkThenPublish(t, r, deploy, "meridian/retail/analytics/model@main")
	require.Equal(t, exitOK, code, out)
}

func TestCheckCompatibilityErrorAtTheColumnOnce(t *testing.T) {
	t.Parallel()
	r, deploy := newEnterpriseRepo(t)
	const orders = "zones/retail/teams/orders/datastores/order_db.yaml"
	// order_db.orders has three consumers, on two platforms.
	r.edit(orders, "{name: status, type: varchar(20)", "{name: status, type: varchar(10)")
	r.commit("orders narrows status")
	code, out := checkThenPublish(t, r, deploy, entOrders)
	require.Equal(t, exitProblems, code, out)
	at := orders + ":" + strconv.Itoa(lineOf(t, r, orders, "{name: status,")) + ":9: error compat-narrow: "
	assert.Equal(t, 1, strings.Count(out, "compat-narrow"), out)
	assert.Contains(t, out, at+"order_db.orders column status narrows from varchar(20) to varchar(10); values may no longer fit; its consumers campaigns, credit_risk, sales_analytics could no longer read it (rule narrow)")
	assert.Equal(t, 1, strings.Count(out, "status narrows"), "said once")

	// In JSON too, one problem at the column's line.
	_, js, _ := r.check("--source", entOrders, "--format", "json")
	res := parseCheckJSON(t, js)
	var lines []int
	for _, p := range res.Problems {
		if p.Code == "compat-narrow" {
			lines = append(lines, p.Line)
		}
	}
	assert.Equal(t, []int{lineOf(t, r, orders, "{name: status,")}, lines)
}

func TestCheckHumanOutput(t *testing.T) {
	t.Parallel()
	r, _ := newEnterpriseRepo(t)
	r.edit(entCatalog, "      - {name: title, type: text, nullable: false}\n", "      - {name: title, type: text, nullable: false}\n      - {name: brand, type: varchar(40)}\n")
	r.commit("orders adds a brand")

	code, out, errOut := r.check("--source", entOrders)
	require.Equal(t, exitOK, code, out+errOut)
	lines := strings.Split(out, "\n")
	assert.Equal(t, "check passed: the change may merge", lines[0], "the verdict comes first")
	assert.Equal(t, "merge request source: "+entOrders, lines[1])
	assert.Contains(t, out, "\nregions changed:\n  team retail/orders, owned by "+entOrders+" (this source may change it): datastore product_catalog changed\n")
	assert.Contains(t, out, "\nplan: 0 added, 5 changed, 0 removed artifacts; 1 schema evolutions (0 refused)\n")
	assert.Contains(t, out, "\n  changed platforms/analytics_lake/jobs/product_catalog_products.json (+")
	assert.True(t, strings.HasSuffix(out, "@HEAD: 0 errors, 1 warnings, 0 infos\n"), out)

	// Someone else's: refused, the owner named, the plan still shown.
	code, out, _ = r.check("--source", entMarketing)
	require.Equal(t, exitProblems, code, out)
	assert.True(t, strings.HasPrefix(out, "check failed: the change may not merge until the 1 error(s) below are fixed\n"), out)
	assert.Contains(t, out, "  team retail/orders, owned by "+entOrders+" (not this source): datastore product_catalog changed\n")
	assert.Contains(t, out, "\nplan: 0 added, 5 changed")

	// A source that is not <project>@<branch> is refused before any work.
	for _, bad := range []string{"meridian/retail/orders/model", "orders@main", "@main", "meridian/retail/orders/model@"} {
		code, out, errOut = r.check("--source", bad)
		assert.Equal(t, exitUnread, code, bad)
		assert.Empty(t, out, bad)
		assert.Contains(t, errOut, "--source is \""+bad+"\", which is not <GitLab project path>@<branch>", bad)
	}
}

// A head that lints but does not render would leave main unpublishable:
// check refuses it (the plan's failure was a warning).
func TestCheckRefusesAHeadThatDoesNotRender(t *testing.T) {
	t.Parallel()
	r, _ := newEnterpriseRepo(t)
	templates := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(templates, "trino.sql.tmpl"), []byte("{{ .NoSuchField }}\n"), 0o644))
	r.edit(entCatalog, "      - {name: title, type: text, nullable: false}\n", "      - {name: title, type: text, nullable: false}\n      - {name: brand, type: varchar(40)}\n")
	r.commit("orders adds a brand")
	code, out, errOut := r.check("--source", entOrders, "--templates", templates)
	require.Equal(t, exitProblems, code, out+errOut)
	assert.Contains(t, out, "error check-plan: the proposed model cannot be rendered, so generate and publish would fail once it merges: ")
	assert.Contains(t, out, "NoSuchField")
}
