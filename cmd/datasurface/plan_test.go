package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const planCustomers = "zones/retail/teams/crm/datastores/customer_db.yaml"

// planRepo copies examples/customer-cdc into a new git repository, commits
// it, then commits the model with one nullable column added to
// customer_db.customers. It returns the repository's folder.
func planRepo(t *testing.T) (dir string, git func(args ...string)) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	src := "../../examples/customer-cdc"
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	}))
	git = func(args ...string) {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-qm", "the example")

	p := filepath.Join(dir, planCustomers)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	phone := "      - {name: phone, type: varchar(100), classifications: [cpi]}\n"
	require.Contains(t, string(b), phone)
	s := strings.Replace(string(b), phone, phone+"      - {name: loyalty_tier, type: varchar(20), classifications: [internal]}\n", 1)
	require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	git("commit", "-qam", "add loyalty_tier")
	return dir, git
}

var planChanged = []string{
	"platforms/lakehouse/jobs/customer_db.json",
	"platforms/lakehouse/trino/campaigns.sql",
	"platforms/lakehouse/trino/credit_audit.sql",
}

func TestPlanMarkdown(t *testing.T) {
	t.Parallel()
	dir, _ := planRepo(t)
	code, out, errOut := runCLI(t, "plan", "--repo", dir, "--base", "HEAD~1", "--head", "HEAD")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "**0 added, 3 changed, 0 removed artifacts; 1 schema evolutions (0 refused)**")
	assert.Equal(t, 3, strings.Count(out, "<details>"))
	for _, p := range planChanged {
		assert.Contains(t, out, "<details><summary><code>"+p+"</code> (changed)</summary>\n\n```diff\n--- a/"+p+"\n+++ b/"+p+"\n")
	}
	assert.Contains(t, out, "| `customer_db.customers` | `loyalty_tier` | table (lakehouse) | allowed | `add-nullable` |")

	// --out writes the same to a file.
	file := filepath.Join(t.TempDir(), "plan.md")
	code, stdout, _ := runCLI(t, "plan", "--repo", dir, "--base", "HEAD~1", "--head", "HEAD", "--out", file)
	require.Equal(t, exitOK, code)
	assert.Empty(t, stdout)
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, out, string(b))
}

func TestPlanJSONOutput(t *testing.T) {
	t.Parallel()
	dir, _ := planRepo(t)
	code, out, errOut := runCLI(t, "plan", "--repo", dir, "--base", "HEAD~1", "--head", "HEAD", "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	var plan struct {
		Summary struct {
			Added, Changed, Removed, Evolutions, Refused int
		} `json:"summary"`
		Manifest struct {
			CommitChanged bool `json:"commit_changed"`
		} `json:"manifest"`
		Artifacts []struct {
			Path, Change, Diff string
		} `json:"artifacts"`
		Evolutions []struct {
			Dataset, Path, Rule, Scope string
			Allowed                    bool
		} `json:"evolutions"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &plan))
	var got []string
	for _, a := range plan.Artifacts {
		assert.Equal(t, "changed", a.Change)
		assert.True(t, strings.HasPrefix(a.Diff, "--- a/"+a.Path+"\n+++ b/"+a.Path+"\n"), a.Diff)
		got = append(got, a.Path)
	}
	assert.Equal(t, planChanged, got)
	require.Len(t, plan.Evolutions, 1)
	e := plan.Evolutions[0]
	assert.Equal(t, "customer_db.customers", e.Dataset)
	assert.Equal(t, "loyalty_tier", e.Path)
	assert.Equal(t, "add-nullable", e.Rule)
	assert.Equal(t, "table", e.Scope)
	assert.True(t, e.Allowed)
	assert.Equal(t, 3, plan.Summary.Changed)
	assert.Equal(t, 1, plan.Summary.Evolutions)
	assert.Zero(t, plan.Summary.Refused)
	assert.True(t, plan.Manifest.CommitChanged)
}

func TestPlanSidesAndExitCodes(t *testing.T) {
	t.Parallel()
	dir, git := planRepo(t)

	// A folder against a revision: the folder is the example, HEAD adds the column.
	code, out, errOut := runCLI(t, "plan", "--repo", dir, "--base", "../../examples/customer-cdc", "--head", "HEAD", "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `"changed": 3,`)

	// Refused evolutions still plan: check judges them.
	p := filepath.Join(dir, planCustomers)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), "{name: email, type: varchar(100)", "{name: email, type: varchar(10)", 1)), 0o644))
	git("commit", "-qam", "narrow email")
	code, out, errOut = runCLI(t, "plan", "--repo", dir, "--base", "HEAD~1", "--head", "HEAD")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "1 schema evolutions (1 refused)")
	assert.Contains(t, out, "**refused**")

	// A side with lint errors: exit 1.
	bad := writeFiles(t, badSinkModel)
	code, _, errOut = runCLI(t, "plan", "--repo", dir, "--base", "HEAD", "--head", bad)
	assert.Equal(t, exitProblems, code)
	assert.Contains(t, errOut, "ref-sink")
	assert.Contains(t, errOut, "lint errors")

	// A side that cannot be read: exit 2, even when the other has lint errors.
	code, _, errOut = runCLI(t, "plan", "--repo", dir, "--base", "no-such-rev", "--head", bad)
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "--base no-such-rev")
	code, _, errOut = runCLI(t, "plan", "--repo", dir, "--base", "HEAD", "--head", "HEAD~99")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "--head HEAD~99")
	code, _, errOut = runCLI(t, "plan", "--repo", dir, "--head", "HEAD")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "--base and --head are required")
	code, _, errOut = runCLI(t, "plan", "--repo", dir, "--base", "HEAD~1", "--head", "HEAD", "--format", "yaml")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "unknown format")
}

// TestGenerateServesTransformerOutputs: a sink on a transformer's output was
// once only a warning of generate (the platform did not run transformers);
// now the platform runs the transformer and the sink is served like any.
func TestGenerateServesTransformerOutputs(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "generate", "../../examples/enterprise", "--out", out)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.NotContains(t, stderr, "warning:")
	for _, f := range []string{"platforms/analytics_lake/dags/analytics_lake__sales_summary.py", "platforms/analytics_lake/jobs/sales_summary.json", "platforms/lakehouse/dags/lakehouse__masked_customers.py"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	code, stdout, _ = runCLI(t, "plan", "--base", "../../examples/customer-cdc", "--head", "../../examples/enterprise")
	require.Equal(t, exitOK, code)
	assert.NotContains(t, stdout, "#### Warnings")
}

// generate and plan say on stderr what they are doing, with counts and
// times, and keep stdout for the result; --quiet leaves stderr empty.
func TestGenerateAndPlanProgress(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "generate", "../../examples/customer-cdc", "--out", out)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Equal(t, out+": 10 added, 0 changed, 0 removed, 0 unchanged\n", stdout, "stdout is the result line only")
	assert.Contains(t, stderr, "generate: loading the model from ../../examples/customer-cdc ...\n")
	assert.Regexp(t, `generate: loaded the model: 9 files, 3 datasets, 22 columns \(\d+\.\d\ds\)\n`, stderr)
	assert.Regexp(t, `generate: rendered 10 files \(\d+\.\d\ds\)\n`, stderr)
	assert.Regexp(t, `generate: done \(\d+\.\d\ds in all\)\n$`, stderr)

	code, stdout, stderr = runCLI(t, "generate", "../../examples/customer-cdc", "--out", out, "--quiet", "--list")
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Empty(t, stderr)
	assert.Equal(t, out+": 0 added, 0 changed, 0 removed, 10 unchanged\n", stdout)

	// --list names each file written.
	require.NoError(t, os.Remove(filepath.Join(out, "platforms", "lakehouse", "jobs", "customer_db.json")))
	code, stdout, _ = runCLI(t, "generate", "../../examples/customer-cdc", "--out", out, "-q", "--list")
	require.Equal(t, exitOK, code, stdout)
	assert.Equal(t, "added   platforms/lakehouse/jobs/customer_db.json\n"+out+": 1 added, 0 changed, 0 removed, 9 unchanged\n", stdout)

	code, stdout, stderr = runCLI(t, "plan", "--base", "../../examples/customer-cdc", "--head", "../../examples/customer-cdc")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "0 added, 0 changed, 0 removed artifacts")
	assert.Regexp(t, `plan: loaded the base: 9 files, 3 datasets, 22 columns \(`, stderr)
	assert.Regexp(t, `plan: loaded the head: 9 files, 3 datasets, 22 columns \(`, stderr)
	assert.Contains(t, stderr, "plan: plan written to stdout (")
	_, _, stderr = runCLI(t, "plan", "--base", "../../examples/customer-cdc", "--head", "../../examples/customer-cdc", "-q")
	assert.Empty(t, stderr)
}
