package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runPublish runs a datasurface command line with the publish command
// registered, as run does, and returns the exit code and outputs.
func runPublish(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	root := newRoot()
	registered := false
	for _, c := range root.Commands() {
		registered = registered || c.Name() == "publish"
	}
	if !registered {
		root.AddCommand(newPublishCmd())
	}
	var stdout, stderr bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	code := exitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitUnread
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if ee == nil || ee.err != nil {
			stderr.WriteString("datasurface: " + err.Error() + "\n")
		}
	}
	return code, stdout.String(), stderr.String()
}

// publishEnv clears what publish reads from the environment (a CI job
// running the tests has some of it).
func publishEnv(t *testing.T) {
	for _, k := range []string{"DATASURFACE_DEPLOY_REPO", "DATASURFACE_DEPLOY_TOKEN", "DATASURFACE_DEPLOY_USER",
		"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
		"CI_COMMIT_SHA", "CI_COMMIT_TITLE", "CI_COMMIT_MESSAGE", "CI_MERGE_REQUEST_IID", "CI_PROJECT_PATH", "CI_MERGE_REQUEST_PROJECT_PATH", "CI_JOB_TOKEN"} {
		t.Setenv(k, "")
	}
}

// publishCommitAll stages everything in a worktree and commits it.
func publishCommitAll(t *testing.T, r *git.Repository, msg, who string) string {
	t.Helper()
	wt, err := r.Worktree()
	require.NoError(t, err)
	require.NoError(t, wt.AddWithOptions(&git.AddOptions{All: true}))
	sig := &object.Signature{Name: who, Email: strings.ToLower(strings.Fields(who)[0]) + "@acme.test", When: time.Now()}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	require.NoError(t, err)
	return h.String()
}

// publishModelRepo is examples/customer-cdc committed, with go-git, as
// GitLab commits a merge.
func publishModelRepo(t *testing.T) (string, *git.Repository, string) {
	t.Helper()
	dir := t.TempDir()
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
	r, err := git.PlainInit(dir, false)
	require.NoError(t, err)
	sha := publishCommitAll(t, r, "Merge branch 'crm' into 'main'\n\nAdd the customer database\n\nSee merge request acme/model!42\n", "Modeller Bee")
	return dir, r, sha
}

func publishBranchHead(t *testing.T, bare, branch string) *object.Commit {
	t.Helper()
	r, err := git.PlainOpen(bare)
	require.NoError(t, err)
	ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
	require.NoError(t, err)
	c, err := r.CommitObject(ref.Hash())
	require.NoError(t, err)
	return c
}

func TestPublishCommand(t *testing.T) {
	publishEnv(t)
	modelDir, modelRepo, sha := publishModelRepo(t)
	deploy := t.TempDir()
	_, err := git.PlainInit(deploy, true)
	require.NoError(t, err)

	// First publish: creates the branch.
	code, out, errOut := runPublish(t, "publish", "--repo", modelDir, "--deploy-repo", deploy, "--branch", "main", "--message-suffix", "[skip ci]")
	require.Equal(t, 0, code, errOut)
	c := publishBranchHead(t, deploy, "main")
	assert.Contains(t, out, "published model "+sha[:12]+" to "+deploy+" branch main (new branch): ")
	// stdout is the result, not a line per file; progress is on stderr.
	assert.NotContains(t, out, "added   MANIFEST.json")
	assert.Contains(t, errOut, "publish: loading the model from "+modelDir+" at HEAD ...\n")
	assert.Regexp(t, `publish: loaded the model: 9 files, 3 datasets, 22 columns \(\d+\.\d\ds\)\n`, errOut)
	assert.Regexp(t, `publish: rendered 10 files \(`, errOut)
	assert.Contains(t, errOut, "publish: committed and pushed (")
	assert.Contains(t, out, "commit "+c.Hash.String()+"\n")
	assert.True(t, strings.HasPrefix(c.Message, "datasurface: publish model "+sha[:12]+" (acme/model!42) [skip ci]\n"), c.Message)
	assert.Contains(t, c.Message, "\nModel-Commit: "+sha+"\n")
	assert.Contains(t, c.Message, "\nGenerator-Version: "+version+"\n")
	assert.Equal(t, "DataSurface <datasurface@localhost>", c.Author.Name+" <"+c.Author.Email+">")

	// Same model again: nothing to publish, exit 0.
	code, out, errOut = runPublish(t, "publish", "--repo", modelDir, "--rev", "HEAD", "--deploy-repo", deploy)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "nothing to publish")
	assert.Equal(t, c.Hash, publishBranchHead(t, deploy, "main").Hash)

	// A person commits a generated file on the deploy branch.
	work := t.TempDir()
	wr, err := git.PlainClone(work, false, &git.CloneOptions{URL: deploy, ReferenceName: "refs/heads/main"})
	require.NoError(t, err)
	dag := filepath.Join(work, "platforms", "lakehouse", "dags", "lakehouse__customer_db.py")
	b, err := os.ReadFile(dag)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dag, append(b, "# hand edit\n"...), 0o644))
	hot := publishCommitAll(t, wr, "Hand-tune the customer DAG", "Alice Ops")
	require.NoError(t, wr.Push(&git.PushOptions{RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/main"}}))

	// A model change is refused over it, naming it.
	customers := filepath.Join(modelDir, "zones/retail/teams/crm/datastores/customer_db.yaml")
	b, err = os.ReadFile(customers)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(customers, bytes.Replace(b, []byte("documentation: One row per customer."), []byte("documentation: A customer."), 1), 0o644))
	sha2 := publishCommitAll(t, modelRepo, "Shorter docs\n\nSee merge request acme/model!43\n", "Modeller Bee")
	code, _, errOut = runPublish(t, "publish", "--repo", modelDir, "--deploy-repo", deploy)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "refusing to publish")
	assert.Contains(t, errOut, hot[:12]+` "Hand-tune the customer DAG" by Alice Ops <alice@acme.test>`)
	assert.Equal(t, hot, publishBranchHead(t, deploy, "main").Hash.String())

	// --force publishes over it and says so.
	code, out, errOut = runPublish(t, "publish", "--repo", modelDir, "--deploy-repo", deploy, "--force", "--list", "--quiet")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, errOut, "publish: ", "--quiet prints no progress")
	assert.Contains(t, errOut, "warning: --force: published over 1 commit(s)")
	assert.Contains(t, errOut, hot[:12])
	assert.Contains(t, out, "changed platforms/lakehouse/dags/lakehouse__customer_db.py")
	c = publishBranchHead(t, deploy, "main")
	assert.Equal(t, hot, c.ParentHashes[0].String())
	assert.True(t, strings.HasPrefix(c.Message, "datasurface: publish model "+sha2[:12]+" (acme/model!43)\n"), c.Message)
}

func TestPublishCommandFolderAndIdentity(t *testing.T) {
	publishEnv(t)
	t.Setenv("GIT_AUTHOR_NAME", "Deploy Bot")
	t.Setenv("GIT_AUTHOR_EMAIL", "deploy-bot@acme.test")
	deploy := t.TempDir()
	_, err := git.PlainInit(deploy, true)
	require.NoError(t, err)
	code, out, errOut := runPublish(t, "publish", "../../examples/customer-cdc", "--deploy-repo", "file://"+deploy, "--branch", "deploy/dev")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "published a folder to file://"+deploy+" branch deploy/dev (new branch)")
	c := publishBranchHead(t, deploy, "deploy/dev")
	assert.True(t, strings.HasPrefix(c.Message, "datasurface: publish model from a folder\n"), c.Message)
	assert.Contains(t, c.Message, "\nModel-Commit: none\n")
	assert.Equal(t, "Deploy Bot", c.Author.Name)
	assert.Equal(t, "deploy-bot@acme.test", c.Committer.Email)
	// Publish recognizes its own commit under that identity.
	code, out, errOut = runPublish(t, "publish", "../../examples/customer-cdc", "--deploy-repo", deploy, "--branch", "deploy/dev")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "nothing to publish")
}

func TestPublishCommandUsage(t *testing.T) {
	publishEnv(t)
	code, _, errOut := runPublish(t, "publish", "--repo", ".")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--deploy-repo is required")
	code, _, errOut = runPublish(t, "publish", "../../examples/customer-cdc", "--rev", "HEAD", "--deploy-repo", t.TempDir())
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "not both")
	code, _, errOut = runPublish(t, "publish", "../../examples/customer-cdc", "--deploy-repo", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "fetch branch main of")
}
