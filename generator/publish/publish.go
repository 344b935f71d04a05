// Package publish commits a rendered deploy tree to the deploy repository
// with go-git: one commit per published model commit, on one branch, never
// over changes it did not make.
//
// Ownership: the deploy repository is wholly generated, except a small
// allowlist of paths people maintain (Options.Keep, DefaultKeep: README.md,
// .gitlab-ci.yml, .gitignore, .gitattributes, CODEOWNERS and .gitlab/).
// Publish makes the branch hold exactly the generated tree (MANIFEST.json
// and the files it lists) plus the allowlisted files as they are on the
// branch; any other file is removed. The generated tree may not contain an
// allowlisted path.
//
// A publish commit carries the trailers Model-Commit and Generator-Version
// and is committed by publish's identity. Before publishing, the branch is
// walked back from its head to the last publish commit: a commit on the way
// that changes anything outside the allowlist was not made by publish, and
// publish refuses unless Options.Force. Commits that only touch allowlisted
// files (a README edit, the repository's initial commit with a README) are
// fine. The commit is built from git objects directly: no checkout is made.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/datasurface/datasurface/generator"
)

// DefaultKeep is the allowlist of paths in the deploy repository that people
// maintain and publish never touches. An entry ending in "/" keeps a folder.
var DefaultKeep = []string{"README.md", ".gitlab-ci.yml", ".gitignore", ".gitattributes", "CODEOWNERS", ".gitlab/"}

// Options say where and how to publish.
type Options struct {
	// Repo is the deploy repository: an http(s) or ssh URL, a file:// URL
	// or a path.
	Repo string
	// Branch is the branch to publish to; it is created when absent.
	Branch string
	// Auth authenticates to Repo (nil: none, or go-git's default for ssh).
	Auth transport.AuthMethod
	// Force publishes over commits publish did not make, and over a newer
	// published model.
	Force bool
	// Model describes the model revision, for the commit message.
	Model ModelInfo
	// Version is the generator's version (the Generator-Version trailer).
	Version string
	// MessageSuffix is appended to the commit's subject line (e.g. "[skip ci]").
	MessageSuffix string
	// Author and Committer of the commit; zero values mean DefaultIdentity.
	Author, Committer Identity
	// Keep is the allowlist of human-maintained paths; nil means DefaultKeep.
	Keep []string
	// ModelRepo is the model's git repository, used to tell whether the
	// model commit is older than the one already published; "" skips that.
	ModelRepo string
}

// CommitInfo names a commit for people.
type CommitInfo struct {
	Hash    string
	Subject string
	Author  string // "Name <email>"
}

func (c CommitInfo) String() string {
	return fmt.Sprintf("%s %q by %s", short(c.Hash), c.Subject, c.Author)
}

func commitInfo(c *object.Commit) CommitInfo {
	return CommitInfo{Hash: c.Hash.String(), Subject: firstLine(c.Message), Author: fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email)}
}

// Result says what Publish did.
type Result struct {
	// Repo (password redacted) and Branch published to.
	Repo, Branch string
	// Commit is the new commit; "" when nothing was published.
	Commit string
	// Parent is the branch head the commit was made on; "" when the
	// branch was created.
	Parent string
	// Created says the branch did not exist (or the repository was empty).
	Created bool
	// Added, Changed and Removed are the generated files the commit adds,
	// changes and removes (sorted); Unchanged counts the others.
	Added, Changed, Removed []string
	Unchanged               int
	// Overwritten are the commits publish did not make that Force published
	// over (at most 20; OverwrittenMore counts the rest).
	Overwritten     []CommitInfo
	OverwrittenMore int
	// Nothing says why nothing was published, when nothing was.
	Nothing string
	// Retried says the first push was rejected because the branch moved,
	// and the commit was made again on the new head.
	Retried bool
}

// ForeignCommitsError refuses to publish over commits publish did not make.
type ForeignCommitsError struct {
	Repo, Branch string
	// Commits are the offending commits, newest first (at most 20; More
	// counts the rest).
	Commits []CommitInfo
	More    int
	// Since is the last publish commit (short), "" when there is none.
	Since string
}

func (e *ForeignCommitsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refusing to publish: branch %s of %s has %d commit(s) that publish did not make", e.Branch, e.Repo, len(e.Commits)+e.More)
	if e.Since != "" {
		fmt.Fprintf(&b, " since its last publish commit %s", e.Since)
	}
	b.WriteString(", changing generated files:")
	for _, c := range e.Commits {
		b.WriteString("\n  " + c.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", e.More)
	}
	b.WriteString("\nThe deploy repository is generated from the model: make the change in the model (or the templates) and revert those commits; --force publishes over them, overwriting their changes to generated files.")
	return b.String()
}

// RemoteMovedError is a push rejected twice because the branch moved.
type RemoteMovedError struct {
	Repo, Branch string
	Err          error
}

func (e *RemoteMovedError) Error() string {
	return fmt.Sprintf("push to branch %s of %s was rejected twice because the branch moved while publishing (another publish or a push); publish again: %v", e.Branch, e.Repo, e.Err)
}

func (e *RemoteMovedError) Unwrap() error { return e.Err }

// testHookBeforePush runs before each push attempt (tests move the remote).
var testHookBeforePush func(attempt int)

// Publish commits tree to the branch of the deploy repository and pushes it.
// It makes no commit when the branch already holds the tree's files (see
// Result.Nothing); a push rejected because the branch moved is redone once
// on the new head.
func Publish(ctx context.Context, tree *generator.Tree, opts Options) (*Result, error) {
	if opts.Repo == "" {
		return nil, errors.New("no deploy repository given")
	}
	if opts.Branch == "" {
		return nil, errors.New("no branch given")
	}
	branch := plumbing.NewBranchReferenceName(opts.Branch)
	if err := branch.Validate(); err != nil {
		return nil, fmt.Errorf("branch %q: %w", opts.Branch, err)
	}
	if opts.Keep == nil {
		opts.Keep = DefaultKeep
	}
	if opts.Author == (Identity{}) {
		opts.Author = DefaultIdentity
	}
	if opts.Committer == (Identity{}) {
		opts.Committer = opts.Author
	}
	if _, ok := tree.Files[generator.ManifestName]; !ok {
		return nil, fmt.Errorf("the tree has no %s; render it with generator.Generate", generator.ManifestName)
	}
	for _, p := range tree.Paths() {
		if err := checkPath(p); err != nil {
			return nil, err
		}
		if kept(opts.Keep, p) {
			return nil, fmt.Errorf("the generated tree has %s, which the deploy repository keeps for people (allowlist: %s)", p, strings.Join(opts.Keep, ", "))
		}
	}
	tmp, err := os.MkdirTemp("", "datasurface-publish-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	r, err := git.PlainInit(tmp, true)
	if err != nil {
		return nil, err
	}
	if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{opts.Repo}}); err != nil {
		return nil, fmt.Errorf("deploy repository %s: %w", Redact(opts.Repo), err)
	}
	p := &publisher{r: r, opts: opts, tree: tree, branch: branch}
	for attempt := 0; ; attempt++ {
		res, err := p.prepare(ctx)
		if err != nil || res.Commit == "" {
			return res, err
		}
		res.Retried = attempt > 0
		if testHookBeforePush != nil {
			testHookBeforePush(attempt)
		}
		err = r.PushContext(ctx, &git.PushOptions{
			RemoteName: "origin",
			RefSpecs:   []config.RefSpec{config.RefSpec(branch + ":" + branch)},
			Auth:       opts.Auth,
		})
		if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
			return res, nil
		}
		if !remoteMoved(err) {
			return nil, fmt.Errorf("push to branch %s of %s: %w", opts.Branch, Redact(opts.Repo), err)
		}
		if attempt >= 1 {
			return nil, &RemoteMovedError{Repo: Redact(opts.Repo), Branch: opts.Branch, Err: err}
		}
	}
}

// remoteMoved says a push was rejected because the remote branch is not
// what it was when fetched.
func remoteMoved(err error) bool {
	if errors.Is(err, git.ErrForceNeeded) {
		return true
	}
	s := err.Error()
	for _, m := range []string{"non-fast-forward", "fetch first", "cannot lock ref", "failed to update ref", "stale info"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func checkPath(p string) error {
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.EqualFold(seg, ".git") {
			return fmt.Errorf("the generated tree has an invalid path %q", p)
		}
	}
	return nil
}

// kept says whether path is on the allowlist.
func kept(keep []string, path string) bool {
	for _, k := range keep {
		if strings.HasSuffix(k, "/") {
			if strings.HasPrefix(path, k) {
				return true
			}
		} else if path == k {
			return true
		}
	}
	return false
}

type publisher struct {
	r      *git.Repository
	opts   Options
	tree   *generator.Tree
	branch plumbing.ReferenceName
}

type treeFile struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

// prepare fetches the branch, checks it and commits the tree on it locally.
// A result without Commit published nothing.
func (p *publisher) prepare(ctx context.Context) (*Result, error) {
	res := &Result{Repo: Redact(p.opts.Repo), Branch: p.opts.Branch}
	head, err := p.fetch(ctx)
	if err != nil {
		return nil, err
	}
	s := p.r.Storer
	old := map[string]treeFile{}
	var last *object.Commit
	if head.IsZero() {
		res.Created = true
	} else {
		hc, err := p.r.CommitObject(head)
		if err != nil {
			return nil, err
		}
		res.Parent = head.String()
		foreign, more, l, err := p.walk(ctx, hc)
		if err != nil {
			return nil, fmt.Errorf("read the history of branch %s: %w", p.opts.Branch, err)
		}
		last = l
		if len(foreign) > 0 {
			if !p.opts.Force {
				e := &ForeignCommitsError{Repo: res.Repo, Branch: p.opts.Branch, Commits: foreign, More: more}
				if last != nil {
					e.Since = short(last.Hash.String())
				}
				return nil, e
			}
			res.Overwritten, res.OverwrittenMore = foreign, more
		}
		if old, err = readFiles(hc); err != nil {
			return nil, err
		}
	}
	if last != nil && !p.opts.Force {
		if pub := p.newerPublished(last); pub != "" {
			res.Nothing = fmt.Sprintf("nothing to publish: branch %s already holds model %s, which descends from %s; an older model is not published over a newer one (--force does)", p.opts.Branch, short(pub), p.opts.Model.Short())
			return res, nil
		}
	}

	entries := map[string]treeFile{}
	for path, f := range old {
		if kept(p.opts.Keep, path) {
			entries[path] = f
		}
	}
	for _, path := range p.tree.Paths() {
		b := p.tree.Files[path]
		h := plumbing.ComputeHash(plumbing.BlobObject, b)
		if s.HasEncodedObject(h) != nil {
			if err := writeBlob(s, b); err != nil {
				return nil, err
			}
		}
		entries[path] = treeFile{mode: filemode.Regular, hash: h}
		o, had := old[path]
		switch {
		case !had:
			res.Added = append(res.Added, path)
		case o.hash != h || o.mode != filemode.Regular:
			res.Changed = append(res.Changed, path)
		default:
			res.Unchanged++
		}
	}
	for path := range old {
		if _, gen := p.tree.Files[path]; !gen && !kept(p.opts.Keep, path) {
			res.Removed = append(res.Removed, path)
		}
	}
	sort.Strings(res.Removed)
	if !res.Created {
		if why, ok := p.nothingChanged(res, old); ok {
			res.Added, res.Changed, res.Removed, res.Overwritten, res.OverwrittenMore = nil, nil, nil, nil, 0
			res.Nothing = why
			return res, nil
		}
	}

	th, err := writeTree(s, entries)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	c := &object.Commit{
		Author:    object.Signature{Name: p.opts.Author.Name, Email: p.opts.Author.Email, When: now},
		Committer: object.Signature{Name: p.opts.Committer.Name, Email: p.opts.Committer.Email, When: now},
		Message:   Message(p.opts.Model, p.opts.Version, p.opts.MessageSuffix),
		TreeHash:  th,
	}
	if !head.IsZero() {
		c.ParentHashes = []plumbing.Hash{head}
	}
	obj := s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return nil, err
	}
	ch, err := s.SetEncodedObject(obj)
	if err != nil {
		return nil, err
	}
	if err := s.SetReference(plumbing.NewHashReference(p.branch, ch)); err != nil {
		return nil, err
	}
	res.Commit = ch.String()
	return res, nil
}

// fetch brings the branch into the local repository and returns its head,
// or the zero hash when the repository is empty or has no such branch.
func (p *publisher) fetch(ctx context.Context) (plumbing.Hash, error) {
	remote := plumbing.NewRemoteReferenceName("origin", p.opts.Branch)
	err := p.r.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{config.RefSpec("+" + p.branch + ":" + remote)},
		Auth:       p.opts.Auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	switch {
	case err == nil || errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.Is(err, transport.ErrEmptyRemoteRepository) || errors.Is(err, git.NoMatchingRefSpecError{}):
		_ = p.r.Storer.RemoveReference(remote)
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, fmt.Errorf("fetch branch %s of %s: %w", p.opts.Branch, Redact(p.opts.Repo), err)
	}
	ref, err := p.r.Reference(remote, true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return ref.Hash(), nil
}

// maxListed bounds the commits a refusal names.
const maxListed = 20

// walk follows the branch's first parents from head to the last publish
// commit and returns the commits on the way that change files publish owns.
func (p *publisher) walk(ctx context.Context, head *object.Commit) (foreign []CommitInfo, more int, last *object.Commit, err error) {
	for c := head; ; {
		if err := ctx.Err(); err != nil {
			return nil, 0, nil, err
		}
		if p.isPublishCommit(c) {
			return foreign, more, c, nil
		}
		owned, err := p.touchesOwned(ctx, c)
		if err != nil {
			return nil, 0, nil, err
		}
		if owned {
			if len(foreign) < maxListed {
				foreign = append(foreign, commitInfo(c))
			} else {
				more++
			}
		}
		if c.NumParents() == 0 {
			return foreign, more, nil, nil
		}
		if c, err = c.Parent(0); err != nil {
			return nil, 0, nil, err
		}
	}
}

// isPublishCommit recognizes a commit publish made: its trailers, and its
// committer (publish's identity now, or the default one).
func (p *publisher) isPublishCommit(c *object.Commit) bool {
	t := Trailers(c.Message)
	if t[TrailerModelCommit] == "" || t[TrailerGenerator] == "" {
		return false
	}
	e := c.Committer.Email
	return strings.EqualFold(e, p.opts.Committer.Email) || strings.EqualFold(e, DefaultIdentity.Email)
}

// touchesOwned says whether a commit changes a path outside the allowlist,
// compared with its first parent.
func (p *publisher) touchesOwned(ctx context.Context, c *object.Commit) (bool, error) {
	t, err := c.Tree()
	if err != nil {
		return false, err
	}
	var pt *object.Tree
	if c.NumParents() > 0 {
		pc, err := c.Parent(0)
		if err != nil {
			return false, err
		}
		if pt, err = pc.Tree(); err != nil {
			return false, err
		}
	}
	changes, err := object.DiffTreeWithOptions(ctx, pt, t, nil)
	if err != nil {
		return false, err
	}
	for _, ch := range changes {
		for _, name := range []string{ch.From.Name, ch.To.Name} {
			if name != "" && !kept(p.opts.Keep, name) {
				return true, nil
			}
		}
	}
	return false, nil
}

// newerPublished returns the model commit of the last publish commit when
// the model commit being published is a strict ancestor of it (a pipeline of
// an older model commit running late), or "" when it is not or cannot be
// told (no model repository, a shallow clone, a folder).
func (p *publisher) newerPublished(last *object.Commit) string {
	pub := Trailers(last.Message)[TrailerModelCommit]
	cur := p.opts.Model.Commit
	if cur == "" || p.opts.ModelRepo == "" || pub == "" || strings.EqualFold(pub, cur) || !plumbing.IsHash(pub) {
		return ""
	}
	r, err := git.PlainOpenWithOptions(p.opts.ModelRepo, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return ""
	}
	pc, err := r.CommitObject(plumbing.NewHash(pub))
	if err != nil {
		return ""
	}
	cc, err := r.CommitObject(plumbing.NewHash(cur))
	if err != nil {
		return ""
	}
	// The usual case first: the published model is an ancestor of this
	// one, found quickly walking back from this one.
	if ok, err := pc.IsAncestor(cc); err != nil || ok {
		return ""
	}
	if ok, err := cc.IsAncestor(pc); err == nil && ok {
		return pub
	}
	return ""
}

// nothingChanged says whether the branch already holds the tree: no
// generated file added, changed or removed, except MANIFEST.json when only
// its model commit or generator version differ (a model commit that changes
// no artifact is not published: the branch keeps naming the model commit
// that last changed them).
func (p *publisher) nothingChanged(res *Result, old map[string]treeFile) (string, bool) {
	if len(res.Added) > 0 || len(res.Removed) > 0 {
		return "", false
	}
	base := fmt.Sprintf("nothing to publish: branch %s at %s already holds these files", p.opts.Branch, short(res.Parent))
	switch {
	case len(res.Changed) == 0:
		return base, true
	case len(res.Changed) > 1 || res.Changed[0] != generator.ManifestName:
		return "", false
	}
	oldM, err := readManifest(p.r.Storer, old[generator.ManifestName].hash)
	if err != nil {
		return "", false
	}
	var newM generator.Manifest
	if json.Unmarshal(p.tree.Files[generator.ManifestName], &newM) != nil || !slices.Equal(oldM.Files, newM.Files) {
		return "", false
	}
	from := oldM.ModelCommit
	if from == "" {
		from = "a folder"
	} else {
		from = "model " + short(from)
	}
	return base + fmt.Sprintf(" (published from %s; this model renders the same files)", from), true
}

func readManifest(s storer.EncodedObjectStorer, h plumbing.Hash) (*generator.Manifest, error) {
	b, err := object.GetBlob(s, h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	var m generator.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// readFiles lists every non-folder entry of a commit's tree.
func readFiles(c *object.Commit) (map[string]treeFile, error) {
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	out := map[string]treeFile{}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Mode != filemode.Dir {
			out[name] = treeFile{mode: e.Mode, hash: e.Hash}
		}
	}
}

func writeBlob(s storer.EncodedObjectStorer, b []byte) error {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(b)))
	w, err := obj.Writer()
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	_, err = s.SetEncodedObject(obj)
	return err
}

type dirNode struct {
	files map[string]treeFile
	dirs  map[string]*dirNode
}

func newDirNode() *dirNode {
	return &dirNode{files: map[string]treeFile{}, dirs: map[string]*dirNode{}}
}

// writeTree stores the tree objects holding entries and returns the root's
// hash.
func writeTree(s storer.EncodedObjectStorer, entries map[string]treeFile) (plumbing.Hash, error) {
	root := newDirNode()
	for path, f := range entries {
		parts := strings.Split(path, "/")
		d := root
		for _, part := range parts[:len(parts)-1] {
			child := d.dirs[part]
			if child == nil {
				child = newDirNode()
				d.dirs[part] = child
			}
			d = child
		}
		d.files[parts[len(parts)-1]] = f
	}
	return writeDir(s, root, "")
}

func writeDir(s storer.EncodedObjectStorer, d *dirNode, at string) (plumbing.Hash, error) {
	es := make([]object.TreeEntry, 0, len(d.files)+len(d.dirs))
	for name, f := range d.files {
		if _, clash := d.dirs[name]; clash {
			return plumbing.ZeroHash, fmt.Errorf("%s%s would be both a file and a folder", at, name)
		}
		es = append(es, object.TreeEntry{Name: name, Mode: f.mode, Hash: f.hash})
	}
	for name, sub := range d.dirs {
		h, err := writeDir(s, sub, at+name+"/")
		if err != nil {
			return plumbing.ZeroHash, err
		}
		es = append(es, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	sort.Sort(object.TreeEntrySorter(es))
	obj := s.NewEncodedObject()
	if err := (&object.Tree{Entries: es}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}
