package check

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// CodeOutsideModel is a file outside the model's layout changed by a source
// that does not own the ecosystem.
const CodeOutsideModel = "auth-outside-model"

// maxOutsideProblems caps the problems of one check's files outside the
// model; the rest are counted in one more.
const maxOutsideProblems = 100

// IsModelPath reports whether name, slash-separated and relative to the
// model's folder, is a place in the model's layout; it is the loader's own
// rule (model.IsModelPath), so check judges exactly the files every
// command reads.
func IsModelPath(name string) bool { return model.IsModelPath(name) }

// Side is one side of a change: a revision of a git repository (Repo and
// Rev), or a folder (Dir).
type Side struct {
	Repo, Rev string
	Dir       string
}

func (s Side) isRev() bool { return s.Rev != "" }

// PathChange is a file that differs between two sides.
type PathChange struct {
	// Path is slash-separated, from the repository's root when both sides
	// are revisions of one repository, else from the model's folder.
	Path string
	// Base and Head are the file's modes on each side; filemode.Empty where
	// it is absent.
	Base, Head filemode.FileMode
}

// Change says what happened to the file: added, removed or changed.
func (c PathChange) Change() string {
	switch {
	case c.Base == filemode.Empty:
		return "added"
	case c.Head == filemode.Empty:
		return "removed"
	}
	return "changed"
}

// ChangedPaths lists the files that differ between base and head. Two
// revisions of one repository are compared from the root of their trees,
// by entry mode and hash, descending only into folders whose hashes differ
// and reading no blob; the result's paths are then the repository's, and
// modelDir is the model's folder in them. Any other pair compares the
// model's folder of each side (a revision's subtree at modelDir, or the
// folder itself), and the returned folder is "".
func ChangedPaths(ctx context.Context, base, head Side, modelDir string) (changes []PathChange, dir string, err error) {
	modelDir = cleanDir(modelDir)
	if base.isRev() && head.isRev() && filepath.Clean(base.Repo) == filepath.Clean(head.Repo) {
		r, err := git.PlainOpenWithOptions(base.Repo, &git.PlainOpenOptions{DetectDotGit: true})
		if err != nil {
			return nil, "", fmt.Errorf("open git repository %s: %w", base.Repo, err)
		}
		bt, err := revTree(r, base.Rev)
		if err != nil {
			return nil, "", err
		}
		ht, err := revTree(r, head.Rev)
		if err != nil {
			return nil, "", err
		}
		d := &treeDiff{ctx: ctx, s: r.Storer}
		if err := d.trees(bt, ht, ""); err != nil {
			return nil, "", err
		}
		sort.Slice(d.out, func(i, j int) bool { return d.out[i].Path < d.out[j].Path })
		return d.out, modelDir, nil
	}
	be, err := sideFiles(ctx, base, modelDir)
	if err != nil {
		return nil, "", err
	}
	he, err := sideFiles(ctx, head, modelDir)
	if err != nil {
		return nil, "", err
	}
	for name, b := range be {
		h, ok := he[name]
		switch {
		case !ok:
			changes = append(changes, PathChange{Path: name, Base: b.mode})
		case b != h:
			changes = append(changes, PathChange{Path: name, Base: b.mode, Head: h.mode})
		}
	}
	for name, h := range he {
		if _, ok := be[name]; !ok {
			changes = append(changes, PathChange{Path: name, Head: h.mode})
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return changes, "", nil
}

// OutsideModel returns the changes that are not model files of the model
// in modelDir: every path outside the folder and, inside it, every path
// that is not in the layout (IsModelPath) or is there as something other
// than a regular file (a symbolic link, a submodule).
func OutsideModel(changes []PathChange, modelDir string) []PathChange {
	modelDir = cleanDir(modelDir)
	var out []PathChange
	for _, c := range changes {
		rel, inside := c.Path, true
		if modelDir != "" {
			rel, inside = strings.CutPrefix(c.Path, modelDir+"/")
		}
		if inside && IsModelPath(rel) && isFileOrAbsent(c.Base) && isFileOrAbsent(c.Head) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// OutsideModelProblems are the errors for changes outside the model (from
// OutsideModel) unless source owns the ecosystem: those files are nobody's
// region, so they are the ecosystem owner's. display turns a change's path
// into the file the problem names.
func OutsideModelProblems(changes []PathChange, display func(string) string, ecosystemOwner, source string) []lint.Problem {
	if len(changes) == 0 || (ecosystemOwner != "" && ecosystemOwner == strings.TrimSpace(source)) {
		return nil
	}
	who := "this merge request's source " + source
	if strings.TrimSpace(source) == "" {
		who = "this merge request's source, which is unknown"
	}
	owner, todo := "owned by "+ecosystemOwner, "make this change from "+ecosystemOwner+", or take it out of this merge request"
	if ecosystemOwner == "" {
		owner, todo = "owned by nobody (the base's ecosystem.yaml names no owner)", "declare the ecosystem's owner first, or take this change out of this merge request"
	}
	var ps []lint.Problem
	for i, c := range changes {
		if i == maxOutsideProblems {
			ps = append(ps, lint.Problem{Code: CodeOutsideModel, Severity: lint.Error, Path: "ecosystem",
				Message: fmt.Sprintf("%d more files outside the model's layout changed; the ecosystem's files are %s, not by %s; %s", len(changes)-i, owner, who, todo)})
			break
		}
		what := c.Change()
		if k := kindOf(c.Head); k != "" {
			what += " (now " + k + ")"
		} else if k := kindOf(c.Base); k != "" && c.Head != filemode.Empty {
			what += " (was " + k + ")"
		}
		f := display(c.Path)
		ps = append(ps, lint.Problem{Code: CodeOutsideModel, Severity: lint.Error, Path: "ecosystem",
			Pos: model.Pos{File: f, Line: 1, Col: 1},
			Message: fmt.Sprintf("%s was %s, but it is not a model file: only ecosystem.yaml, zones/<zone>/zone.yaml, "+
				"zones/<zone>/teams/<team>/team.yaml and their datastores/*.yaml and workspaces/*.yaml, as regular files, belong to a region; "+
				"every other file (CI configuration, CODEOWNERS, scripts) is the ecosystem's, %s, not by %s; %s", f, what, owner, who, todo)})
	}
	return ps
}

// AddProblems adds findings made outside Run (the files outside the model,
// how the source was learnt) to the result, in the order Run keeps.
func (r *Result) AddProblems(ps ...lint.Problem) {
	if len(ps) == 0 {
		return
	}
	r.Problems = append(r.Problems, ps...)
	lint.Sort(r.Problems)
}

func kindOf(m filemode.FileMode) string {
	switch m {
	case filemode.Symlink:
		return "a symbolic link"
	case filemode.Submodule:
		return "a submodule"
	}
	return ""
}

func isFileOrAbsent(m filemode.FileMode) bool {
	return m == filemode.Empty || m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
}

func cleanDir(dir string) string {
	dir = path.Clean(strings.Trim(filepath.ToSlash(dir), "/"))
	if dir == "." {
		return ""
	}
	return dir
}

func revTree(r *git.Repository, rev string) (*object.Tree, error) {
	h, err := r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("resolve revision %q: %w", rev, err)
	}
	c, err := r.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", h, err)
	}
	return t, nil
}

// treeDiff compares two git trees entry by entry.
type treeDiff struct {
	ctx context.Context
	s   storer.EncodedObjectStorer
	out []PathChange
}

func (d *treeDiff) trees(a, b *object.Tree, prefix string) error {
	if err := d.ctx.Err(); err != nil {
		return err
	}
	ae, err := entries(a, prefix)
	if err != nil {
		return err
	}
	be, err := entries(b, prefix)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ae)+len(be))
	for n := range ae {
		names = append(names, n)
	}
	for n := range be {
		if _, ok := ae[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		x, inA := ae[name]
		y, inB := be[name]
		p := path.Join(prefix, name)
		if inA && inB && x.Hash == y.Hash && x.Mode == y.Mode {
			continue
		}
		aDir, bDir := inA && x.Mode == filemode.Dir, inB && y.Mode == filemode.Dir
		if aDir && bDir {
			xt, err := object.GetTree(d.s, x.Hash)
			if err != nil {
				return err
			}
			yt, err := object.GetTree(d.s, y.Hash)
			if err != nil {
				return err
			}
			if err := d.trees(xt, yt, p); err != nil {
				return err
			}
			continue
		}
		if aDir {
			if err := d.all(x.Hash, p, true); err != nil {
				return err
			}
		}
		if bDir {
			if err := d.all(y.Hash, p, false); err != nil {
				return err
			}
		}
		c := PathChange{Path: p}
		if inA && !aDir {
			c.Base = x.Mode
		}
		if inB && !bDir {
			c.Head = y.Mode
		}
		if c.Base != filemode.Empty || c.Head != filemode.Empty {
			d.out = append(d.out, c)
		}
	}
	return nil
}

// all lists every file under the tree at hash as removed (base) or added.
func (d *treeDiff) all(hash plumbing.Hash, prefix string, base bool) error {
	t, err := object.GetTree(d.s, hash)
	if err != nil {
		return err
	}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if e.Mode == filemode.Dir {
			continue
		}
		c := PathChange{Path: path.Join(prefix, name)}
		if base {
			c.Base = e.Mode
		} else {
			c.Head = e.Mode
		}
		d.out = append(d.out, c)
	}
}

// entries maps a tree's entries by name. A name held twice is refused: git
// reads the first entry (git fsck calls it duplicateEntries), a map keeps
// the last, so a second entry could hide a change from the comparison.
func entries(t *object.Tree, prefix string) (map[string]object.TreeEntry, error) {
	m := make(map[string]object.TreeEntry, len(t.Entries))
	for _, e := range t.Entries {
		if _, dup := m[e.Name]; dup {
			return nil, fmt.Errorf("%s: the git tree %s holds two entries named %q (git fsck: duplicateEntries); rewrite the commit with git's own tools", path.Join(prefix, e.Name), t.Hash, e.Name)
		}
		m[e.Name] = e
	}
	return m, nil
}

// file is a file as ChangedPaths compares it. A model file's content is
// left out: the model comparison judges it.
type file struct {
	mode filemode.FileMode
	hash string
}

// sideFiles lists the files of a side's model folder.
func sideFiles(ctx context.Context, s Side, modelDir string) (map[string]file, error) {
	out := map[string]file{}
	if s.isRev() {
		r, err := git.PlainOpenWithOptions(s.Repo, &git.PlainOpenOptions{DetectDotGit: true})
		if err != nil {
			return nil, fmt.Errorf("open git repository %s: %w", s.Repo, err)
		}
		t, err := revTree(r, s.Rev)
		if err != nil {
			return nil, err
		}
		if modelDir != "" {
			if t, err = t.Tree(modelDir); err != nil {
				return nil, fmt.Errorf("folder %s at %s: %w", modelDir, s.Rev, err)
			}
		}
		w := object.NewTreeWalker(t, true, nil)
		defer w.Close()
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			name, e, err := w.Next()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			if e.Mode == filemode.Dir {
				continue
			}
			f := file{mode: e.Mode, hash: e.Hash.String()}
			if IsModelPath(name) && isFileOrAbsent(e.Mode) {
				f = file{mode: filemode.Regular}
			}
			out[name] = f
		}
	}
	err := filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(s.Dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			sum := sha1.Sum([]byte(target))
			out[name] = file{mode: filemode.Symlink, hash: hex.EncodeToString(sum[:])}
		case t.IsRegular():
			if IsModelPath(name) {
				out[name] = file{mode: filemode.Regular}
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			mode := filemode.Regular
			if info.Mode()&0o111 != 0 {
				mode = filemode.Executable
			}
			out[name] = file{mode: mode, hash: model.BlobHash(b)}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("folder %s: %w", s.Dir, err)
		}
		return nil, err
	}
	return out, nil
}
