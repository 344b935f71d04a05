package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// A small model whose only error is a sink naming a dataset that does not exist.
var badSinkModel = map[string]string{
	"ecosystem.yaml": `ecosystem: e
owner: g/p@main
platforms:
  - {name: old_dw, kind: legacy, legacy: {description: nightly copy}}
zones:
  - {name: z, owner: g/p@main}
`,
	"zones/z/zone.yaml":                 "zone: z\nteams:\n  - {name: t, owner: g/p@main}\n",
	"zones/z/teams/t/team.yaml":         "team: t\n",
	"zones/z/teams/t/workspaces/w.yaml": "workspace: w\ngroups:\n  - name: g\n    platform: old_dw\n    requirements: {history: live_only, latency: days}\n    sinks: [nostore.nodataset]\n",
}

func TestValidateExitCodes(t *testing.T) {
	code, out, _ := runCLI(t, "validate", "../../examples/customer-cdc")
	assert.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "0 errors")

	dir := writeFiles(t, badSinkModel)
	code, out, _ = runCLI(t, "validate", dir)
	assert.Equal(t, exitProblems, code)
	assert.Contains(t, out, "zones/z/teams/t/workspaces/w.yaml:6:13: error ref-sink:")

	broken := map[string]string{}
	for k, v := range badSinkModel {
		broken[k] = v
	}
	broken["zones/z/zone.yaml"] = "zone: z\nowner: someone\n"
	dir = writeFiles(t, broken)
	code, out, _ = runCLI(t, "validate", dir)
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, out, "zones/z/zone.yaml:2:1: error load-unknown-key:")

	code, _, errOut := runCLI(t, "validate", filepath.Join(dir, "nope"))
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "nope")
}

func TestValidateFormats(t *testing.T) {
	dir := writeFiles(t, badSinkModel)

	code, out, _ := runCLI(t, "validate", "--format", "json", dir)
	assert.Equal(t, exitProblems, code)
	var rep struct {
		Errors   int `json:"errors"`
		Problems []struct {
			Code string `json:"code"`
			File string `json:"file"`
			Line int    `json:"line"`
			Path string `json:"path"`
		} `json:"problems"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, 1, rep.Errors)
	require.Len(t, rep.Problems, 1)
	assert.Equal(t, "ref-sink", rep.Problems[0].Code)
	assert.Equal(t, 6, rep.Problems[0].Line)
	assert.Equal(t, "workspace:w/group:g", rep.Problems[0].Path)

	_, out, _ = runCLI(t, "validate", "--format", "codequality", dir)
	var cq []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &cq))
	require.Len(t, cq, 1)
	for _, k := range []string{"description", "check_name", "fingerprint", "severity", "location"} {
		assert.Contains(t, cq[0], k)
	}
	assert.Equal(t, "critical", cq[0]["severity"])
	loc := cq[0]["location"].(map[string]any)
	assert.Equal(t, float64(6), loc["lines"].(map[string]any)["begin"])

	_, out, _ = runCLI(t, "validate", "--format", "junit", dir)
	var ju struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out), &ju))
	require.Len(t, ju.Suites, 1)
	assert.Equal(t, 1, ju.Suites[0].Failures)

	cqFile, juFile := filepath.Join(t.TempDir(), "cq.json"), filepath.Join(t.TempDir(), "ju.xml")
	code, _, _ = runCLI(t, "validate", dir, "--report", "codequality="+cqFile, "--report", "junit="+juFile)
	assert.Equal(t, exitProblems, code)
	b, err := os.ReadFile(cqFile)
	require.NoError(t, err)
	assert.Contains(t, string(b), "ref-sink")
	b, err = os.ReadFile(juFile)
	require.NoError(t, err)
	assert.Contains(t, string(b), "<failure")

	code, _, errOut := runCLI(t, "validate", "--format", "yaml", dir)
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "unknown format")
}

func TestValidateGitRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := writeFiles(t, badSinkModel)
	git := func(args ...string) {
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-qm", "bad sink")
	require.NoError(t, os.Remove(filepath.Join(dir, "zones/z/teams/t/workspaces/w.yaml")))
	git("commit", "-qam", "drop the workspace")

	code, out, _ := runCLI(t, "validate", "--repo", dir, "--rev", "HEAD~1")
	assert.Equal(t, exitProblems, code, out)
	assert.Contains(t, out, "zones/z/teams/t/workspaces/w.yaml:6:13")
	code, out, _ = runCLI(t, "validate", "--repo", dir, "--rev", "main")
	assert.Equal(t, exitOK, code, out)
	code, _, errOut := runCLI(t, "validate", "--repo", dir)
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "--rev")
}

func TestSchemaCommand(t *testing.T) {
	code, out, _ := runCLI(t, "schema")
	require.Equal(t, exitOK, code)
	want, err := model.JSONSchema()
	require.NoError(t, err)
	assert.Equal(t, string(want), out)
}

// A bracket left open is reported at the bracket, not on the line above it
// (where yaml.v3 would put it) nor where the parser gave up.
func TestValidateUnclosedBracket(t *testing.T) {
	files := map[string]string{}
	for k, v := range badSinkModel {
		files[k] = v
	}
	files["zones/z/teams/t/datastores/s.yaml"] = "datastore: s\ndatasets:\n  - name: d\n    columns:\n      - {name: id, type: int32\n      - {name: v, type: text}\n"
	dir := writeFiles(t, files)
	code, out, _ := runCLI(t, "validate", dir)
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, out, "zones/z/teams/t/datastores/s.yaml:5:9: error load-syntax: did not find expected ',' or '}': the '{' at line 5, column 9 is not closed")
}
