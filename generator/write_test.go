package generator_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
)

func tree(files map[string]string) *generator.Tree {
	t := &generator.Tree{Files: map[string][]byte{}}
	for k, v := range files {
		t.Files[k] = []byte(v)
	}
	return t
}

func withManifest(t *testing.T, files map[string]string) *generator.Tree {
	t.Helper()
	tr := tree(files)
	require.NoError(t, generator.AddManifest(tr, "test", ""))
	return tr
}

func TestWriteOwnsOnlyWhatItGenerated(t *testing.T) {
	dir := t.TempDir()
	// A file the generator does not own.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("mine"), 0o644))

	res, err := generator.Write(dir, withManifest(t, map[string]string{"platforms/p/dags/x.py": "x1", "platforms/p/dags/y.py": "y1"}))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"MANIFEST.json", "platforms/p/dags/x.py", "platforms/p/dags/y.py"}, res.Added)

	// Unchanged files are not rewritten: their modification time stays.
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "platforms/p/dags/x.py"), old, old))
	res, err = generator.Write(dir, withManifest(t, map[string]string{"platforms/p/dags/x.py": "x1", "platforms/p/jobs/z.json": "z1"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"platforms/p/jobs/z.json"}, res.Added)
	assert.Equal(t, []string{"platforms/p/dags/y.py"}, res.Removed)
	assert.Contains(t, res.Unchanged, "platforms/p/dags/x.py")
	st, err := os.Stat(filepath.Join(dir, "platforms/p/dags/x.py"))
	require.NoError(t, err)
	assert.True(t, st.ModTime().Equal(old), "an unchanged file was rewritten")
	_, err = os.Stat(filepath.Join(dir, "platforms/p/dags/y.py"))
	assert.True(t, os.IsNotExist(err), "a file no longer generated was left behind")
	b, err := os.ReadFile(filepath.Join(dir, "README.md"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b))

	// A file in the way that the generator did not write is refused.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "platforms/p/trino"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "platforms/p/trino/c.sql"), []byte("hand-written"), 0o644))
	_, err = generator.Write(dir, withManifest(t, map[string]string{"platforms/p/dags/x.py": "x1", "platforms/p/jobs/z.json": "z1", "platforms/p/trino/c.sql": "generated"}))
	require.ErrorContains(t, err, "platforms/p/trino/c.sql exists and was not generated here")
	b, err = os.ReadFile(filepath.Join(dir, "platforms/p/trino/c.sql"))
	require.NoError(t, err)
	assert.Equal(t, "hand-written", string(b))

	// A generated file edited by hand is not overwritten either.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "platforms/p/dags/x.py"), []byte("edited"), 0o644))
	_, err = generator.Write(dir, withManifest(t, map[string]string{"platforms/p/dags/x.py": "x2", "platforms/p/jobs/z.json": "z1"}))
	require.ErrorContains(t, err, "platforms/p/dags/x.py was edited since it was generated")
}

// snapshot lists every file and link under dir with its content (or
// target), so a test can tell that nothing was written or deleted.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "-> " + target
			return err
		case d.IsDir():
			out[rel+"/"] = ""
		default:
			b, err := os.ReadFile(p)
			out[rel] = string(b)
			return err
		}
		return nil
	}))
	return out
}

// TestWriteRefusesManifestPathsOutsideTheTree: a MANIFEST.json in the output
// folder is data a person or an earlier run left there; a path in it that is
// not one the generator writes is refused before anything is written or
// removed, so it cannot make Write delete a file outside --out.
func TestWriteRefusesManifestPathsOutsideTheTree(t *testing.T) {
	victim := "precious data\n"
	for _, bad := range []string{
		"../victim.txt",
		"platforms/p/../../../victim.txt",
		"platforms/p/dags/../../../../victim.txt",
		"ABSOLUTE",
		"platforms/p/dags//x.py",
		"platforms/p/dags/./x.py",
		"platforms/p/dags/x.py/",
		"./platforms/p/dags/x.py",
		"",
		"notes.txt",
		"platforms/p/dags",
		"platforms/p/secrets/x.py",
		"platforms/p/dags/sub/x.py",
		"platforms/p/dags/.hidden.py",
		"platforms/../dags/x.py",
		`platforms\p\dags\x.py`,
	} {
		t.Run(bad, func(t *testing.T) {
			root := t.TempDir()
			out := filepath.Join(root, "out")
			require.NoError(t, os.WriteFile(filepath.Join(root, "victim.txt"), []byte(victim), 0o644))
			path := bad
			if bad == "ABSOLUTE" {
				path = filepath.Join(root, "victim.txt")
			}
			// An earlier generation owned platforms/p/dags/old.py; the
			// manifest also claims the bad path, with the victim's hash.
			first := withManifest(t, map[string]string{"platforms/p/dags/old.py": "old"})
			_, err := generator.Write(out, first)
			require.NoError(t, err)
			var m generator.Manifest
			require.NoError(t, json.Unmarshal(first.Files[generator.ManifestName], &m))
			sum := sha256.Sum256([]byte(victim))
			m.Files = append(m.Files, generator.ManifestEntry{Path: path, SHA256: hex.EncodeToString(sum[:])})
			b, err := json.Marshal(m)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(out, generator.ManifestName), b, 0o644))
			before := snapshot(t, root)

			_, err = generator.Write(out, withManifest(t, map[string]string{"platforms/p/dags/new.py": "new"}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), generator.ManifestName)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", path))
			assert.Equal(t, before, snapshot(t, root), "Write changed files although it refused")
		})
	}
}

// TestWriteRefusesTreePathsOutsideTheTree: a tree whose paths are not the
// generator's (a bug, or a tree built by other code) is refused whole.
func TestWriteRefusesTreePathsOutsideTheTree(t *testing.T) {
	for _, bad := range []string{"../escape.py", "platforms/p/dags/../../../escape.py", "/tmp/escape.py", "platforms/p/other/x.py"} {
		root := t.TempDir()
		out := filepath.Join(root, "out")
		_, err := generator.Write(out, withManifest(t, map[string]string{"platforms/p/dags/ok.py": "ok", bad: "escaped"}))
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), fmt.Sprintf("%q", bad))
		assert.Equal(t, map[string]string{"./": ""}, snapshot(t, root), "Write wrote something for %s", bad)
	}
}

// TestWriteRefusesSymlinksInTheOutput: a symbolic link anywhere in the
// output folder (the folder itself, a folder in it, a file) would make Write
// write or delete outside it; Write refuses before doing anything.
func TestWriteRefusesSymlinksInTheOutput(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	files := map[string]string{"platforms/p/dags/x.py": "x1", "platforms/p/jobs/x.json": "{}"}
	for _, tc := range []struct {
		name, link string // link: a path in the output folder ("" for the folder itself)
		dir        bool   // whether the link points at a folder
	}{
		{"the output folder", "", true},
		{"a top folder", "platforms", true},
		{"a platform folder", "platforms/p", true},
		{"a kind folder", "platforms/p/dags", true},
		{"a generated file", "platforms/p/dags/x.py", false},
		{"the manifest", generator.ManifestName, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			out := filepath.Join(root, "out")
			elsewhere := filepath.Join(root, "elsewhere")
			require.NoError(t, os.MkdirAll(elsewhere, 0o755))
			_, err := generator.Write(out, withManifest(t, files))
			require.NoError(t, err)
			// Replace the path by a link to the same content outside.
			at := filepath.Join(out, filepath.FromSlash(tc.link))
			target := filepath.Join(elsewhere, "target")
			if tc.dir {
				require.NoError(t, os.Rename(at, target))
			} else {
				b, err := os.ReadFile(at)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(target, b, 0o644))
				require.NoError(t, os.Remove(at))
			}
			require.NoError(t, os.Symlink(target, at))
			before := snapshot(t, root)

			// A changed file, a new one and a removed one: writes and a delete.
			_, err = generator.Write(out, withManifest(t, map[string]string{"platforms/p/dags/x.py": "x2", "platforms/p/dags/y.py": "y"}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "symbolic link")
			assert.Contains(t, err.Error(), at)
			assert.Equal(t, before, snapshot(t, root), "Write changed files although it refused")
		})
	}
}
