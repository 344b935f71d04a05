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
	"path/filepath"
	"slices"
	"sort"
	"strings"
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

// ReadManifest reads the manifest of a previous generation in dir; a missing
// one is an empty manifest.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{}, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w; it is the generator's record of what it owns, restore it or remove the folder's generated files", filepath.Join(dir, ManifestName), err)
	}
	return &m, nil
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
func Write(dir string, t *Tree) (*WriteResult, error) {
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
	err = parallel(len(paths), func(i int) error {
		p := paths[i]
		cur, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			verdicts[i] = added
		case err != nil:
			return err
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
	if err != nil {
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
	for _, e := range old.Files {
		if _, still := t.Files[e.Path]; still {
			continue
		}
		cur, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
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

// ReadTree reads a folder written by Write back into a tree (the files its
// manifest lists, plus the manifest).
func ReadTree(dir string) (*Tree, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	t := &Tree{Files: map[string][]byte{}}
	for _, e := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			return nil, err
		}
		t.Files[e.Path] = b
	}
	if b, err := os.ReadFile(filepath.Join(dir, ManifestName)); err == nil {
		t.Files[ManifestName] = b
	}
	return t, nil
}
