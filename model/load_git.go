package model

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// GitSource reads a model from a revision of a git repository, from its
// objects, without a checkout. Dir is the model's folder inside the
// repository ("" for its root).
//
// WorkTree, when set, reads each file from the repository's working tree
// instead of the object store when the working tree's file is a regular
// file whose git blob hash is the revision's (a checkout of it, as a CI job
// has): the bytes are the revision's either way, and reading them in place
// is faster than inflating objects. Anything else (a file missing, changed,
// a link, a checkout's line-ending conversion) is read from git.
type GitSource struct {
	Repo     string
	Rev      string
	Dir      string
	WorkTree bool

	commit   string
	root     plumbing.Hash // the tree of Dir at Rev
	workRoot string        // the working tree's folder, when read from
	storage  *filesystem.Storage
	readers  sync.Pool // of *filesystem.Storage, for ReadFile
	opened   []*filesystem.Storage
	blobs    map[string]plumbing.Hash
	mu       sync.Mutex // guards storage and opened
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

// Files lists the model files at the revision, by the layout's rules (see
// IsModelPath).
func (g *GitSource) Files(ctx context.Context) ([]string, error) {
	names, _, err := g.walkModel(ctx)
	return names, err
}

func (g *GitSource) walkModel(ctx context.Context) ([]string, []*LoadError, error) {
	r, err := git.PlainOpenWithOptions(g.Repo, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, nil, fmt.Errorf("open git repository %s: %w", g.Repo, err)
	}
	g.workRoot = ""
	if g.WorkTree {
		if wt, err := r.Worktree(); err == nil {
			g.workRoot = wt.Filesystem.Root()
		}
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
		return nil, nil, fmt.Errorf("resolve revision %q in %s: %w", g.Rev, g.Repo, err)
	}
	c, err := r.CommitObject(*h)
	if err != nil {
		return nil, nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	g.commit = h.String()
	tree, err := c.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("read tree of %s: %w", h, err)
	}
	if dir := g.dir(); dir != "" {
		if tree, err = tree.Tree(dir); err != nil {
			return nil, nil, fmt.Errorf("folder %s at %s: %w", dir, g.Rev, err)
		}
	}
	g.root = tree.Hash
	// The walk reads trees only: names, modes and hashes, no blobs.
	files, refused, err := walkModel(ctx, g, g.Display)
	if err != nil {
		return nil, nil, fmt.Errorf("read tree of %s: %w", h, err)
	}
	g.blobs = make(map[string]plumbing.Hash, len(files))
	for _, f := range files {
		g.blobs[f.path] = f.ref
	}
	return paths(files), refused, nil
}

// dir is the model's folder in the repository, "" for its root.
func (g *GitSource) dir() string {
	if dir := strings.Trim(g.Dir, "/"); dir != "." {
		return dir
	}
	return ""
}

// list reads one tree: its entries' names, kinds (from their git modes) and
// object hashes.
func (g *GitSource) list(dir walked) ([]dirEntry, error) {
	h := dir.ref
	if dir.path == "" {
		h = g.root
	}
	// Trees are read one at a time from the revision's own storage: they
	// are small and share delta bases, and a reader each would hold a
	// cache and a pack index each for the rest of the load.
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.storage == nil {
		return nil, fmt.Errorf("%s: read after Close", g.Describe())
	}
	obj, err := g.storage.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir.path, err)
	}
	var t object.Tree
	if err := t.Decode(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", dir.path, err)
	}
	out := make([]dirEntry, len(t.Entries))
	for i, e := range t.Entries {
		k := entryOther
		switch e.Mode {
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			k = entryFile
		case filemode.Dir:
			k = entryDir
		case filemode.Symlink:
			k = entrySymlink
		case filemode.Submodule:
			k = entrySubmodule
		}
		out[i] = dirEntry{name: e.Name, kind: k, ref: e.Hash}
	}
	return out, nil
}

// ReadFile reads a file listed by Files. Readers run in parallel, each
// with an object storage of its own (go-git's is not safe for concurrent
// use), taken from a pool that Close empties.
func (g *GitSource) ReadFile(name string) ([]byte, error) {
	return g.readLimited(name, maxReadable)
}

func (g *GitSource) readLimited(name string, max int64) ([]byte, error) {
	hash, ok := g.blobs[name]
	if !ok {
		return nil, fmt.Errorf("%s: not in %s", name, g.Describe())
	}
	if g.workRoot != "" {
		p := filepath.Join(g.workRoot, filepath.FromSlash(path.Join(g.dir(), name)))
		if b, err := readFileLimited(p, max); err == nil && blobSum(b) == hash {
			return b, nil
		}
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
	// The size is the object header's: a large blob is refused before it
	// is inflated.
	size := obj.Size()
	if size > max {
		return nil, &tooLargeError{size: size, limit: max}
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%s at %s: %w", name, g.Describe(), err)
	}
	return b, nil
}

// blobSum is the git blob hash of content.
func blobSum(content []byte) plumbing.Hash {
	h := sha1.New()
	var hdr [32]byte
	h.Write(strconv.AppendInt(append(hdr[:0], "blob "...), int64(len(content)), 10))
	h.Write([]byte{0})
	h.Write(content)
	var out plumbing.Hash
	h.Sum(out[:0])
	return out
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

func (g *GitSource) knownHash(name string) (string, bool) { return g.FileHash(name) }
