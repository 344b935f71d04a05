package generator_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// update rewrites golden/ from the current generator:
//
//	go test ./generator -run TestGolden -update
var update = flag.Bool("update", false, "rewrite the golden files under golden/")

// examples lists the example models (every folder of examples/).
func examples(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("../examples")
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join("../examples", e.Name(), "ecosystem.yaml")); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	require.NotEmpty(t, names)
	return names
}

// generateExample loads, lints and renders an example.
func generateExample(t testing.TB, name string) *generator.Tree {
	t.Helper()
	m, errs, err := model.LoadDir(context.Background(), filepath.Join("../examples", name))
	require.NoError(t, err)
	require.Empty(t, errs)
	if n, _, _ := lint.Count(lint.Lint(m)); n > 0 {
		t.Fatalf("example %s has lint errors", name)
	}
	m.Source = "examples/" + name
	tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "golden"})
	require.NoError(t, err)
	return tree
}

// TestGolden compares the generated tree of every example with golden/<example>.
func TestGolden(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			tree := generateExample(t, ex)
			dir := filepath.Join("../golden", ex)
			if *update {
				require.NoError(t, os.RemoveAll(dir))
				_, err := generator.Write(dir, tree)
				require.NoError(t, err)
				return
			}
			var onDisk []string
			require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					onDisk = append(onDisk, filepath.ToSlash(rel))
				}
				return nil
			}), "no golden files for %s: run go test ./generator -run TestGolden -update", ex)
			sort.Strings(onDisk)
			assert.Equal(t, tree.Paths(), onDisk, "the generated files differ from golden/%s; review and run go test ./generator -run TestGolden -update", ex)
			for _, p := range tree.Paths() {
				want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
				if err != nil {
					continue // reported above
				}
				assert.Equal(t, string(want), string(tree.Files[p]), "golden/%s/%s is stale: review the change and run go test ./generator -run TestGolden -update", ex, p)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, ex := range examples(t) {
		a, b := generateExample(t, ex), generateExample(t, ex)
		assert.Equal(t, a.Files, b.Files, ex)
	}
}

// TestGoldenOneWorker renders with one loader worker, so that one parser is
// reused for every file of a model: the output must still be the golden one
// (the decoder must keep no string that points into the parser's memory).
func TestGoldenOneWorker(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	for _, ex := range examples(t) {
		tree := generateExample(t, ex)
		for _, p := range tree.Paths() {
			want, err := os.ReadFile(filepath.Join("../golden", ex, filepath.FromSlash(p)))
			require.NoError(t, err)
			assert.Equal(t, string(want), string(tree.Files[p]), "%s/%s", ex, p)
		}
	}
}
