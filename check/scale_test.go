package check_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datasurface/datasurface/check"
	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
)

// wideRepo is a git repository holding examples/enterprise plus a dataset
// of n int32 columns that a workspace sinks (commit HEAD~1), and the same
// with every one of them widened to int64 (HEAD): n changed columns, each
// an allowed evolution and a changed line of the dataset's job spec.
func wideRepo(tb testing.TB, n int) string {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("git not installed")
	}
	dir := tb.TempDir()
	src := "../examples/enterprise"
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
	git := func(args ...string) {
		tb.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...).CombinedOutput()
		if err != nil {
			tb.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	write := func(rel, content string) {
		tb.Helper()
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	store := func(typ string) string {
		var b strings.Builder
		b.WriteString("datastore: wide_db\ncapture:\n  kind: sql_snapshot\n  container: orders_postgres\n  credential: oms_snapshot\n  trigger: {cron: \"0 3 * * *\"}\ndatasets:\n  - name: wide\n    primary_key: [k]\n    columns:\n      - {name: k, type: int64}\n")
		for i := range n {
			fmt.Fprintf(&b, "      - {name: c%d, type: %s}\n", i, typ)
		}
		return b.String()
	}
	const ws = "zones/retail/teams/orders/workspaces/wide_reports.yaml"
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(ws)), 0o755); err != nil {
		tb.Fatal(err)
	}
	write(ws, "workspace: wide_reports\ngroups:\n  - name: g\n    platform: lakehouse\n    requirements: {history: live_only}\n    sinks: [wide_db.wide]\n")
	write("zones/retail/teams/orders/datastores/wide_db.yaml", store("int32"))
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "a wide dataset")
	write("zones/retail/teams/orders/datastores/wide_db.yaml", store("int64"))
	git("commit", "-qam", "every column widened")
	return dir
}

const wideOwner = "meridian/retail/orders/model@main"

// runCheck is `datasurface check --base HEAD~1 --head HEAD` on a repository:
// the pair loaded from git, then judged.
func runCheck(tb testing.TB, dir string) *check.Result {
	tb.Helper()
	ctx := context.Background()
	side := func(rev string) model.Source { return &model.GitSource{Repo: dir, Rev: rev} }
	b, h, berrs, herrs, err := model.LoadPair(ctx, side("HEAD~1"), side("HEAD"))
	if err != nil || len(berrs)+len(herrs) > 0 {
		tb.Fatal(err, berrs, herrs)
	}
	res, err := check.Run(ctx, check.Input{Base: b, Head: h, Source: wideOwner, Generator: generator.Options{Version: "bench"}})
	if err != nil {
		tb.Fatal(err)
	}
	if !res.Passed() || res.Plan == nil {
		tb.Fatalf("the widening should pass with a plan: %v", res.Problems)
	}
	return res
}

// runPlan is `datasurface plan --base HEAD~1 --head HEAD`: both sides loaded
// whole and rendered whole.
func runPlan(tb testing.TB, dir string) *generator.PlanResult {
	tb.Helper()
	ctx := context.Background()
	load := func(rev string) *model.Model {
		m, errs, err := model.LoadGit(ctx, dir, rev, "")
		if err != nil || len(errs) > 0 {
			tb.Fatal(err, errs)
		}
		return m
	}
	p, err := generator.PlanContext(ctx, load("HEAD~1"), load("HEAD"), generator.Options{Version: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestCheckAndPlanScaleWithChangedColumns checks that check and plan report
// every one of 10,000 and 20,000 changed columns right. Their speed is
// BenchmarkWidenedColumns' to measure (the README gives its figures);
// matching and diffing were quadratic, 10,000 columns took 37 to 55 s, so a
// regression shows here as a test running into its timeout.
func TestCheckAndPlanScaleWithChangedColumns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds models of 10,000 and 20,000 columns")
	}
	for _, n := range []int{10000, 20000} {
		dir := wideRepo(t, n)
		res := runCheck(t, dir)
		if got := res.Plan.Summary.Evolutions; got != n {
			t.Errorf("%d columns: %d evolutions, want %d", n, got, n)
		}
		p := runPlan(t, dir)
		if len(p.Artifacts) != 1 || p.Artifacts[0].LinesAdded != n || p.Artifacts[0].LinesRemoved != n {
			t.Errorf("%d columns: want the job spec changed on %d lines, got %+v", n, n, p.Artifacts)
		}
	}
}

// BenchmarkWidenedColumns measures check (the merge-request check: load
// of the pair, lint, authorization, compatibility, scoped plan) and plan
// (both sides rendered whole) of a change that widens every column of one
// dataset, at 2,500 to 20,000 columns:
//
//	go test ./check -run '^$' -bench WidenedColumns -benchtime 3x
func BenchmarkWidenedColumns(b *testing.B) {
	for _, n := range []int{2500, 5000, 10000, 20000} {
		dir := wideRepo(b, n)
		b.Run(fmt.Sprintf("check/columns=%d", n), func(b *testing.B) {
			for b.Loop() {
				runCheck(b, dir)
			}
		})
		b.Run(fmt.Sprintf("plan/columns=%d", n), func(b *testing.B) {
			for b.Loop() {
				runPlan(b, dir)
			}
		})
	}
}
