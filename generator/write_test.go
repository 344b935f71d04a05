package generator_test

import (
	"os"
	"path/filepath"
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

	res, err := generator.Write(dir, withManifest(t, map[string]string{"a/x.py": "x1", "a/y.py": "y1"}))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"MANIFEST.json", "a/x.py", "a/y.py"}, res.Added)

	// Unchanged files are not rewritten: their modification time stays.
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "a/x.py"), old, old))
	res, err = generator.Write(dir, withManifest(t, map[string]string{"a/x.py": "x1", "b/z.py": "z1"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"b/z.py"}, res.Added)
	assert.Equal(t, []string{"a/y.py"}, res.Removed)
	assert.Contains(t, res.Unchanged, "a/x.py")
	st, err := os.Stat(filepath.Join(dir, "a/x.py"))
	require.NoError(t, err)
	assert.True(t, st.ModTime().Equal(old), "an unchanged file was rewritten")
	_, err = os.Stat(filepath.Join(dir, "a/y.py"))
	assert.True(t, os.IsNotExist(err), "a file no longer generated was left behind")
	b, err := os.ReadFile(filepath.Join(dir, "README.md"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b))

	// A file in the way that the generator did not write is refused.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.py"), []byte("hand-written"), 0o644))
	_, err = generator.Write(dir, withManifest(t, map[string]string{"a/x.py": "x1", "b/z.py": "z1", "c.py": "generated"}))
	require.ErrorContains(t, err, "c.py exists and was not generated here")
	b, err = os.ReadFile(filepath.Join(dir, "c.py"))
	require.NoError(t, err)
	assert.Equal(t, "hand-written", string(b))

	// A generated file edited by hand is not overwritten either.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a/x.py"), []byte("edited"), 0o644))
	_, err = generator.Write(dir, withManifest(t, map[string]string{"a/x.py": "x2", "b/z.py": "z1"}))
	require.ErrorContains(t, err, "a/x.py was edited since it was generated")
}
