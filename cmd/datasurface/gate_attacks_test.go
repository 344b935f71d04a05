package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/gitlab-ci/mrnote/gitlabtest"
)

// Merge requests that one team controls, judged by check as a gate: each
// test is one way past it that check should refuse.

// TestAttackWorkspaceNamedInformationSchema: a workspace's views are
// created in the Trino schema named after it. Every Trino catalog has a
// schema information_schema served by Trino itself, not by the catalog's
// connector (io.trino.connector.informationschema.InformationSchemaMetadata,
// which creates no views: ConnectorMetadata#createView's default refuses
// "This connector does not support creating views"), so
// CREATE OR REPLACE VIEW "lakehouse"."information_schema"."orders" fails.
// trino apply runs the files sorted by path and stops at the first failure:
// marketing's information_schema.sql stops the views of the workspaces
// sorted after it (regulatory_reporting of finance/risk, sales_analytics of
// retail/analytics) from being deployed. Check passes it today.
func TestAttackWorkspaceNamedInformationSchema(t *testing.T) {
	t.Parallel()
	r, deploy := newEnterpriseRepo(t)
	r.write("zones/retail/teams/marketing/workspaces/information_schema.yaml", `workspace: information_schema
documentation: Orders, for a campaign.
groups:
  - name: g
    platform: lakehouse
    requirements: {history: live_only, latency: minutes}
    sinks: [order_db.orders]
`)
	r.commit("marketing: a workspace named information_schema")
	code, out := checkThenPublish(t, r, deploy, entMarketing)
	assert.Equal(t, exitProblems, code, "check passed a workspace whose Trino schema is every catalog's information_schema; trino apply fails on it and stops before other teams' views:\n%s", out)
}

// TestAttackDuplicateTreeEntryHidesOutsideFile: a head commit whose root
// tree holds CODEOWNERS twice, the team's new content first and the base's
// blob second. git reads the first (git show HEAD:CODEOWNERS, a checkout);
// check's tree comparison keeps the last entry of each name, sees the
// base's blob and reports no change outside the model, so a team that does
// not own the ecosystem changes CODEOWNERS with check's approval. The
// loader refuses a name held twice under zones/; the comparison of files
// outside the model does not. (git fsck calls the tree duplicateEntries;
// a server that checks pushes refuses it, one that does not keeps it.)
func TestAttackDuplicateTreeEntryHidesOutsideFile(t *testing.T) {
	t.Parallel()
	r, _ := newEnterpriseRepo(t)
	r.write("CODEOWNERS", "* @meridian/data-governance\n")
	r.commit("the ecosystem's owner adds CODEOWNERS")
	old := r.git("rev-parse", "HEAD:CODEOWNERS")
	evil := gitStdin(t, r, "* @meridian/retail-crm\n", "hash-object", "-w", "--stdin")
	var tree strings.Builder
	fmt.Fprintf(&tree, "100644 blob %s\tCODEOWNERS\n100644 blob %s\tCODEOWNERS\n", evil, old)
	for _, l := range strings.Split(r.git("ls-tree", "HEAD"), "\n") {
		if !strings.HasSuffix(l, "\tCODEOWNERS") {
			tree.WriteString(l + "\n")
		}
	}
	th := gitStdin(t, r, tree.String(), "mktree")
	c := r.git("commit-tree", th, "-p", "HEAD", "-m", "crm: CODEOWNERS, twice")
	r.git("update-ref", "refs/heads/main", c)
	require.Equal(t, "* @meridian/retail-crm", r.git("show", "HEAD:CODEOWNERS"), "git reads the first entry")

	code, out, errOut := r.check("--source", entCRM)
	assert.NotEqual(t, exitOK, code, "check passed a commit that changes CODEOWNERS (a file outside the model, the ecosystem owner's) from crm's source, hidden behind a second entry of the same name:\n%s%s", out, errOut)
}

// gitStdin runs git in r's repository with input on its standard input and
// returns its trimmed output.
func gitStdin(t *testing.T, r *checkRepo, input string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return strings.TrimSpace(string(out))
}

// TestConcurrentMergeRequestsMergedResults: two merge requests from one
// base each pass check on their own (orders and crm each add a datastore
// named loyalty, in their own files, so git merges both without a
// conflict), and main with both does not validate. Judged on their merged
// results, as GitLab's merged-results pipelines and merge trains run them
// (the pipeline checks out refs/merge-requests/<iid>/merge: the merge
// request's head merged onto the target, that head its second parent;
// docs.gitlab.com/ci/pipelines/merged_results_pipelines), the second is
// refused once the first has merged.
func TestConcurrentMergeRequestsMergedResults(t *testing.T) {
	clearCheckEnv(t)
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddProject(42, "meridian/model")
	gl.AddProject(44, "meridian/retail/crm/model")
	gl.AddToken("glpat-check", gitlabtest.User{ID: 7, Username: "project_42_bot"})
	mrEnv(t, gl)

	r, _ := newEnterpriseRepo(t)
	base := r.git("rev-parse", "HEAD")
	r.git("branch", "orders-mr")
	r.git("branch", "crm-mr")
	r.git("checkout", "-q", "orders-mr")
	r.write("zones/retail/teams/orders/datastores/loyalty.yaml", strings.Replace(r.read(entCatalog), "datastore: product_catalog", "datastore: loyalty", 1))
	r.commit("orders: the loyalty catalogue")
	r.git("checkout", "-q", "crm-mr")
	r.write("zones/retail/teams/crm/datastores/loyalty.yaml", strings.Replace(r.read(entCustomerDB), "datastore: customer_db", "datastore: loyalty", 1))
	crmHead := r.commit("crm: the loyalty database")
	gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceProjectID: 44, SourceBranch: "main", SHA: crmHead, BaseSHA: base})

	// Alone, on its own head, it passes.
	code, out, errOut := runCLI(t, "check", "--repo", r.dir, "--format", "json")
	require.Equal(t, exitOK, code, out+errOut)

	// orders' merge request merges first; crm's merged result is main with both.
	r.git("checkout", "-q", "main")
	r.git("merge", "-q", "--no-ff", "-m", "merge orders-mr", "orders-mr")
	mainTip := r.git("rev-parse", "HEAD")
	r.git("checkout", "-q", "--detach", mainTip)
	r.git("merge", "-q", "--no-ff", "-m", "merged result of !7", "crm-mr")
	code, out, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	require.Equal(t, exitProblems, code, out+errOut)
	res := parseCheckJSON(t, out)
	assert.Contains(t, res.codes(), "error name-duplicate", "judged against main as it now is: %s", out)
	assert.Equal(t, "meridian/retail/crm/model@main", res.Source)

	// A merge commit whose second parent is not the merge request's head
	// lends it nothing.
	r.git("checkout", "-q", "--detach", mainTip)
	r.git("merge", "-q", "--no-ff", "-m", "not !7", "orders-mr~0")
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	require.Equal(t, exitProblems, code, errOut)
	assert.Contains(t, errOut, "is not the merge request's head "+crmHead)
}
