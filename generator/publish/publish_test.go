package publish

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
)

const mergeMessage = "Merge branch 'crm-customers' into 'main'\n\nAdd the customer database\n\nSee merge request acme/model!42\n"

// modelRepo is a model repository made from examples/customer-cdc.
type modelRepo struct {
	dir string
	r   *git.Repository
}

func newModelRepo(t *testing.T) (*modelRepo, string) {
	t.Helper()
	dir := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "examples", "customer-cdc"), dir)
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	m := &modelRepo{dir: dir, r: r}
	return m, m.commit(t, mergeMessage)
}

func (m *modelRepo) commit(t *testing.T, msg string) string {
	t.Helper()
	wt, err := m.r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Modeller", Email: "modeller@acme.test", When: time.Now()}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// edit replaces old by new in a model file and commits.
func (m *modelRepo) edit(t *testing.T, file, old, new, msg string) string {
	t.Helper()
	p := filepath.Join(m.dir, filepath.FromSlash(file))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return m.commit(t, msg)
}

// render generates the tree of the model at a commit.
func (m *modelRepo) render(t *testing.T, commit string) *generator.Tree {
	t.Helper()
	ctx := context.Background()
	md, loadErrs, err := model.LoadGit(ctx, m.dir, commit, "")
	if err != nil || len(loadErrs) > 0 {
		t.Fatalf("load model at %s: %v %v", commit, err, loadErrs)
	}
	tree, err := generator.Generate(ctx, md, generator.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func noEnv(string) string { return "" }

func (m *modelRepo) options(deploy, commit string) Options {
	return Options{
		Repo:      deploy,
		Branch:    "main",
		Version:   "test",
		Model:     DescribeModel(m.dir, commit, m.dir+"@"+commit, noEnv),
		ModelRepo: m.dir,
	}
}

func (m *modelRepo) publish(t *testing.T, deploy, commit string, mod func(*Options)) (*Result, error) {
	t.Helper()
	o := m.options(deploy, commit)
	if mod != nil {
		mod(&o)
	}
	return Publish(context.Background(), m.render(t, commit), o)
}

func (m *modelRepo) mustPublish(t *testing.T, deploy, commit string, mod func(*Options)) *Result {
	t.Helper()
	res, err := m.publish(t, deploy, commit, mod)
	if err != nil {
		t.Fatalf("publish %s: %v", short(commit), err)
	}
	return res
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fsck has git itself check the repository's objects (the trees publish
// writes without a checkout).
func fsck(t *testing.T, bare string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Log("git is not installed: not checking the objects with git fsck")
		return
	}
	if out, err := exec.Command("git", "-C", bare, "fsck", "--strict", "--no-dangling").CombinedOutput(); err != nil {
		t.Fatalf("git fsck: %v\n%s", err, out)
	}
}

func bareRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := git.PlainInit(dir, true); err != nil {
		t.Fatal(err)
	}
	return dir
}

// head is the branch's head commit in a bare repository, nil when absent.
func head(t *testing.T, bare, branch string) *object.Commit {
	t.Helper()
	r, err := git.PlainOpen(bare)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// contents reads every file of a commit.
func contents(t *testing.T, c *object.Commit) map[string]string {
	t.Helper()
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = tree.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		out[f.Name] = s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func treeContents(tree *generator.Tree) map[string]string {
	out := map[string]string{}
	for p, b := range tree.Files {
		out[p] = string(b)
	}
	return out
}

// changed lists the paths whose content differs between two file sets.
func changed(a, b map[string]string) []string {
	var out []string
	for p, v := range a {
		if w, ok := b[p]; !ok || w != v {
			out = append(out, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func equalMaps(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if d := changed(got, want); len(d) > 0 {
		t.Fatalf("%s differs in %v", what, d)
	}
}

// humanCommit commits on the deploy branch as a person would: files maps a
// path to its content ("" deletes it). It creates the branch when absent.
func humanCommit(t *testing.T, bare, branch string, files map[string]string, msg string) string {
	t.Helper()
	dir := t.TempDir()
	ref := plumbing.NewBranchReferenceName(branch)
	r, err := git.PlainClone(dir, false, &git.CloneOptions{URL: bare, ReferenceName: ref, SingleBranch: true})
	if err != nil {
		if r, err = git.PlainInit(dir, false); err != nil {
			t.Fatal(err)
		}
		if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{bare}}); err != nil {
			t.Fatal(err)
		}
		if err := r.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, ref)); err != nil {
			t.Fatal(err)
		}
	}
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if c == "" {
			if err := os.Remove(full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Alice Ops", Email: "alice@acme.test", When: time.Now()}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{config.RefSpec(ref + ":" + ref)}}); err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestPublishFirstIntoEmptyRepo(t *testing.T) {
	m, sha := newModelRepo(t)
	deploy := bareRepo(t)
	tree := m.render(t, sha)
	res := m.mustPublish(t, deploy, sha, nil)
	if !res.Created || res.Parent != "" || res.Nothing != "" {
		t.Fatalf("result %+v: want a created branch", res)
	}
	if len(res.Added) != len(tree.Files) || len(res.Changed)+len(res.Removed) != 0 {
		t.Fatalf("added %d changed %d removed %d; want %d added", len(res.Added), len(res.Changed), len(res.Removed), len(tree.Files))
	}
	c := head(t, deploy, "main")
	if c == nil || c.Hash.String() != res.Commit {
		t.Fatalf("branch main is %v, publish says %s", c, res.Commit)
	}
	if c.NumParents() != 0 {
		t.Fatalf("first publish has %d parents", c.NumParents())
	}
	equalMaps(t, "published tree", contents(t, c), treeContents(tree))

	wantSubject := "datasurface: publish model " + sha[:12] + " (acme/model!42)"
	if got := firstLine(c.Message); got != wantSubject {
		t.Fatalf("subject %q, want %q", got, wantSubject)
	}
	tr := Trailers(c.Message)
	if tr[TrailerModelCommit] != sha || tr[TrailerGenerator] != "test" || tr[TrailerMergeRequest] != "acme/model!42" {
		t.Fatalf("trailers %v of message:\n%s", tr, c.Message)
	}
	if !strings.Contains(c.Message, "Model change: Add the customer database") {
		t.Fatalf("message does not name the model change:\n%s", c.Message)
	}
	if c.Author.Name != "DataSurface" || c.Author.Email != "datasurface@localhost" || c.Committer.Email != "datasurface@localhost" {
		t.Fatalf("author %v committer %v", c.Author, c.Committer)
	}
	fsck(t, deploy)
}

func TestPublishUnchangedMakesNoCommit(t *testing.T) {
	m, sha := newModelRepo(t)
	deploy := bareRepo(t)
	first := m.mustPublish(t, deploy, sha, nil)
	res := m.mustPublish(t, deploy, sha, nil)
	if res.Commit != "" || !strings.HasPrefix(res.Nothing, "nothing to publish") {
		t.Fatalf("second publish of the same model: %+v", res)
	}
	if h := head(t, deploy, "main").Hash.String(); h != first.Commit {
		t.Fatalf("branch moved to %s", h)
	}
	// A model commit that changes no artifact (a comment) publishes
	// nothing either: the branch keeps naming the model that made them.
	sha2 := m.edit(t, "ecosystem.yaml", "# The seed's stack", "# The seed's (reference) stack", "Reword a comment")
	res = m.mustPublish(t, deploy, sha2, nil)
	if res.Commit != "" || !strings.Contains(res.Nothing, "published from model "+sha[:12]) {
		t.Fatalf("publish of a model with the same artifacts: %+v", res)
	}
	if h := head(t, deploy, "main").Hash.String(); h != first.Commit {
		t.Fatalf("branch moved to %s", h)
	}
}

func TestPublishModelChangeMakesOneCommit(t *testing.T) {
	m, sha := newModelRepo(t)
	deploy := bareRepo(t)
	first := m.mustPublish(t, deploy, sha, nil)
	prev := m.render(t, sha)

	const file = "zones/retail/teams/crm/datastores/customer_db.yaml"
	for i, change := range []struct{ old, new, msg string }{
		{"documentation: One row per customer.", "documentation: One row per customer, deduplicated by the CRM.", "Document customers better\n\nSee merge request acme/model!43\n"},
		{"      - {name: created_at, type: timestamptz, nullable: false, classifications: [internal]}\n",
			"      - {name: created_at, type: timestamptz, nullable: false, classifications: [internal]}\n      - {name: loyalty_tier, type: varchar(20), classifications: [internal]}\n",
			"Add loyalty_tier to customers\n\nSee merge request acme/model!44\n"},
	} {
		before := head(t, deploy, "main")
		sha2 := m.edit(t, file, change.old, change.new, change.msg)
		next := m.render(t, sha2)
		res := m.mustPublish(t, deploy, sha2, nil)
		if res.Commit == "" {
			t.Fatalf("change %d: nothing published: %s", i, res.Nothing)
		}
		c := head(t, deploy, "main")
		if c.Hash.String() != res.Commit || c.NumParents() != 1 || c.ParentHashes[0] != before.Hash {
			t.Fatalf("change %d: head %s parents %v; want %s on %s", i, c.Hash, c.ParentHashes, res.Commit, before.Hash)
		}
		want := changed(treeContents(prev), treeContents(next))
		got := changed(contents(t, before), contents(t, c))
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("change %d: the commit changes %v; the model change affects %v", i, got, want)
		}
		if len(got) < 2 || len(got) >= len(next.Files) || !contains(got, generator.ManifestName) {
			t.Fatalf("change %d: the commit changes %v of %d files", i, got, len(next.Files))
		}
		reported := append(append(append([]string(nil), res.Added...), res.Changed...), res.Removed...)
		sort.Strings(reported)
		if strings.Join(reported, " ") != strings.Join(want, " ") {
			t.Fatalf("change %d: publish reports %v, the commit changes %v", i, reported, want)
		}
		wantMR := []string{"acme/model!43", "acme/model!44"}[i]
		if !strings.HasPrefix(c.Message, "datasurface: publish model "+sha2[:12]+" ("+wantMR+")\n") || Trailers(c.Message)[TrailerModelCommit] != sha2 {
			t.Fatalf("change %d: message\n%s", i, c.Message)
		}
		equalMaps(t, "published tree", contents(t, c), treeContents(next))
		prev = next
	}
	_ = first
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestPublishRefusesForeignCommits(t *testing.T) {
	m, sha := newModelRepo(t)
	deploy := bareRepo(t)
	m.mustPublish(t, deploy, sha, nil)
	dag := "platforms/lakehouse/dags/lakehouse__customer_db.py"
	published := contents(t, head(t, deploy, "main"))
	if _, ok := published[dag]; !ok {
		t.Fatalf("no %s in the published tree", dag)
	}
	hot := humanCommit(t, deploy, "main", map[string]string{dag: published[dag] + "\n# hotfix: retries\n"}, "Hotfix the customer DAG retries")

	sha2 := m.edit(t, "zones/retail/teams/crm/datastores/customer_db.yaml", "documentation: One row per customer.", "documentation: A customer.", "Shorter docs")
	_, err := m.publish(t, deploy, sha2, nil)
	var fe *ForeignCommitsError
	if !errors.As(err, &fe) {
		t.Fatalf("publish over a human commit: %v; want a refusal", err)
	}
	msg := err.Error()
	for _, want := range []string{hot[:12], "Hotfix the customer DAG retries", "Alice Ops <alice@acme.test>", "--force"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("refusal does not name %q:\n%s", want, msg)
		}
	}
	if len(fe.Commits) != 1 || fe.Commits[0].Hash != hot {
		t.Fatalf("refusal names %v", fe.Commits)
	}
	if h := head(t, deploy, "main").Hash.String(); h != hot {
		t.Fatalf("a refused publish moved the branch to %s", h)
	}

	res := m.mustPublish(t, deploy, sha2, func(o *Options) { o.Force = true })
	if res.Commit == "" || len(res.Overwritten) != 1 || res.Overwritten[0].Hash != hot || res.Parent != hot {
		t.Fatalf("forced publish: %+v", res)
	}
	if !contains(res.Changed, dag) {
		t.Fatalf("forced publish does not restore %s: changed %v", dag, res.Changed)
	}
	equalMaps(t, "forced tree", contents(t, head(t, deploy, "main")), treeContents(m.render(t, sha2)))
	// The branch is publish's again: the next publish is not refused.
	if res := m.mustPublish(t, deploy, sha2, nil); res.Commit != "" {
		t.Fatalf("publish after force: %+v", res)
	}
}

func TestPublishKeepsAllowlistedFiles(t *testing.T) {
	m, sha := newModelRepo(t)
	deploy := bareRepo(t)
	// GitLab's "initialize repository with a README": a human commit
	// touching only an allowlisted file is not in publish's way.
	readme := "# Deploy repo\n\nGenerated by datasurface publish; edit the model instead.\n"
	initial := humanCommit(t, deploy, "main", map[string]string{"README.md": readme}, "Initial commit")
	res := m.mustPublish(t, deploy, sha, nil)
	if res.Created || res.Parent != initial {
		t.Fatalf("publish onto the initial commit: %+v", res)
	}
	want := treeContents(m.render(t, sha))
	want["README.md"] = readme
	equalMaps(t, "tree with README", contents(t, head(t, deploy, "main")), want)

	ci := "include: deploy.yml\n"
	readme2 := readme + "\nOwners: data platform team.\n"
	humanCommit(t, deploy, "main", map[string]string{"README.md": readme2, ".gitlab-ci.yml": ci}, "Document the deploy repo and add CI")
	sha2 := m.edit(t, "zones/retail/teams/crm/datastores/customer_db.yaml", "documentation: One row per customer.", "documentation: A customer.", "Shorter docs")
	res = m.mustPublish(t, deploy, sha2, nil)
	if res.Commit == "" {
		t.Fatalf("publish: %s", res.Nothing)
	}
	want = treeContents(m.render(t, sha2))
	want["README.md"], want[".gitlab-ci.yml"] = readme2, ci
	equalMaps(t, "tree with README and CI", contents(t, head(t, deploy, "main")), want)

	// A file outside the allowlist is publish's: adding one is refused,
	// and --force removes it, keeping the allowlisted ones.
	stray := humanCommit(t, deploy, "main", map[string]string{"notes.txt": "todo\n"}, "Add notes")
	_, err := m.publish(t, deploy, sha2, nil)
	var fe *ForeignCommitsError
	if !errors.As(err, &fe) || fe.Commits[0].Hash != stray {
		t.Fatalf("publish over a stray file: %v", err)
	}
	res = m.mustPublish(t, deploy, sha2, func(o *Options) { o.Force = true })
	if strings.Join(res.Removed, " ") != "notes.txt" {
		t.Fatalf("forced publish removed %v", res.Removed)
	}
	equalMaps(t, "tree after force", contents(t, head(t, deploy, "main")), want)
	fsck(t, deploy)
}

func TestPublishRefusesTreeOnAllowlist(t *testing.T) {
	m, sha := newModelRepo(t)
	tree := m.render(t, sha)
	tree.Files["README.md"] = []byte("generated\n")
	_, err := Publish(context.Background(), tree, m.options(bareRepo(t), sha))
	if err == nil || !strings.Contains(err.Error(), "README.md") {
		t.Fatalf("publish of a tree with README.md: %v", err)
	}
}

func TestPublishRetriesWhenRemoteMoved(t *testing.T) {
	m, sha := newModelRepo(t)
	deploy := bareRepo(t)
	m.mustPublish(t, deploy, sha, nil)
	sha2 := m.edit(t, "zones/retail/teams/crm/datastores/customer_db.yaml", "documentation: One row per customer.", "documentation: A customer.", "Shorter docs")

	var moved string
	testHookBeforePush = func(attempt int) {
		if attempt == 0 {
			moved = humanCommit(t, deploy, "main", map[string]string{"README.md": "# Deploy\n"}, "Add a README meanwhile")
		}
	}
	t.Cleanup(func() { testHookBeforePush = nil })
	res := m.mustPublish(t, deploy, sha2, nil)
	if !res.Retried || res.Parent != moved {
		t.Fatalf("publish after the remote moved: %+v (moved to %s)", res, moved)
	}
	c := head(t, deploy, "main")
	if c.Hash.String() != res.Commit || c.ParentHashes[0].String() != moved {
		t.Fatalf("head %s parents %v", c.Hash, c.ParentHashes)
	}
	if contents(t, c)["README.md"] != "# Deploy\n" {
		t.Fatal("the README added meanwhile was lost")
	}

	// A remote that moves on every attempt fails after one retry.
	sha3 := m.edit(t, "zones/retail/teams/crm/datastores/customer_db.yaml", "documentation: A customer.", "documentation: One customer.", "Docs again")
	n := 0
	testHookBeforePush = func(attempt int) {
		n++
		humanCommit(t, deploy, "main", map[string]string{"README.md": "# Deploy " + strings.Repeat("!", n) + "\n"}, "README again")
	}
	_, err := m.publish(t, deploy, sha3, nil)
	var rm *RemoteMovedError
	if !errors.As(err, &rm) || n != 2 {
		t.Fatalf("publish to a remote that keeps moving: %v after %d attempts", err, n)
	}
	if !strings.Contains(err.Error(), "rejected twice") {
		t.Fatalf("message: %v", err)
	}
}

func TestPublishDoesNotPublishAnOlderModel(t *testing.T) {
	m, sha := newModelRepo(t)
	deploy := bareRepo(t)
	sha2 := m.edit(t, "zones/retail/teams/crm/datastores/customer_db.yaml", "documentation: One row per customer.", "documentation: A customer.", "Shorter docs")
	newer := m.mustPublish(t, deploy, sha2, nil)
	// The pipeline of the older model commit runs late.
	res := m.mustPublish(t, deploy, sha, nil)
	if res.Commit != "" || !strings.Contains(res.Nothing, "older model") {
		t.Fatalf("publish of an older model: %+v", res)
	}
	if head(t, deploy, "main").Hash.String() != newer.Commit {
		t.Fatal("branch moved")
	}
	res = m.mustPublish(t, deploy, sha, func(o *Options) { o.Force = true })
	if res.Commit == "" {
		t.Fatalf("forced publish of an older model: %+v", res)
	}
}

func TestPublishOtherBranchAndFileURL(t *testing.T) {
	m, sha := newModelRepo(t)
	deploy := bareRepo(t)
	humanCommit(t, deploy, "main", map[string]string{"README.md": "x\n"}, "Initial commit")
	res := m.mustPublish(t, "file://"+deploy, sha, func(o *Options) { o.Branch = "deploy/prod" })
	if !res.Created {
		t.Fatalf("publish to a new branch of a non-empty repository: %+v", res)
	}
	c := head(t, deploy, "deploy/prod")
	if c == nil || c.NumParents() != 0 {
		t.Fatalf("branch deploy/prod: %v", c)
	}
	if _, ok := contents(t, c)["README.md"]; ok {
		t.Fatal("a new branch starts empty, not from another branch")
	}
}

func TestPublishParseMergeRequest(t *testing.T) {
	for msg, want := range map[string]string{
		mergeMessage: "acme/model!42",
		"Merge branch 'a' into 'main'\n\nSee merge request group/sub.group/my-project!123": "group/sub.group/my-project!123",
		"Squash\n\nSee merge request !7\n":                                                 "!7",
		"Fix typo":                                                                         "",
		"See merge request acme/model!1\n\nSee merge request acme/model!2\n":               "acme/model!2",
		"Please See merge request acme/model!1 later":                                      "",
	} {
		if got := ParseMergeRequest(msg); got != want {
			t.Errorf("ParseMergeRequest(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestPublishDescribeModelFromCI(t *testing.T) {
	sha := strings.Repeat("ab", 20)
	env := map[string]string{
		"CI_COMMIT_SHA":        sha,
		"CI_COMMIT_TITLE":      "Add loyalty tier",
		"CI_COMMIT_MESSAGE":    "Add loyalty tier\n\nbody\n",
		"CI_MERGE_REQUEST_IID": "42",
		"CI_PROJECT_PATH":      "acme/model",
	}
	getenv := func(k string) string { return env[k] }
	got := DescribeModel("", sha, "", getenv)
	if got.Subject != "Add loyalty tier" || got.MergeRequest != "acme/model!42" {
		t.Fatalf("from CI variables: %+v", got)
	}
	// The merge commit message GitLab writes wins over the variables.
	env["CI_COMMIT_MESSAGE"] = "Merge branch 'x' into 'main'\n\nAdd loyalty tier\n\nSee merge request !43"
	if got := DescribeModel("", sha, "", getenv); got.MergeRequest != "acme/model!43" || got.Subject != "Add loyalty tier" {
		t.Fatalf("from the merge commit: %+v", got)
	}
	// Variables of another commit are ignored.
	if got := DescribeModel("", strings.Repeat("cd", 20), "", getenv); got.MergeRequest != "" || got.Subject != "" {
		t.Fatalf("another commit's variables were used: %+v", got)
	}
	msg := Message(ModelInfo{Commit: sha, Subject: "Add loyalty tier", MergeRequest: "acme/model!42"}, "1.2.3", "[skip ci]")
	want := "datasurface: publish model abababababab (acme/model!42) [skip ci]\n\nModel change: Add loyalty tier\n\n" +
		"Model-Commit: " + sha + "\nModel-Merge-Request: acme/model!42\nGenerator-Version: 1.2.3\n"
	if msg != want {
		t.Fatalf("message:\n%s\nwant:\n%s", msg, want)
	}
	if tr := Trailers(msg); tr[TrailerModelCommit] != sha || tr[TrailerGenerator] != "1.2.3" {
		t.Fatalf("trailers %v", tr)
	}
	// A subject cannot forge trailers: it stays on one line of the body.
	forged := Message(ModelInfo{Commit: sha, Subject: "x\n\nModel-Commit: y"}, "v", "")
	if tr := Trailers(forged); tr[TrailerModelCommit] != sha {
		t.Fatalf("forged trailers %v in\n%s", tr, forged)
	}
}

func TestPublishAuthFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if a := AuthFromEnv("https://gitlab.acme.test/acme/deploy.git", getenv); a != nil {
		t.Fatalf("no token: %v", a)
	}
	env[EnvToken] = "glpat-secret"
	a := AuthFromEnv("https://gitlab.acme.test/acme/deploy.git", getenv)
	if a == nil || a.String() != "http-basic-auth - oauth2:*******" {
		t.Fatalf("project token: %v", a)
	}
	if a := AuthFromEnv("/srv/git/deploy.git", getenv); a != nil {
		t.Fatalf("a path got %v", a)
	}
	env["CI_JOB_TOKEN"] = "glpat-secret"
	if a := AuthFromEnv("https://gitlab.acme.test/acme/deploy.git", getenv); a.String() != "http-basic-auth - gitlab-ci-token:*******" {
		t.Fatalf("job token: %v", a)
	}
	env[EnvUser] = "deploy-bot"
	if a := AuthFromEnv("https://gitlab.acme.test/acme/deploy.git", getenv); a.String() != "http-basic-auth - deploy-bot:*******" {
		t.Fatalf("configured user: %v", a)
	}
	if got := Redact("https://u:tok@gitlab.acme.test/x.git"); strings.Contains(got, "tok") {
		t.Fatalf("Redact kept the password: %s", got)
	}
	author, committer := IdentityFromEnv(func(k string) string {
		return map[string]string{"GIT_AUTHOR_NAME": "CI Bot", "GIT_AUTHOR_EMAIL": "ci@acme.test"}[k]
	})
	if author != (Identity{"CI Bot", "ci@acme.test"}) || committer != author {
		t.Fatalf("identity %v %v", author, committer)
	}
}
