package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// GitSource reads a model from a revision of a git repository, from its
// objects, without a checkout. Dir is the model's folder inside the
// repository ("" for its root).
type GitSource struct {
	Repo string
	Rev  string
	Dir  string

	commit  string
	storage *filesystem.Storage
	readers sync.Pool // of *filesystem.Storage, for ReadFile
	opened  []*filesystem.Storage
	blobs   map[string]plumbing.Hash
	mu      sync.Mutex // guards storage and opened
}

// LoadGit loads the model at rev (a branch, tag, commit or any revision git
// understands, e.g. HEAD~1) of the repository at repo.
func LoadGit(ctx context.Context, repo, rev, dir string) (*Model, []*LoadError, error) {
	return Load(ctx, &GitSource{Repo: repo, Rev: rev, Dir: dir})
}

func (g *GitSource) Describe() string { return g.Repo + "@" + g.Rev }
func (g *GitSource) Commit() string   { return g.commit }
func (g *GitSource) Display(name string) string {
	if g.Dir == "" {
		return name
	}
	return path.Join(g.Dir, name)
}

func (g *GitSource) Files(ctx context.Context) ([]string, error) {
	r, err := git.PlainOpenWithOptions(g.Repo, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository %s: %w", g.Repo, err)
	}
	// Reopen the object storage keeping pack files open: otherwise every
	// object read opens and closes the pack again. Close releases them.
	if fst, ok := r.Storer.(*filesystem.Storage); ok {
		g.Close()
		g.storage = filesystem.NewStorageWithOptions(fst.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
		if kept, err := git.Open(g.storage, nil); err == nil {
			r = kept
		}
	}
	h, err := r.ResolveRevision(plumbing.Revision(g.Rev))
	if err != nil {
		return nil, fmt.Errorf("resolve revision %q in %s: %w", g.Rev, g.Repo, err)
	}
	c, err := r.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	g.commit = h.String()
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", h, err)
	}
	if dir := strings.Trim(g.Dir, "/"); dir != "" && dir != "." {
		if tree, err = tree.Tree(dir); err != nil {
			return nil, fmt.Errorf("folder %s at %s: %w", dir, g.Rev, err)
		}
	}
	// Walk the tree's entries: names, modes and hashes, without reading blobs.
	g.blobs = map[string]plumbing.Hash{}
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name, entry, err := w.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read tree of %s: %w", h, err)
		}
		if entry.Mode.IsFile() {
			g.blobs[name] = entry.Hash
		}
	}
	names := make([]string, 0, len(g.blobs))
	for n := range g.blobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// ReadFile reads a file listed by Files. Readers run in parallel, each
// with an object storage of its own (go-git's is not safe for concurrent
// use), taken from a pool that Close empties.
func (g *GitSource) ReadFile(name string) ([]byte, error) {
	hash, ok := g.blobs[name]
	if !ok {
		return nil, fmt.Errorf("%s: not in %s", name, g.Describe())
	}
	st, err := g.reader()
	if err != nil {
		return nil, err
	}
	defer g.readers.Put(st)
	obj, err := st.EncodedObject(plumbing.BlobObject, hash)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", name, g.Describe(), err)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// reader takes an object storage from the pool, opening one if none is free.
func (g *GitSource) reader() (*filesystem.Storage, error) {
	if st, ok := g.readers.Get().(*filesystem.Storage); ok {
		return st, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.storage == nil {
		return nil, fmt.Errorf("%s: read after Close", g.Describe())
	}
	st := filesystem.NewStorageWithOptions(g.storage.Filesystem(), cache.NewObjectLRU(8<<20), filesystem.Options{KeepDescriptors: true})
	g.opened = append(g.opened, st)
	return st, nil
}

// Close releases the pack files Files opened; reading again needs Files.
func (g *GitSource) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.storage == nil {
		return nil
	}
	errs := []error{g.storage.Close()}
	for _, st := range g.opened {
		errs = append(errs, st.Close())
	}
	g.storage, g.opened, g.readers = nil, nil, sync.Pool{}
	return errors.Join(errs...)
}

// FileHash is the blob hash of a file listed by Files, so two revisions'
// files compare without being read.
func (g *GitSource) FileHash(name string) (string, bool) {
	h, ok := g.blobs[name]
	if !ok {
		return "", false
	}
	return h.String(), true
}
