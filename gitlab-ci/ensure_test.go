package gitlabci_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/deploy/connect/connecttest"
	"github.com/datasurface/datasurface/deploy/trino/trinotest"
)

// mergeRunnerOnPath builds the real merge-runner and puts a wrapper named
// merge-runner in a folder for the jobs' PATH: the wrapper appends its
// arguments to log, one line a call, then runs the real one.
func mergeRunnerOnPath(t *testing.T, log string) string {
	t.Helper()
	dir := t.TempDir()
	real := filepath.Join(dir, "merge-runner.real")
	out, err := exec.Command("go", "build", "-o", real, "../merge-runner").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\nexec '" + real + "' \"$@\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "merge-runner"), []byte(script), 0o755))
	return dir
}

// TestDeployRepoEnsuresTablesBeforeViews runs the deploy template's
// default-branch jobs on the published customer-cdc tree with a catalog
// configured: merge-runner ensure runs for every job spec, creating its
// tables in the (embedded SQLite) catalog, and every statement Trino
// receives comes after the last ensure, because trino apply needs the
// ensure job.
func TestDeployRepoEnsuresTablesBeforeViews(t *testing.T) {
	const golden = "../golden/customer-cdc"
	connect, trino := connecttest.New(t), trinotest.New(t)
	state := t.TempDir()
	ensureLog := filepath.Join(state, "merge-runner.log")
	t.Setenv("PATH", mergeRunnerOnPath(t, ensureLog)+string(os.PathListSeparator)+os.Getenv("PATH"))

	// In front of Trino: each request notes which ensure calls had run.
	var mu sync.Mutex
	var seenAtTrino []string
	target, err := url.Parse(trino.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := os.ReadFile(ensureLog)
		mu.Lock()
		seenAtTrino = append(seenAtTrino, string(b))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	d := &repo{t: t, dir: t.TempDir()}
	tmpl, err := os.ReadFile("deploy-repo.yml")
	require.NoError(t, err)
	d.write("ci/datasurface.yml", string(tmpl))
	d.write(".gitlab-ci.yml", "include:\n  - local: ci/datasurface.yml\n")
	d.write(".gitignore", ".gitlab-ci-local/\n")
	var specs []string
	require.NoError(t, filepath.WalkDir(golden, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(golden, p)
		rel = filepath.ToSlash(rel)
		d.write(rel, string(b))
		if strings.Contains(rel, "/jobs/") {
			specs = append(specs, rel)
		}
		return err
	}))
	sort.Strings(specs)
	require.NotEmpty(t, specs)
	d.git("init", "-q", "-b", "main")
	d.commit("published")

	vars := map[string]string{
		"CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main",
		"DATASURFACE_CONNECT_URL": connect.URL, "DATASURFACE_TRINO_URL": front.URL,
		"DATASURFACE_CATALOG_URI": "sqlite:" + filepath.Join(state, "catalog.db"),
		"DATASURFACE_WAREHOUSE":   filepath.Join(state, "warehouse"),
	}
	// Only trino apply is asked for, with what it needs (--needs): the jobs
	// before it and their order are the template's needs:.
	out, ok := run(t, d, vars, "--needs", "datasurface-trino-apply")
	require.True(t, ok, out)
	assert.Contains(t, out, "PASS  datasurface-ensure-tables")
	assert.Contains(t, out, "PASS  datasurface-connect-apply")
	assert.Contains(t, out, "PASS  datasurface-trino-apply")

	var want []string
	for _, s := range specs {
		want = append(want, "ensure --job "+s)
	}
	b, err := os.ReadFile(ensureLog)
	require.NoError(t, err)
	assert.Equal(t, want, strings.Split(strings.TrimSpace(string(b)), "\n"), "ensure ran once for every job spec")
	// What ensure printed: every table of every spec created.
	created := 0
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, `{"status":`); i >= 0 {
			var sum struct {
				Status string                    `json:"status"`
				Tables []struct{ Action string } `json:"tables"`
			}
			require.NoError(t, json.Unmarshal([]byte(l[i:]), &sum), l)
			assert.Equal(t, "ok", sum.Status, l)
			for _, tb := range sum.Tables {
				assert.Equal(t, "created", tb.Action, l)
				created++
			}
		}
	}
	assert.Equal(t, 4, created, "customer-cdc's specs hold four tables: customers, its history, addresses and products")

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, seenAtTrino, "trino apply sent nothing")
	for _, seen := range seenAtTrino {
		assert.Equal(t, strings.Join(want, "\n"), strings.TrimSpace(seen), "a Trino statement arrived before every table was ensured")
	}
	assert.NotEmpty(t, trino.Statements())
	assert.Len(t, connect.Connectors(), 2)

	// A branch pipeline does not ensure: it would change the catalog.
	branch := map[string]string{"CI_COMMIT_BRANCH": "feature", "CI_DEFAULT_BRANCH": "main", "DATASURFACE_CATALOG_URI": vars["DATASURFACE_CATALOG_URI"]}
	out, _ = run(t, d, branch, "--list")
	assert.NotContains(t, out, "datasurface-ensure-tables")
}
