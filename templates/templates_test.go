package templates_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/templates"
)

func TestOverrideByFileName(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "trino.sql.tmpl"), []byte("-- custom {{ sqlIdent .Schema }}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a template"), 0o644))
	s, err := templates.Load(dir)
	require.NoError(t, err)
	b, err := s.Render("trino.sql.tmpl", map[string]string{"Schema": `we"ird`})
	require.NoError(t, err)
	assert.Equal(t, "-- custom \"we\"\"ird\"\n", string(b))
	// The others stay embedded.
	b, err = s.Render("connector.json.tmpl", map[string]any{"Name": "c", "Config": []struct{ Key, Value string }{{"k", "v"}}})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"name": "c"`)
}

func TestOverrideErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dags.py.tmpl"), []byte("x"), 0o644))
	_, err := templates.Load(dir)
	assert.ErrorContains(t, err, "dags.py.tmpl overrides no template")

	dir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dag.py.tmpl"), []byte("{{ .Broken "), 0o644))
	_, err = templates.Load(dir)
	assert.ErrorContains(t, err, filepath.Join(dir, "dag.py.tmpl"))

	// Functions that read the environment are not available to templates.
	dir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dag.py.tmpl"), []byte(`{{ env "HOME" }}`), 0o644))
	_, err = templates.Load(dir)
	assert.ErrorContains(t, err, `function "env" not defined`)

	_, err = templates.Load(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
}
