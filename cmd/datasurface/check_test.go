package main

import (
	"encoding/json"
	"encoding/xml"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/gitlab-ci/mrnote"
	"github.com/datasurface/datasurface/gitlab-ci/mrnote/gitlabtest"
)

// The owners of examples/customer-cdc's regions in the check tests: every
// region has its own.
const (
	checkEcoOwner       = "acme/model@main"
	checkRetailOwner    = "acme/retail@main"
	checkCRMOwner       = "acme/crm@main"
	checkMarketingOwner = "acme/marketing@main"
	checkFinanceOwner   = "acme/finance@main"

	checkCustomers = "zones/retail/teams/crm/datastores/customer_db.yaml"
	checkCampaigns = "zones/retail/teams/marketing/workspaces/campaigns.yaml"
	checkZone      = "zones/retail/zone.yaml"

	checkPhone = "      - {name: phone, type: varchar(100), classifications: [cpi]}\n"
	checkTier  = "      - {name: loyalty_tier, type: varchar(20), classifications: [internal]}\n"
)

// checkCIVars are the merge-request pipeline variables check reads; every
// test that runs check without --source or --base clears them first.
var checkCIVars = []string{
	"CI_MERGE_REQUEST_DIFF_BASE_SHA", "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
	"CI_COMMIT_SHA", "CI_API_V4_URL", "CI_MERGE_REQUEST_PROJECT_ID", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID",
	mrnote.TokenEnv, "CI_JOB_URL",
}

func clearCheckEnv(t *testing.T) {
	t.Helper()
	for _, k := range checkCIVars {
		t.Setenv(k, "")
	}
}

// checkRepo is a git repository holding examples/customer-cdc with an owner
// per region, committed once as the base.
type checkRepo struct {
	t   *testing.T
	dir string
}

func newCheckRepo(t *testing.T) *checkRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &checkRepo{t: t, dir: t.TempDir()}
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
		r.write(filepath.ToSlash(rel), string(b))
		return nil
	}))
	r.edit("ecosystem.yaml", "- {name: retail, owner: acme/model@main}", "- {name: retail, owner: "+checkRetailOwner+"}")
	for team, owner := range map[string]string{"crm": checkCRMOwner, "marketing": checkMarketingOwner, "finance": checkFinanceOwner} {
		r.edit(checkZone, "{name: "+team+", owner: acme/model@main}", "{name: "+team+", owner: "+owner+"}")
	}
	r.git("init", "-q", "-b", "main")
	r.commit("the owned example")
	return r
}

func (r *checkRepo) git(args ...string) string {
	r.t.Helper()
	out, err := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...).CombinedOutput()
	require.NoError(r.t, err, string(out))
	return strings.TrimSpace(string(out))
}

func (r *checkRepo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(r.t, os.WriteFile(p, []byte(content), 0o644))
}

func (r *checkRepo) read(name string) string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(name)))
	require.NoError(r.t, err)
	return string(b)
}

// edit replaces old by new in a model file; old must be there.
func (r *checkRepo) edit(name, old, new string) {
	r.t.Helper()
	s := r.read(name)
	require.Contains(r.t, s, old, name)
	r.write(name, strings.Replace(s, old, new, 1))
}

func (r *checkRepo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-qm", msg)
	return r.git("rev-parse", "HEAD")
}

// check runs `check --repo DIR --base HEAD~1 --head HEAD` with more args.
func (r *checkRepo) check(args ...string) (code int, stdout, stderr string) {
	r.t.Helper()
	return runCLI(r.t, append([]string{"check", "--repo", r.dir, "--base", "HEAD~1", "--head", "HEAD"}, args...)...)
}

// The changes the tests make, each by one team.
func addTier(r *checkRepo) { r.edit(checkCustomers, checkPhone, checkPhone+checkTier) }

func narrowEmail(r *checkRepo) {
	r.edit(checkCustomers, "{name: email, type: varchar(100)", "{name: email, type: varchar(10)")
}

func dropAddresses(r *checkRepo) {
	s := r.read(checkCustomers)
	i := strings.Index(s, "  - name: addresses\n")
	require.Positive(r.t, i)
	r.write(checkCustomers, s[:i])
}

func deprecateAddresses(r *checkRepo) {
	r.edit(checkCustomers, "  - name: addresses\n", "  - name: addresses\n    deprecated: {reason: use addresses_v2}\n")
}

// ackAddresses is marketing acknowledging that customer_db.addresses may
// be deprecated under its campaigns workspace.
func ackAddresses(r *checkRepo) {
	r.edit(checkCampaigns, "      - customer_db.addresses\n", "      - {dataset: customer_db.addresses, deprecations_allowed: true}\n")
}

func sinkMissing(r *checkRepo) {
	r.edit(checkCampaigns, "      - product_catalog.products\n", "      - product_catalog.products\n      - customer_db.no_such_dataset\n")
}

// checkJSON is the part of check's JSON output the tests read.
type checkJSON struct {
	Passed   bool   `json:"passed"`
	Source   string `json:"source"`
	Problems []struct {
		Code, Severity, Message, File, Path string
		Line                                int
	} `json:"problems"`
	Regions []struct {
		Region, Owner string
		Changes       []string
	} `json:"regions"`
	Compatibility []struct {
		Dataset, Path, Rule, Message string
		Allowed, Warning             bool
		Consumers                    []string
	} `json:"compatibility"`
	Plan *struct {
		Head struct {
			Source, Commit string
		} `json:"head"`
		Summary struct {
			Added, Changed, Removed, Evolutions, Refused int
		} `json:"summary"`
		Artifacts []struct {
			Path, Change string
		} `json:"artifacts"`
	} `json:"plan"`
}

func parseCheckJSON(t *testing.T, out string) checkJSON {
	t.Helper()
	var res checkJSON
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	return res
}

func (c checkJSON) codes() []string {
	var out []string
	for _, p := range c.Problems {
		out = append(out, p.Severity+" "+p.Code)
	}
	return out
}

func TestCheckAuthorizedCompatibleChange(t *testing.T) {
	t.Parallel()
	r := newCheckRepo(t)
	addTier(r)
	r.commit("crm adds loyalty_tier")

	code, out, errOut := r.check("--source", checkCRMOwner)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "0 errors, 0 warnings, 0 infos")

	code, out, errOut = r.check("--source", checkCRMOwner, "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	res := parseCheckJSON(t, out)
	assert.True(t, res.Passed)
	assert.Equal(t, checkCRMOwner, res.Source)
	assert.Empty(t, res.Problems)
	require.Len(t, res.Regions, 1)
	assert.Equal(t, "team retail/crm", res.Regions[0].Region)
	assert.Equal(t, checkCRMOwner, res.Regions[0].Owner)
	assert.Equal(t, []string{"datastore customer_db changed"}, res.Regions[0].Changes)
	require.Len(t, res.Compatibility, 1)
	e := res.Compatibility[0]
	assert.Equal(t, "customer_db.customers", e.Dataset)
	assert.Equal(t, "loyalty_tier", e.Path)
	assert.Equal(t, "add-nullable", e.Rule)
	assert.True(t, e.Allowed)
	assert.False(t, e.Warning)
	assert.Equal(t, []string{"campaigns", "credit_audit"}, e.Consumers)
	require.NotNil(t, res.Plan)
	assert.Equal(t, 3, res.Plan.Summary.Changed)
	assert.Equal(t, 1, res.Plan.Summary.Evolutions)
	assert.Zero(t, res.Plan.Summary.Refused)
	var changed []string
	for _, a := range res.Plan.Artifacts {
		assert.Equal(t, "changed", a.Change)
		changed = append(changed, a.Path)
	}
	assert.Equal(t, planChanged, changed)

	code, out, errOut = r.check("--source", checkCRMOwner, "--format", "markdown")
	require.Equal(t, exitOK, code, errOut)
	assert.True(t, strings.HasPrefix(out, "## ✅ DataSurface check passed\n\n**0 error(s), 0 warning(s).** Merge request source: `acme/crm@main`.\n"), out)
	assert.Contains(t, out, "| team retail/crm | `acme/crm@main` | yes | datastore customer\\_db changed |")
	assert.Contains(t, out, "| `customer_db.customers` | `loyalty_tier` | allowed | `add-nullable` |")
	assert.Contains(t, out, "<details><summary>0 added, 3 changed, 0 removed artifacts; 1 schema evolutions (0 refused)</summary>")
	checkMarkdownTables(t, out)

	// A clean check's reports: an empty Code Quality report, a passing JUnit case.
	dir := t.TempDir()
	cq, ju := filepath.Join(dir, "cq.json"), filepath.Join(dir, "junit.xml")
	code, _, errOut = r.check("--source", checkCRMOwner, "--report", "codequality="+cq, "--report", "junit="+ju)
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, readCodeQuality(t, cq))
	suites := readJUnit(t, ju)
	require.Len(t, suites.Suites, 1)
	assert.Zero(t, suites.Suites[0].Failures)
}

func TestCheckVerdicts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		prepare func(*checkRepo) // a change to the base, if any
		change  func(*checkRepo)
		source  string
		code    int
		want    []string // "severity code" of check's JSON problems, in order
		msgs    []string // in the human output
	}{
		{"another team edits crm's datastore", nil, addTier, checkMarketingOwner, exitProblems,
			[]string{"error auth-not-owner"},
			[]string{"team retail/crm is owned by acme/crm@main, not by this merge request's source acme/marketing@main: datastore customer_db changed; make this change from acme/crm@main"}},
		{"the zone owner edits crm's datastore", nil, addTier, checkRetailOwner, exitProblems,
			[]string{"error auth-not-owner"}, nil},
		{"the owner narrows a column", nil, narrowEmail, checkCRMOwner, exitProblems,
			[]string{"error compat-narrow"},
			[]string{"customer_db.customers column email narrows from varchar(100) to varchar(10)", "its consumers campaigns, credit_audit could no longer read it (rule narrow)"}},
		{"the owner drops a sunk dataset", nil, dropAddresses, checkCRMOwner, exitProblems,
			// The consumer's sink no longer resolves either.
			[]string{"error compat-drop-dataset", "error ref-sink"},
			[]string{"removes dataset customer_db.addresses, which workspace(s) campaigns still sink"}},
		{"the owner deprecates a dataset its consumer acknowledged", ackAddresses, deprecateAddresses, checkCRMOwner, exitOK,
			[]string{"warning compat-deprecate", "warning sink-deprecated"},
			[]string{"warning compat-deprecate: deprecates customer_db.addresses; its consumers campaigns should move off it", "0 errors, 2 warnings"}},
		{"the owner deprecates a dataset its consumer did not acknowledge", nil, deprecateAddresses, checkCRMOwner, exitOK,
			[]string{"warning compat-deprecate", "warning sink-deprecated"},
			[]string{"acknowledge with {dataset: customer_db.addresses, deprecations_allowed: true}", "deprecated by this merge request"}},
		{"a lint error in the head", nil, sinkMissing, checkMarketingOwner, exitProblems,
			[]string{"error ref-sink"}, nil},
		{"an unauthorized incompatible change", nil, narrowEmail, checkFinanceOwner, exitProblems,
			[]string{"error auth-not-owner", "error compat-narrow"}, nil},
		{"one owner changes every region", nil, func(r *checkRepo) {
			r.edit("ecosystem.yaml", "documentation: |\n", "documentation: |\n  Reworded.\n")
			r.edit(checkZone, "documentation: Retail customers", "documentation: All retail customers")
			addTier(r)
		}, checkCRMOwner, exitProblems,
			[]string{"error auth-not-owner", "error auth-not-owner"},
			[]string{"ecosystem is owned by acme/model@main", "zone retail is owned by acme/retail@main"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newCheckRepo(t)
			if tc.prepare != nil {
				tc.prepare(r)
				r.commit("prepare: " + tc.name)
			}
			tc.change(r)
			r.commit(tc.name)

			code, out, errOut := r.check("--source", tc.source, "--format", "json")
			require.Equal(t, tc.code, code, out+errOut)
			res := parseCheckJSON(t, out)
			assert.Equal(t, tc.code == exitOK, res.Passed)
			assert.Equal(t, tc.want, res.codes())

			code, out, _ = r.check("--source", tc.source)
			assert.Equal(t, tc.code, code)
			for _, m := range tc.msgs {
				assert.Contains(t, out, m)
			}

			code, md, _ := r.check("--source", tc.source, "--format", "markdown")
			assert.Equal(t, tc.code, code)
			checkMarkdownTables(t, md)
			if tc.code == exitOK {
				assert.True(t, strings.HasPrefix(md, "## ✅ DataSurface check passed\n"), md)
			} else {
				assert.True(t, strings.HasPrefix(md, "## ❌ DataSurface check failed\n"), md)
			}
			for _, w := range tc.want {
				assert.Contains(t, md, "`"+strings.Fields(w)[1]+"`")
			}
		})
	}
}

func TestCheckLintErrorHasNoPlan(t *testing.T) {
	t.Parallel()
	r := newCheckRepo(t)
	sinkMissing(r)
	r.commit("marketing sinks a dataset that does not exist")

	code, md, errOut := r.check("--source", checkMarketingOwner, "--format", "markdown")
	require.Equal(t, exitProblems, code, errOut)
	assert.Contains(t, md, "**1 error(s), 0 warning(s).**")
	assert.Contains(t, md, "| error | `ref-sink` | `"+checkCampaigns+":")
	assert.Contains(t, md, "| team retail/marketing | `acme/marketing@main` | yes | workspace campaigns changed |")
	assert.True(t, strings.HasSuffix(md, "### Plan\n\nNo plan: the proposed model has errors, so it cannot be rendered.\n"), md)
	assert.NotContains(t, md, "<details>")

	code, out, _ := r.check("--source", checkMarketingOwner, "--format", "json")
	require.Equal(t, exitProblems, code)
	assert.Contains(t, out, `"plan": null`)
}

func TestCheckReportsForGitLabWidgets(t *testing.T) {
	t.Parallel()
	r := newCheckRepo(t)
	addTier(r)
	r.commit("crm's change, proposed from marketing's project")

	dir := t.TempDir()
	cq, ju, md := filepath.Join(dir, "gl-code-quality.json"), filepath.Join(dir, "junit.xml"), filepath.Join(dir, "note.md")
	code, out, errOut := r.check("--source", checkMarketingOwner,
		"--report", "codequality="+cq, "--report", "junit="+ju, "--report", "markdown="+md)
	require.Equal(t, exitProblems, code, errOut)
	assert.Contains(t, out, "error auth-not-owner")
	assert.Contains(t, out, "1 errors, 0 warnings")

	issues := readCodeQuality(t, cq)
	require.Len(t, issues, 1)
	is := issues[0]
	assert.Equal(t, "auth-not-owner", is.CheckName)
	assert.Equal(t, "critical", is.Severity)
	assert.Contains(t, is.Description, "team retail/crm is owned by acme/crm@main, not by this merge request's source acme/marketing@main")
	// The path is relative to the repository, as GitLab needs to place it in the diff.
	assert.True(t, strings.HasPrefix(is.Location.Path, "zones/retail/teams/crm/"), is.Location.Path)
	assert.Positive(t, is.Location.Lines.Begin)
	assert.Len(t, is.Fingerprint, 32)

	suites := readJUnit(t, ju)
	require.Len(t, suites.Suites, 1)
	s := suites.Suites[0]
	assert.Equal(t, 1, s.Failures)
	require.Len(t, s.Cases, 1)
	require.NotNil(t, s.Cases[0].Failure)
	assert.Equal(t, "auth-not-owner", s.Cases[0].Failure.Type)
	assert.Contains(t, s.Cases[0].Failure.Message, "owned by acme/crm@main")
	assert.Equal(t, is.Location.Path, s.Cases[0].File)

	b, err := os.ReadFile(md)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "## ❌ DataSurface check failed\n"))
	assert.Contains(t, string(b), "| team retail/crm | `acme/crm@main` | no | datastore customer\\_db changed |")
	// The plan is still shown: the model itself is sound.
	assert.Contains(t, string(b), "### DataSurface plan")

	// A report spec that is not FORMAT=FILE, or names an unknown format.
	for _, bad := range []string{"codequality", "yaml=" + filepath.Join(dir, "x"), "junit="} {
		code, _, errOut = r.check("--source", checkCRMOwner, "--report", bad)
		assert.Equal(t, exitUnread, code, bad)
		assert.Contains(t, errOut, "FORMAT=FILE", bad)
	}
}

// TestCheckSourceFromCI runs check as a merge-request pipeline does: no
// --source, no --base, the merge request's variables instead.
func TestCheckSourceFromCI(t *testing.T) {
	clearCheckEnv(t)
	r := newCheckRepo(t)
	base := r.git("rev-parse", "HEAD")
	addTier(r)
	r.commit("crm adds loyalty_tier")

	// No source at all: the change cannot be authorized.
	code, out, errOut := r.check("--format", "json")
	require.Equal(t, exitProblems, code, errOut)
	res := parseCheckJSON(t, out)
	assert.Equal(t, []string{"error auth-no-source"}, res.codes())
	assert.Empty(t, res.Source)
	assert.Contains(t, res.Problems[0].Message, "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH")
	code, md, _ := r.check("--format", "markdown")
	assert.Equal(t, exitProblems, code)
	assert.Contains(t, md, "Merge request source: unknown.")

	// No change needs no source.
	code, out, errOut = runCLI(t, "check", "--repo", r.dir, "--base", "HEAD", "--head", "HEAD")
	assert.Equal(t, exitOK, code, out+errOut)

	// No base either: nothing to compare with.
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--head", "HEAD", "--source", checkCRMOwner)
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "--base is required (or CI_MERGE_REQUEST_DIFF_BASE_SHA")

	// Only half of the source is no source.
	t.Setenv("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", "acme/crm")
	code, out, _ = r.check("--format", "json")
	assert.Equal(t, exitProblems, code)
	assert.Equal(t, []string{"error auth-no-source"}, parseCheckJSON(t, out).codes())

	// The pipeline's variables: source, base and the checkout's commit.
	t.Setenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "main")
	t.Setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", base)
	head := r.git("rev-parse", "HEAD")
	t.Setenv("CI_COMMIT_SHA", head)
	code, out, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	require.Equal(t, exitOK, code, out+errOut)
	res = parseCheckJSON(t, out)
	assert.True(t, res.Passed)
	assert.Equal(t, checkCRMOwner, res.Source)
	require.NotNil(t, res.Plan)
	assert.Equal(t, head, res.Plan.Head.Commit, "the working tree is the commit CI names")
	assert.Equal(t, 3, res.Plan.Summary.Changed)

	// Flags win over the variables.
	code, out, _ = runCLI(t, "check", "--repo", r.dir, "--format", "json", "--source", checkFinanceOwner)
	assert.Equal(t, exitProblems, code)
	assert.Equal(t, []string{"error auth-not-owner"}, parseCheckJSON(t, out).codes())
	code, out, _ = runCLI(t, "check", "--repo", r.dir, "--format", "json", "--base", "HEAD")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, parseCheckJSON(t, out).Regions)
}

// TestCheckWorkingTree checks --head DIR: a folder, uncommitted changes
// included. Without --head the head is the commit checked out, whatever the
// working tree holds.
func TestCheckWorkingTree(t *testing.T) {
	t.Parallel()
	r := newCheckRepo(t)
	narrowEmail(r) // not committed

	code, out, errOut := runCLI(t, "check", "--repo", r.dir, "--base", "HEAD", "--source", checkCRMOwner, "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, parseCheckJSON(t, out).Regions, "the default head is the commit, not the working tree")

	code, out, errOut = runCLI(t, "check", "--repo", r.dir, "--base", "HEAD", "--head", r.dir, "--source", checkCRMOwner, "--format", "json")
	require.Equal(t, exitProblems, code, errOut)
	res := parseCheckJSON(t, out)
	assert.Equal(t, []string{"error compat-narrow"}, res.codes())
	require.Len(t, res.Regions, 1)
	assert.Equal(t, "team retail/crm", res.Regions[0].Region)
	require.NotNil(t, res.Plan, "a refused evolution still plans")
	assert.Equal(t, r.dir, res.Plan.Head.Source)

	// In the human output, positions are the working tree's files.
	code, out, _ = runCLI(t, "check", "--repo", r.dir, "--base", "HEAD", "--head", r.dir, "--source", checkCRMOwner)
	assert.Equal(t, exitProblems, code)
	assert.Contains(t, out, filepath.ToSlash(filepath.Join(r.dir, checkCustomers))+":")
	assert.Contains(t, out, "error compat-narrow")

	// Once committed, HEAD~1..HEAD says the same.
	r.commit("narrow email")
	code, out, _ = r.check("--source", checkCRMOwner, "--format", "json")
	assert.Equal(t, exitProblems, code)
	assert.Equal(t, []string{"error compat-narrow"}, parseCheckJSON(t, out).codes())
}

func TestCheckUnreadable(t *testing.T) {
	t.Parallel()
	r := newCheckRepo(t)
	addTier(r)
	r.commit("crm adds loyalty_tier")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no such base revision", []string{"--base", "no-such-rev", "--head", "HEAD"}, "no-such-rev"},
		{"no such head revision", []string{"--base", "HEAD~1", "--head", "HEAD~99"}, "HEAD~99"},
		{"not a repository", []string{"--base", "HEAD~1", "--head", "HEAD", "--repo", t.TempDir()}, ""},
		{"unknown format", []string{"--base", "HEAD~1", "--head", "HEAD", "--format", "yaml"}, "unknown format"},
		{"a report that cannot be written", []string{"--base", "HEAD~1", "--head", "HEAD", "--report", "json=" + filepath.Join(t.TempDir(), "no", "such", "dir", "r.json")}, "r.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"check", "--repo", r.dir, "--source", checkCRMOwner}, tc.args...)
			code, _, errOut := runCLI(t, args...)
			assert.Equal(t, exitUnread, code, errOut)
			assert.Contains(t, errOut, "datasurface: ")
			assert.Contains(t, errOut, tc.want)
		})
	}

	// A base whose model cannot be loaded is read, but cannot be judged.
	r2 := newCheckRepo(t)
	r2.write("zones/retail/teams/crm/datastores/broken.yaml", "datastore: [not, a, name\n")
	r2.commit("break the target branch")
	r2.git("rm", "-q", "zones/retail/teams/crm/datastores/broken.yaml")
	r2.commit("repair it")
	code, out, errOut := r2.check("--source", checkCRMOwner, "--format", "json")
	require.Equal(t, exitProblems, code, errOut)
	res := parseCheckJSON(t, out)
	require.NotEmpty(t, res.Problems)
	assert.Equal(t, "check-base-unread", res.Problems[0].Code)
	assert.Nil(t, res.Plan)
}

func TestCheckNote(t *testing.T) {
	clearCheckEnv(t)
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	bot := gitlabtest.User{ID: 7, Username: "project_42_bot"}
	gl.AddProject(42, "acme/model")
	gl.AddToken("glpat-bot", bot)
	human := gitlabtest.User{ID: 11, Username: "alice"}
	gl.Seed(42, 5, human, "Please have a look.", false)

	r := newCheckRepo(t)
	addTier(r)
	r.commit("crm adds loyalty_tier")

	// Outside a merge-request pipeline --note names what is missing.
	code, _, errOut := r.check("--source", checkCRMOwner, "--note")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "CI_MERGE_REQUEST_IID")
	assert.Contains(t, errOut, mrnote.TokenEnv)
	assert.Zero(t, gl.Count("POST"))

	t.Setenv("CI_API_V4_URL", gl.APIURL())
	t.Setenv("CI_MERGE_REQUEST_PROJECT_ID", "42")
	t.Setenv("CI_MERGE_REQUEST_IID", "5")
	t.Setenv(mrnote.TokenEnv, "glpat-bot")
	t.Setenv("CI_JOB_URL", "https://gitlab.example.com/acme/model/-/jobs/99")
	t.Setenv("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", "acme/crm")
	t.Setenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "main")
	seedCheckMR(gl, r, 5) // with a token, check asks GitLab which merge request this is

	noteRE := regexp.MustCompile(`datasurface: (created|updated) note (\d+) on merge request !5\n`)
	noted := func(errOut string) (string, int) {
		t.Helper()
		m := noteRE.FindStringSubmatch(errOut)
		require.NotNil(t, m, errOut)
		id, _ := strconv.Atoi(m[2])
		return m[1], id
	}
	ours := func() gitlabtest.Note {
		t.Helper()
		var out []gitlabtest.Note
		for _, n := range gl.Notes(42, 5) {
			if n.Author == bot {
				out = append(out, n)
			}
		}
		require.Len(t, out, 1, "one note of the check per merge request")
		return out[0]
	}

	// The first pipeline creates the note: the marker, then the verdict.
	code, out, errOut := r.check("--note")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "0 errors", "stdout is still the --format output")
	verb, id := noted(errOut)
	assert.Equal(t, "created", verb)
	n := ours()
	assert.Equal(t, int64(id), n.ID)
	assert.True(t, strings.HasPrefix(n.Body, mrnote.Marker+"\n## ✅ DataSurface check passed\n"), n.Body[:min(200, len(n.Body))])
	assert.Contains(t, n.Body, "Merge request source: `acme/crm@main`.")
	_, md, _ := r.check("--format", "markdown")
	assert.Equal(t, mrnote.Marker+"\n"+md, n.Body, "the note is the markdown output")

	// A later push: the same note, updated; the human's note untouched.
	narrowEmail(r)
	r.commit("crm narrows email")
	seedCheckMR(gl, r, 5)
	code, _, errOut = r.check("--note")
	require.Equal(t, exitProblems, code, errOut)
	verb, id2 := noted(errOut)
	assert.Equal(t, "updated", verb)
	assert.Equal(t, id, id2)
	n = ours()
	assert.True(t, strings.HasPrefix(n.Body, mrnote.Marker+"\n## ❌ DataSurface check failed\n"))
	assert.Contains(t, n.Body, "`compat-narrow`")
	assert.Len(t, gl.Notes(42, 5), 2)
	assert.Equal(t, "Please have a look.", gl.Notes(42, 5)[0].Body)
	assert.Equal(t, 1, gl.Count("POST"))
	assert.Equal(t, 1, gl.Count("PUT"))

	// A plan too big for a note (a megabyte of documentation lands in the
	// DAG's diff) is cut to fit, with a pointer to the job's artifacts.
	big := strings.Repeat("Customers of every kind. ", 50_000) // 1.25 MB
	r.edit(checkCustomers, "documentation: Customers and their addresses, from the CRM's PostgreSQL.", "documentation: "+big)
	r.commit("crm documents customer_db at length")
	seedCheckMR(gl, r, 5)
	code, md, errOut = r.check("--note", "--format", "markdown", "--max-text-bytes", "2MiB") // over the default limit for a value
	require.Equal(t, exitOK, code, errOut)
	require.Greater(t, len(md), mrnote.NoteBodyLimit, "the test needs a plan over the limit")
	verb, id3 := noted(errOut)
	assert.Equal(t, "updated", verb)
	assert.Equal(t, id, id3)
	n = ours()
	assert.LessOrEqual(t, len(n.Body), mrnote.NoteBodyLimit)
	assert.True(t, strings.HasPrefix(n.Body, mrnote.Marker+"\n## "))
	assert.Contains(t, n.Body, "Report truncated")
	assert.Contains(t, n.Body, "https://gitlab.example.com/acme/model/-/jobs/99/artifacts/browse")
	assert.Equal(t, strings.Count(n.Body, "<details>"), strings.Count(n.Body, "</details>"), "truncation closes what it cut")

	// A token GitLab rejects: exit 2, and the note stays as it was.
	t.Setenv(mrnote.TokenEnv, "glpat-revoked")
	code, _, errOut = r.check("--note")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "the merge request's source: ") // asking GitLab for the merge request comes first
	assert.Contains(t, errOut, "401")
	assert.Equal(t, n.Body, ours().Body)
}

// TestCheckMarkdownEscapesModelText feeds hostile text to every place model
// text reaches the note: a datastore's documentation (in the plan's diff),
// a team owner (the regions table and the problem messages) and the
// merge request's source.
func TestCheckMarkdownEscapesModelText(t *testing.T) {
	t.Parallel()
	const hostile = "Evil | pipe `tick` ``` fence <script>alert(1)</script> @alice !42 #7 ~bug %m :x:"
	// A valid owner: a branch may hold | ` < > @ ! # and more.
	const hostileOwner = "acme/pricing@x|`y`<script>@alice!42#7"
	r := newCheckRepo(t)
	r.edit(checkCustomers, "documentation: Customers and their addresses, from the CRM's PostgreSQL.",
		"documentation: "+strconv.Quote(hostile))
	r.commit("crm's hostile documentation")
	r.edit(checkZone, "teams:\n", "teams:\n  - {name: pricing, owner: \""+hostileOwner+"\"}\n")
	r.write("zones/retail/teams/pricing/team.yaml", "team: pricing\ndocumentation: "+strconv.Quote(hostile)+"\n")
	r.commit("the zone owner declares pricing, and defines it")

	// The documentation alone, by its owner.
	code, md, errOut := runCLI(t, "check", "--repo", r.dir, "--base", "HEAD~2", "--head", "HEAD~1", "--source", checkCRMOwner, "--format", "markdown")
	require.Equal(t, exitOK, code, errOut)
	checkMarkdownTables(t, md)
	checkNoLiveMarkup(t, md)
	assert.Contains(t, md, hostile, "the documentation is in the DAG's diff, verbatim inside a fence")

	// The new team: its owner is hostile, and the zone owner may not define it.
	source := "acme/retail@main|<b>@bob"
	code, md, errOut = r.check("--source", source, "--format", "markdown")
	require.Equal(t, exitProblems, code, errOut)
	checkMarkdownTables(t, md)
	checkNoLiveMarkup(t, md)
	assert.Contains(t, md, "Merge request source: `acme/retail@main|<b>@bob`.")
	assert.Contains(t, md, `team pricing declared \(owner acme/pricing\@x\|\`+"`"+`y\`+"`"+`&lt;script&gt;\@alice\!42\#7\)`)
	assert.Contains(t, md, `is owned by acme/pricing\@x\|`)
}

// checkMarkdownTables fails when a table row of md has more or fewer cells
// than its header: an unescaped pipe in a cell would split it.
func checkMarkdownTables(t *testing.T, md string) {
	t.Helper()
	cells := func(row string) int {
		n := 0
		for i := 0; i < len(row); i++ {
			switch row[i] {
			case '\\':
				i++
			case '|':
				n++
			}
		}
		return n
	}
	want := -1
	inFence := ""
	for _, line := range strings.Split(md, "\n") {
		if inFence != "" {
			if strings.TrimSpace(line) == inFence {
				inFence = ""
			}
			continue
		}
		if f := leadingFence(line); f != "" {
			inFence = f
			want = -1
			continue
		}
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		if want < 0 {
			want = cells(line)
			continue
		}
		assert.Equal(t, want, cells(line), "table row %q", line)
	}
}

func leadingFence(line string) string {
	n := len(line) - len(strings.TrimLeft(line, "`"))
	if n >= 3 {
		return line[:n]
	}
	return ""
}

// checkNoLiveMarkup fails when md, outside code blocks and code spans, holds
// raw HTML or an unescaped GitLab reference (@user, !mr, #issue).
func checkNoLiveMarkup(t *testing.T, md string) {
	t.Helper()
	var text strings.Builder
	inFence := ""
	for _, line := range strings.Split(md, "\n") {
		if inFence != "" {
			if strings.TrimSpace(line) == inFence {
				inFence = ""
			}
			continue
		}
		if f := leadingFence(line); f != "" {
			inFence = f
			continue
		}
		text.WriteString(stripCodeSpans(line) + "\n")
	}
	s := text.String()
	assert.NotContains(t, s, "<script")
	assert.NotContains(t, s, "<b>")
	for _, ref := range regexp.MustCompile(`(^|[^\\])[@!#]\w+`).FindAllString(s, -1) {
		t.Errorf("unescaped reference %q in:\n%s", ref, s)
	}
}

// stripCodeSpans removes the code spans of a line (a run of n backticks up
// to the next run of exactly n).
func stripCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] == '\\' && i+1 < len(line) {
			b.WriteString(line[i : i+2])
			i += 2
			continue
		}
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		end := -1
		for j := i + n; j < len(line); {
			if line[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(line) && line[j+m] == '`' {
				m++
			}
			if m == n {
				end = j + m
				break
			}
			j += m
		}
		if end < 0 {
			b.WriteString(line[i : i+n])
			i += n
			continue
		}
		i = end
	}
	return b.String()
}

type codeQualityIssue struct {
	Description string `json:"description"`
	CheckName   string `json:"check_name"`
	Fingerprint string `json:"fingerprint"`
	Severity    string `json:"severity"`
	Location    struct {
		Path  string `json:"path"`
		Lines struct {
			Begin int `json:"begin"`
		} `json:"lines"`
	} `json:"location"`
}

func readCodeQuality(t *testing.T, file string) []codeQualityIssue {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var out []codeQualityIssue
	require.NoError(t, json.Unmarshal(b, &out), string(b))
	require.NotNil(t, out, "an empty report is [], not null")
	return out
}

type junitReport struct {
	Suites []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			File    string `xml:"file,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, file string) junitReport {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var out junitReport
	require.NoError(t, xml.Unmarshal(b, &out), string(b))
	return out
}
