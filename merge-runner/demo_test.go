package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemoScript runs scripts/demo.sh, the README's one-command demo, as a
// user would: it must start its own PostgreSQL, capture, merge and show
// tables that equal the source's after both rounds, the second one having
// changed them.
func TestDemoScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries and starts a PostgreSQL cluster")
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl"); len(m) == 0 {
		t.Skip("no PostgreSQL server binaries under /usr/lib/postgresql")
	}
	// The cluster may run as the postgres user: its folder's parents must be
	// traversable, which t.TempDir's are not.
	dir, err := os.MkdirTemp("", "demo-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "../scripts/demo.sh")
	cmd.Env = append(os.Environ(), "DEMO_DIR="+dir, "DEMO_SECONDS=2", "DEMO_RATE=25")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), out)
	}
	counts := regexp.MustCompile(`(?m)^== (customers|orders): (\d+) rows in Iceberg, (\d+) in PostgreSQL \((\w+)\)$`).FindAllStringSubmatch(string(out), -1)
	if len(counts) != 4 {
		t.Fatalf("want a count line per table per round, got %d:\n%s", len(counts), out)
	}
	for _, c := range counts {
		if c[2] != c[3] || c[4] != "equal" {
			t.Errorf("%s: %s rows in Iceberg, %s in PostgreSQL (%s)", c[1], c[2], c[3], c[4])
		}
	}
	if counts[0][2] == counts[2][2] && counts[1][2] == counts[3][2] {
		t.Errorf("the second round changed no count: %v", counts)
	}
	// The masking transformer ran after each round; its second run merged
	// only what the workload changed.
	masked := regexp.MustCompile(`(?m)^== masked_customers.customers \(the transformer's output, merged like any store\): (\d+) rows; this run: (\d+) inserted, (\d+) updated, (\d+) deleted$`).FindAllStringSubmatch(string(out), -1)
	if len(masked) != 2 {
		t.Fatalf("want the masked table after each round, got %d:\n%s", len(masked), out)
	}
	if masked[0][1] != counts[0][2] || masked[1][1] != counts[2][2] {
		t.Errorf("masked customers %s then %s rows, customers %s then %s", masked[0][1], masked[1][1], counts[0][2], counts[2][2])
	}
	if masked[0][2] != counts[0][2] || masked[1][2] == masked[1][1] {
		t.Errorf("first run inserts every customer, the second only the changes: %v", masked)
	}
	if !strings.Contains(string(out), "dsf_batch_out") || !strings.Contains(stderr.String(), "demo: done") {
		t.Errorf("want the history table and the closing words; stdout:\n%s\nstderr:\n%s", out, stderr.String())
	}
}
