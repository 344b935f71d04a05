package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// ManifestName is the file that records what the generator wrote.
const ManifestName = "MANIFEST.json"

// Tree is a rendered artifact tree: slash-separated paths to contents.
type Tree struct {
	Files map[string][]byte
	// Warnings name what the model asks for that the tree does not deliver.
	Warnings []string
}

// Paths lists the tree's paths, sorted.
func (t *Tree) Paths() []string {
	ps := make([]string, 0, len(t.Files))
	for p := range t.Files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

func (t *Tree) add(path string, content []byte) error {
	if _, dup := t.Files[path]; dup {
		return fmt.Errorf("two artifacts would be written to %s; rename one of the model elements it comes from", path)
	}
	t.Files[path] = content
	return nil
}

// Manifest records a generation: the model commit, the generator version and
// every file written with its hash. It is how a later run knows which files
// it owns.
type Manifest struct {
	Generator   string          `json:"generator"`
	ModelCommit string          `json:"model_commit,omitempty"`
	Files       []ManifestEntry `json:"files"`
}

// ManifestEntry is one generated file.
type ManifestEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// AddManifest renders MANIFEST.json over the tree's other files.
func AddManifest(t *Tree, version, commit string) error {
	m := Manifest{Generator: version, ModelCommit: commit, Files: []ManifestEntry{}}
	for _, p := range t.Paths() {
		m.Files = append(m.Files, ManifestEntry{Path: p, SHA256: hashOf(t.Files[p])})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return t.add(ManifestName, append(b, '\n'))
}

// treeKinds are the folders of a platform's artifacts (platforms/<platform>/<kind>/).
var treeKinds = []string{"dags", "jobs", "connect", "trino"}

// ValidPath reports whether p is a path a generated tree holds:
// MANIFEST.json, or platforms/<platform>/<kind>/<file> with <kind> one of
// dags, jobs, connect and trino, and names of letters, digits, '_', '-' and
// '.' that do not start with '.'. Anything else (an absolute path, "..", an
// empty or hidden part, another folder) is not one: Write refuses to write,
// or to remove, any other path.
func ValidPath(p string) bool {
	if p == ManifestName {
		return true
	}
	parts := strings.Split(p, "/")
	return len(parts) == 4 && parts[0] == "platforms" && validName(parts[1]) && slices.Contains(treeKinds, parts[2]) && validName(parts[3])
}

func validName(s string) bool {
	if s == "" || s[0] == '.' {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

const treePaths = "platforms/<platform>/{" + "dags,jobs,connect,trino" + "}/<file> or " + ManifestName

// ReadManifest reads the manifest of a previous generation in dir; a missing
// one is an empty manifest. A manifest that is a symbolic link, or that lists
// a path the generator does not write, is refused: it decides what a later
// run overwrites and removes.
func ReadManifest(dir string) (*Manifest, error) {
	full := filepath.Join(dir, ManifestName)
	st, err := os.Lstat(full)
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{}, nil
	}
	if err != nil {
		return nil, err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil, symlinkError(full)
	}
	b, err := os.ReadFile(full)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w; it is the generator's record of what it owns, restore it or remove the folder's generated files", full, err)
	}
	for _, e := range m.Files {
		if !ValidPath(e.Path) || e.Path == ManifestName {
			return nil, fmt.Errorf("%s lists %q, which is not a path the generator writes (%s); the manifest was edited or does not come from datasurface generate. "+
				"Nothing was written or removed: restore the manifest, or remove the folder's generated files and the manifest", full, e.Path, treePaths)
		}
	}
	return &m, nil
}

func symlinkError(full string) error {
	return fmt.Errorf("%s is a symbolic link; generate writes and removes files only inside --out, and a link would take them elsewhere. "+
		"Nothing was written or removed: replace the link with a real folder or file, or give --out the folder it points to", full)
}

// outGuard looks at the paths under an output folder without following
// links: every folder on the way to a file must be a real folder (or not
// exist yet), the file itself a regular file (or absent).
type outGuard struct {
	root string
	mu   sync.Mutex
	dirs map[string]error // checked folders (relative, slash-separated)
}

func newOutGuard(root string) *outGuard { return &outGuard{root: root, dirs: map[string]error{}} }

// checkRoot refuses an output folder that is a link or not a folder.
func (g *outGuard) checkRoot() error {
	st, err := os.Lstat(g.root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0:
		return symlinkError(g.root)
	case !st.IsDir():
		return fmt.Errorf("%s is not a folder; --out names the folder to render into", g.root)
	}
	return nil
}

// folder checks one folder of the output (relative), and its parents.
func (g *outGuard) folder(rel string) error {
	if rel == "." || rel == "" {
		return nil
	}
	g.mu.Lock()
	err, done := g.dirs[rel]
	g.mu.Unlock()
	if done {
		return err
	}
	err = g.folder(path.Dir(rel))
	if err == nil {
		full := filepath.Join(g.root, filepath.FromSlash(rel))
		st, lerr := os.Lstat(full)
		switch {
		case errors.Is(lerr, fs.ErrNotExist):
		case lerr != nil:
			err = lerr
		case st.Mode()&fs.ModeSymlink != 0:
			err = symlinkError(full)
		case !st.IsDir():
			err = fmt.Errorf("%s is not a folder, where the generated tree has one; move it away", full)
		}
	}
	g.mu.Lock()
	g.dirs[rel] = err
	g.mu.Unlock()
	return err
}

// read reads a file of the output (a tree path) if it is there, refusing a
// link anywhere on its way; an absent file is fs.ErrNotExist.
func (g *outGuard) read(p string) ([]byte, error) {
	if err := g.folder(path.Dir(p)); err != nil {
		return nil, err
	}
	full := filepath.Join(g.root, filepath.FromSlash(p))
	st, err := os.Lstat(full)
	switch {
	case err != nil:
		return nil, err
	case st.Mode()&fs.ModeSymlink != 0:
		return nil, symlinkError(full)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file, where the generated tree has one; move it away", full)
	}
	return os.ReadFile(full)
}

// WriteResult says what Write did.
type WriteResult struct {
	Added, Changed, Removed, Unchanged []string
}

// Write makes dir hold the tree: it writes new and changed files, removes the
// files an earlier generation wrote that the tree no longer has, leaves
// unchanged files untouched (not even rewritten) and never touches a file it
// did not generate. A file in the way that it did not generate, or one it
// generated that was edited since, is an error and nothing is written.
//
// Write writes and removes only inside dir: every path it touches is one the
// generator writes (ValidPath), in the tree or in the old manifest, and a
// symbolic link anywhere from dir down to a file it would touch is refused,
// before anything is written or removed.
func Write(dir string, t *Tree) (*WriteResult, error) {
	for _, p := range t.Paths() {
		if !ValidPath(p) {
			return nil, fmt.Errorf("the tree holds %q, which is not a path the generator writes (%s); nothing was written", p, treePaths)
		}
	}
	g := newOutGuard(dir)
	if err := g.checkRoot(); err != nil {
		return nil, err
	}
	old, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	owned := map[string]string{}
	for _, e := range old.Files {
		owned[e.Path] = e.SHA256
	}
	res := &WriteResult{}
	var conflicts []string
	// Classify every file against what is on disk; the reads run on every
	// core, the verdicts are gathered in path order.
	paths := t.Paths()
	const (
		added = iota + 1
		unchanged
		changed
		notMine
		edited
	)
	verdicts := make([]int, len(paths))
	errs := make([]error, len(paths))
	_ = parallel(len(paths), func(i int) error {
		p := paths[i]
		cur, err := g.read(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			verdicts[i] = added
		case err != nil:
			errs[i] = err
		case bytes.Equal(cur, t.Files[p]):
			verdicts[i] = unchanged
		case p == ManifestName:
			verdicts[i] = changed
		default:
			sum, mine := owned[p]
			switch {
			case !mine:
				verdicts[i] = notMine
			case sum != hashOf(cur):
				verdicts[i] = edited
			default:
				verdicts[i] = changed
			}
		}
		return nil
	})
	var removes []ManifestEntry
	for _, e := range old.Files {
		if _, still := t.Files[e.Path]; !still {
			removes = append(removes, e)
		}
	}
	current := make([][]byte, len(removes))
	removeErrs := make([]error, len(removes))
	for i, e := range removes {
		current[i], removeErrs[i] = g.read(e.Path)
		if errors.Is(removeErrs[i], fs.ErrNotExist) {
			current[i], removeErrs[i] = nil, nil
		}
	}
	if err := errors.Join(uniqueErrors(append(errs, removeErrs...))...); err != nil {
		return nil, err
	}
	for i, p := range paths {
		switch verdicts[i] {
		case added:
			res.Added = append(res.Added, p)
		case unchanged:
			res.Unchanged = append(res.Unchanged, p)
		case changed:
			res.Changed = append(res.Changed, p)
		case notMine:
			conflicts = append(conflicts, p+" exists and was not generated here")
		case edited:
			conflicts = append(conflicts, p+" was edited since it was generated")
		}
	}
	for i, e := range removes {
		cur := current[i]
		if cur == nil {
			continue // already gone
		}
		if hashOf(cur) != e.SHA256 {
			conflicts = append(conflicts, e.Path+" is no longer generated but was edited since; move or delete it yourself")
			continue
		}
		res.Removed = append(res.Removed, e.Path)
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("refusing to write %s:\n  %s", dir, strings.Join(conflicts, "\n  "))
	}
	// MANIFEST.json goes last, so an interrupted write leaves the old
	// manifest, which still owns every file it listed.
	toWrite := append(append([]string(nil), res.Added...), res.Changed...)
	manifestIdx := slices.Index(toWrite, ManifestName)
	if manifestIdx >= 0 {
		toWrite = slices.Delete(toWrite, manifestIdx, manifestIdx+1)
	}
	err = parallel(len(toWrite), func(i int) error {
		full := filepath.Join(dir, filepath.FromSlash(toWrite[i]))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		return writeAtomic(full, t.Files[toWrite[i]])
	})
	if err != nil {
		return nil, err
	}
	for _, p := range res.Removed {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.Remove(full); err != nil {
			return nil, err
		}
		removeEmptyParents(dir, filepath.Dir(full))
	}
	if manifestIdx >= 0 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := writeAtomic(filepath.Join(dir, ManifestName), t.Files[ManifestName]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// writeAtomic writes through a temporary file and a rename, so a reader
// (Airflow's DAG processor) never sees half a file.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".datasurface-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func removeEmptyParents(root, dir string) {
	root = filepath.Clean(root)
	for dir = filepath.Clean(dir); dir != root && strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return
		}
	}
}

// uniqueErrors drops nil errors and repeats (a link above many files is
// one problem), keeping the first of each in order.
func uniqueErrors(errs []error) []error {
	var out []error
	seen := map[string]bool{}
	for _, err := range errs {
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	return out
}

// ReadTree reads a folder written by Write back into a tree (the files its
// manifest lists, plus the manifest), following no links.
func ReadTree(dir string) (*Tree, error) {
	g := newOutGuard(dir)
	if err := g.checkRoot(); err != nil {
		return nil, err
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	t := &Tree{Files: map[string][]byte{}}
	for _, e := range m.Files {
		b, err := g.read(e.Path)
		if err != nil {
			return nil, err
		}
		t.Files[e.Path] = b
	}
	if b, err := g.read(ManifestName); err == nil {
		t.Files[ManifestName] = b
	}
	return t, nil
}
