// Package testenv starts the real servers tests run against: a throwaway
// PostgreSQL cluster and an S3-compatible server (versitygw over a temporary
// folder). Nothing here is a mock.
//
// Each server is started at most once per test binary, on first use, and
// stopped by Cleanup. A package whose tests use it should have
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// If a test binary dies without running Cleanup (a test timeout, a crash),
// a small watchdog process notices that the binary is gone and stops the
// servers and removes their folders.
//
// Environment:
//
//   - DATASURFACE_TEST_PG_DSN: use this PostgreSQL server instead of starting
//     one; its role needs CREATEDB.
//   - DATASURFACE_TEST_S3_ENDPOINT, DATASURFACE_TEST_S3_ACCESS_KEY,
//     DATASURFACE_TEST_S3_SECRET_KEY (and optionally DATASURFACE_TEST_S3_REGION):
//     use this S3-compatible server (e.g. MinIO) instead of starting versitygw.
//   - DATASURFACE_VERSITYGW: path to a prebuilt versitygw binary; otherwise it
//     is built once from tools/s3gw into the user cache directory.
package testenv

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// mainModule is the module path of the repository's root go.mod.
const mainModule = "github.com/datasurface/datasurface"

// Main runs the tests and then Cleanup, and exits with the tests' code.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

// onCleanup registers f to run (last registered first) in Cleanup.
func onCleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

// Cleanup stops every server this package started and removes their
// folders. It is safe to call more than once; servers are not restarted
// after it.
func Cleanup() {
	cleanupMu.Lock()
	fs := cleanups
	cleanups = nil
	cleanupMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. Another process
// may take it before the caller binds it; callers retry on a failed start.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shq quotes s for a POSIX shell.
func shq(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellCommand renders argv as one shell command line.
func shellCommand(argv ...string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shq(a)
	}
	return strings.Join(q, " ")
}

// startWatchdog starts a detached shell that waits for this process to exit
// and then runs script (which stops a server and removes its folder). It
// returns a function that stops the watchdog, for a normal Cleanup.
func startWatchdog(script string) func() {
	loop := fmt.Sprintf("while kill -0 %d 2>/dev/null; do sleep 1; done; %s", os.Getpid(), script)
	cmd := exec.Command("/bin/sh", "-c", loop)
	cmd.Dir = "/"
	// Its own process group, so an interrupt sent to the test's group does
	// not take the watchdog with it. No stdio is inherited, so `go test`
	// does not wait for the watchdog's pipes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		// Without a watchdog only an abnormal exit leaks the server.
		fmt.Fprintf(os.Stderr, "testenv: cannot start watchdog: %v\n", err)
		return func() {}
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return func() {
		_ = cmd.Process.Kill()
		<-done
	}
}

// repoRoot finds the folder of the main module's go.mod by walking up from
// the working directory (a test runs in its package's folder), then from
// this source file.
func repoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if isMainModule(filepath.Join(dir, "go.mod")) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("testenv: cannot find the repository root (a go.mod declaring module %s) above %s", mainModule, strings.Join(starts, " or "))
}

func isMainModule(gomod string) bool {
	path, err := modulePath(gomod)
	return err == nil && path == mainModule
}

// modulePath reads the module line of a go.mod.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("no module line")
}

// requiredVersion reads the version a go.mod requires of module mod.
func requiredVersion(gomod, mod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "require" {
			fields = fields[1:]
		}
		if len(fields) >= 2 && fields[0] == mod {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", gomod, mod)
}

// tail is the last n bytes of a log file, for error messages.
func tail(path string, n int64) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if int64(len(data)) > n {
		data = data[int64(len(data))-n:]
	}
	return strings.TrimSpace(string(data))
}

// itoa is strconv.Itoa, shorter at call sites building argv.
func itoa(i int) string { return strconv.Itoa(i) }
