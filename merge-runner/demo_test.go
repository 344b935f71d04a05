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
	dir := scriptDir(t)
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

// scriptDir is a folder for a script's cluster and files: the cluster may
// run as the postgres user, so its folder's parents must be traversable,
// which t.TempDir's are not.
func scriptDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "demo-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestMigrationDemoScript runs scripts/migration-demo.sh, the README's
// walkthrough of a move off a legacy pipeline: each merge request passes
// check, which names the migration's step; the DAG's reconcile task, run as
// the DAG has it, finds the legacy copy's milliseconds (exit 1), agrees once
// the migration names the tolerance (0), finds the legacy copy behind after
// a workload (1) and agrees after the nightly copy (0) and when verified (0);
// after the switch the DAG has no reconcile task.
func TestMigrationDemoScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries and starts a PostgreSQL cluster")
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl"); len(m) == 0 {
		t.Skip("no PostgreSQL server binaries under /usr/lib/postgresql")
	}
	cmd := exec.Command("bash", "../scripts/migration-demo.sh")
	cmd.Env = append(os.Environ(), "MIGRATION_DIR="+scriptDir(t))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	out := string(b)
	if err != nil {
		t.Fatalf("migration demo: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), out)
	}
	var exits []string
	for _, m := range regexp.MustCompile(`(?m)^exit (\d+)$`).FindAllStringSubmatch(out, -1) {
		exits = append(exits, m[1])
	}
	if strings.Join(exits, " ") != "1 0 1 0 0" {
		t.Errorf("reconcile exits %v, want 1 0 1 0 0:\n%s", exits, out)
	}
	for _, want := range []string{
		"Rows differing, by column: ordered_at 1000.",
		"--legacy-table reporting.orders --timestamp-precision ms",
		"group daily: migration off nightly_copy begins (shadow)",
		"group daily: migration off nightly_copy shadow → verified",
		"group daily: migration off nightly_copy verified → switched",
		"| keys only here | 10 | 20 |",
		"has no reconcile task",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the walkthrough does not show %q:\n%s", want, out)
		}
	}
	if c := strings.Count(out, "check passed: the change may merge"); c != 4 {
		t.Errorf("%d checks passed, want one per merge request (4)", c)
	}
}
