//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childArgsEnv makes the test binary run one datasurface command line (JSON
// array) as TestChildMain, so that a test measures it as a process of its own.
const childArgsEnv = "DATASURFACE_TEST_CHILD_ARGS"

func TestChildMain(t *testing.T) {
	raw := os.Getenv(childArgsEnv)
	if raw == "" {
		t.Skip("runs only as the child process of other tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(context.Background(), args, os.Stdout, os.Stderr))
}

// memoryCeiling is what a refused input may cost at most.
const memoryCeiling = 1 << 30

type childResult struct {
	code           int
	stdout, stderr string
	peakRSS        int64  // bytes, the kernel's ru_maxrss
	killed         string // why the watchdog killed the child, if it did
}

// runChild runs a command line in a child process, killing it when its
// resident memory passes memoryCeiling or it runs longer than timeout (a
// reader that follows a link to /dev/zero, or opens a FIFO, does both).
func runChild(t *testing.T, timeout time.Duration, args ...string) childResult {
	t.Helper()
	raw, err := json.Marshal(args)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildMain$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(raw))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	killed := make(chan string, 1)
	go func() {
		deadline := time.After(timeout)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-deadline:
				killed <- fmt.Sprintf("still running after %v", timeout)
				_ = cmd.Process.Kill()
				return
			case <-tick.C:
				if rss := residentBytes(cmd.Process.Pid); rss > memoryCeiling {
					killed <- fmt.Sprintf("resident memory passed %d MiB", rss>>20)
					_ = cmd.Process.Kill()
					return
				}
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	res := childResult{stdout: out.String(), stderr: errb.String()}
	select {
	case res.killed = <-killed:
	default:
	}
	var ee *exec.ExitError
	if err != nil && !assert.ErrorAs(t, err, &ee) {
		return res
	}
	res.code = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.peakRSS = ru.Maxrss * 1024 // kB on Linux
	}
	return res
}

// residentBytes reads a process's current resident memory (0 when gone).
func residentBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// exampleDir copies examples/customer-cdc into a temporary folder.
func exampleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../examples/customer-cdc")))
	return dir
}

// TestRefusedInputsBoundedMemory: each input is refused with an error that
// names the file (and the position, for what is inside a file), by a child
// process whose peak resident memory stays under 1 GiB.
func TestRefusedInputsBoundedMemory(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	store := "zones/retail/teams/crm/datastores/customer_db.yaml"
	withDoc := func(size int) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, store)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			f, err := os.Create(p)
			require.NoError(t, err)
			defer f.Close()
			head, rest, ok := strings.Cut(string(b), "documentation: Customers and their addresses, from the CRM's PostgreSQL.\n")
			require.True(t, ok)
			_, err = f.WriteString(head + "documentation: ")
			require.NoError(t, err)
			chunk := []byte(strings.Repeat("Customers and their addresses. ", 1<<15))
			for n := 0; n < size; n += len(chunk) {
				_, err = f.Write(chunk[:min(len(chunk), size-n)])
				require.NoError(t, err)
			}
			_, err = f.WriteString("\n" + rest)
			require.NoError(t, err)
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		args  []string // after "validate DIR"
		code  string
		at    string // what the error's position starts with, after the folder
		says  string
	}{
		{"a symlink to /dev/zero", func(t *testing.T, dir string) {
			require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zones/retail/teams/crm/datastores/zero.yaml")))
		}, nil, "load-file-kind", "zones/retail/teams/crm/datastores/zero.yaml:1:1", "symbolic link"},
		{"ecosystem.yaml a symlink to /dev/zero", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "ecosystem.yaml")))
			require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "ecosystem.yaml")))
		}, nil, "load-file-kind", "ecosystem.yaml:1:1", "symbolic link"},
		{"a named pipe", func(t *testing.T, dir string) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "zones/retail/teams/crm/datastores/pipe.yaml"), 0o644))
		}, nil, "load-file-kind", "zones/retail/teams/crm/datastores/pipe.yaml:1:1", "named pipe"},
		{"a 3 GiB file", func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "zones/retail/teams/crm/datastores/huge.yaml"))
			require.NoError(t, err)
			require.NoError(t, f.Truncate(3<<30)) // sparse: no disk, no time
			require.NoError(t, f.Close())
		}, nil, "load-limit", "zones/retail/teams/crm/datastores/huge.yaml:1:1", "--max-file-bytes"},
		{"a 200 MiB documentation field", withDoc(200 << 20),
			nil, "load-limit", store + ":1:1", "--max-file-bytes"},
		{"a 200 MiB documentation field in a file the limits allow", withDoc(200 << 20),
			[]string{"--max-file-bytes", "256MiB", "--max-model-bytes", "512MiB"}, "load-limit", store + ":2:16", "--max-text-bytes"},
		{"nesting 4000 deep", func(t *testing.T, dir string) {
			col := "{name: leaf, type: int32}"
			for i := 0; i < 2000; i++ {
				col = "{name: n" + strconv.Itoa(i) + ", type: struct, fields: [" + col + "]}"
			}
			p := filepath.Join(dir, store)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			s := strings.Replace(string(b), "      - {name: id, type: varchar(20)}\n", "      - {name: id, type: varchar(20)}\n      - "+col+"\n", 1)
			require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		}, nil, "load-limit", store + ":16:", "--max-depth"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := exampleDir(t)
			tc.setup(t, dir)
			res := runChild(t, 30*time.Second, append([]string{"validate", dir, "--format", "json"}, tc.args...)...)
			t.Logf("peak RSS %d MiB", res.peakRSS>>20)
			require.Empty(t, res.killed, "the child was killed")
			assert.Less(t, res.peakRSS, int64(memoryCeiling), "peak resident memory")
			require.Equal(t, exitUnread, res.code, shorten(res.stdout+res.stderr))
			var rep struct {
				Problems []struct {
					Code, File, Message string
					Line, Column        int
				}
			}
			require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep), shorten(res.stdout))
			found := false
			for _, p := range rep.Problems {
				at := fmt.Sprintf("%s:%d:%d", strings.TrimPrefix(p.File, dir+"/"), p.Line, p.Column)
				found = found || p.Code == tc.code && strings.HasPrefix(at, tc.at) && strings.Contains(p.Message, tc.says)
			}
			assert.True(t, found, "want %s at %s saying %q; got %s", tc.code, tc.at, tc.says, shorten(res.stdout))
		})
	}
}

// TestCheckRefusesDevZeroBoundedMemory: a committed symlink to /dev/zero is
// refused by check, which reads the commit, in bounded memory.
func TestCheckRefusesDevZeroBoundedMemory(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	unsetEnv(t)
	r := newCheckRepo(t)
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(r.dir, crmStores, "zero.yaml")))
	r.commit("a link to /dev/zero")
	res := runChild(t, 60*time.Second, "check", "--repo", r.dir, "--base", "HEAD~1", "--source", checkCRMOwner, "--format", "json")
	t.Logf("peak RSS %d MiB", res.peakRSS>>20)
	require.Empty(t, res.killed, "the child was killed")
	assert.Less(t, res.peakRSS, int64(memoryCeiling), "peak resident memory")
	require.Equal(t, exitProblems, res.code, shorten(res.stdout+res.stderr))
	assert.Contains(t, parseCheckJSON(t, res.stdout).codes(), "error load-file-kind")
}

// TestModelSizeLimitBoundedMemory: a model larger than --max-model-bytes is
// refused, in bounded memory, naming the limit.
func TestModelSizeLimitBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 140 MiB model")
	}
	dir := filepath.Join(t.TempDir(), "m")
	code, _, errOut := runCLI(t, "synth", "--quiet", "--datasets", "190000", "--out", dir)
	require.Equal(t, exitOK, code, errOut)
	res := runChild(t, 120*time.Second, "validate", dir, "--format", "json")
	t.Logf("peak RSS %d MiB", res.peakRSS>>20)
	require.Empty(t, res.killed, "the child was killed")
	assert.Less(t, res.peakRSS, int64(memoryCeiling), "peak resident memory")
	require.Equal(t, exitUnread, res.code, shorten(res.stdout+res.stderr))
	assert.Contains(t, res.stdout, "--max-model-bytes")
}
