package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// put lands lines as the object of partition 0 starting at offset start.
func (f fixture) put(t *testing.T, start int64, data []byte, gz bool) {
	t.Helper()
	name := filepath.Join(f.events, "cdc", topic, "partition=0", fmt.Sprintf("%s+0+%010d.json", topic, start))
	if gz {
		name += ".gz"
	}
	require.NoError(t, os.WriteFile(name, data, 0o644))
}

// TestGapThenMissingObject: an object lands past a missing one. The run
// applies what comes before the gap, reports it and exits 0 while the gap
// is younger than the grace period, 5 after; the position never moves past
// it, so the missing object, landing later, is applied.
func TestGapThenMissingObject(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	f := newFixture(t, testSpec(), event("c", 1, "a", 1000), event("c", 2, "b", 1001))
	f.put(t, 4, []byte(event("u", 1, "a2", 1004)+"\n"), false) // offsets 2 and 3 missing

	code, out, stderr := f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	sum := lastLine(t, out)
	assert.EqualValues(t, 2, sum["events"])
	holds := sum["tables"].([]any)[0].(map[string]any)["holds"].([]any)
	require.Len(t, holds, 1)
	gap := holds[0].(map[string]any)["gap"].(map[string]any)
	assert.EqualValues(t, 2, gap["expected_offset"])
	assert.EqualValues(t, 4, gap["next_offset"])
	assert.Equal(t, "cdc/"+topic+"/partition=0/"+topic+"+0+0000000004.json", gap["next_object"])
	assert.Contains(t, stderr, "offsets 2 to 3 are not landed")

	code, out, stderr = f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state, "--grace", "1ns")
	assert.Equal(t, exitIncomplete, code, stderr)
	sum = lastLine(t, out)
	assert.Equal(t, "failed", sum["status"])
	assert.EqualValues(t, exitIncomplete, sum["exit_code"])
	assert.Contains(t, sum["error"], "landed events are missing past the grace period")
	assert.EqualValues(t, 0, sum["events"])

	f.put(t, 2, []byte(event("c", 3, "c", 1002)+"\n"+event("d", 2, "b", 1003)+"\n"), false)
	code, out, stderr = f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state, "--grace", "1ns")
	require.Equal(t, exitOK, code, stderr)
	assert.EqualValues(t, 3, lastLine(t, out)["events"])
	code, out, _ = f.run(t, "status", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, `shop.items  {"0":5}`)
}

// TestGzipBombBoundedMemory: 4 MB of gzip members (RFC 1952) that expand
// to one 4 GiB line are bad input, read in a child process whose peak
// resident memory stays under 1 GiB.
func TestGzipBombBoundedMemory(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	f := newFixture(t, testSpec(), event("c", 1, "a", 1000))
	var m bytes.Buffer
	w, err := gzip.NewWriterLevel(&m, gzip.BestCompression)
	require.NoError(t, err)
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for i := 0; i < 64; i++ {
		_, err := w.Write(chunk)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	f.put(t, 1, bytes.Repeat(m.Bytes(), 64), true) // 64 x 64 MiB

	for _, args := range [][]string{nil, {"--max-compression-ratio", "100000"}} {
		cmd := exec.Command(os.Args[0], append([]string{"run", "--job", f.job, "--events", f.events, "--state", f.state}, args...)...)
		cmd.Env = append(os.Environ(), childMainEnv+"=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err = cmd.Run()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "stderr: %s", errb.String())
		assert.Equal(t, exitBadInput, ee.ExitCode(), errb.String())
		sum := lastLine(t, out.String())
		assert.Contains(t, sum["error"], topic+"+0+0000000001.json.gz")
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // kB on Linux
		t.Logf("%v: peak RSS %d MiB: %s", args, rss>>20, sum["error"])
		assert.Less(t, rss, int64(1<<30), "peak resident memory")
	}
}
