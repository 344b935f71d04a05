package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresDSNEnv names the environment variable with the DSN of an existing
// PostgreSQL server to use instead of starting one.
const PostgresDSNEnv = "DATASURFACE_TEST_PG_DSN"

// pgInstallHint says what to do when there is no PostgreSQL to use.
const pgInstallHint = "install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql; " +
	"they are looked for under /usr/lib/postgresql/*/bin, then initdb and pg_ctl on PATH) " +
	"or set " + PostgresDSNEnv + " to the DSN of a server whose role has CREATEDB " +
	"(e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)"

// pgServer is the server Postgres creates databases in.
type pgServer struct {
	// admin is a DSN of a database to connect to for CREATE DATABASE.
	admin string
	// external is true for a server from the environment: databases are
	// dropped after the test since the server outlives the binary.
	external bool
}

var (
	pgOnce sync.Once
	pg     *pgServer
	pgErr  error
)

// Postgres returns the DSN of a new, empty database on a running PostgreSQL
// server, so that tests do not see each other's tables. The server is the
// one DATASURFACE_TEST_PG_DSN names, or else a throwaway cluster started
// once per test binary (stopped by Cleanup). There is no skipping: without
// a server the test fails and says what to install or set.
func Postgres(tb testing.TB) string {
	tb.Helper()
	pgOnce.Do(func() { pg, pgErr = startPostgres() })
	if pgErr != nil {
		tb.Fatalf("testenv: no PostgreSQL: %v", pgErr)
	}
	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.admin)
	if err != nil {
		tb.Fatalf("testenv: connect to PostgreSQL at %s: %v", redact(pg.admin), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("testenv: create database %s at %s: %v (the role needs CREATEDB)", name, redact(pg.admin), err)
	}
	if pg.external {
		admin := pg.admin
		tb.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			conn, err := pgx.Connect(ctx, admin)
			if err != nil {
				tb.Logf("testenv: drop database %s: %v", name, err)
				return
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				tb.Logf("testenv: drop database %s: %v", name, err)
			}
		})
	}
	dsn, err := withDatabase(pg.admin, name)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return dsn
}

// withDatabase is dsn naming database db instead.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN %s: %w", redact(dsn), err)
		}
		u.Path = "/" + db
		u.RawPath = ""
		return u.String(), nil
	}
	// keyword=value form: a later keyword wins.
	return dsn + " dbname=" + db, nil
}

// redact hides a password in a URL DSN.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func startPostgres() (*pgServer, error) {
	if dsn := os.Getenv(PostgresDSNEnv); dsn != "" {
		if _, err := pgx.ParseConfig(dsn); err != nil {
			return nil, fmt.Errorf("%s is not a valid DSN: %w", PostgresDSNEnv, err)
		}
		return &pgServer{admin: dsn, external: true}, nil
	}
	bin, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := startCluster(bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// findPostgresBin is the folder with initdb and pg_ctl: the newest
// /usr/lib/postgresql/<version>/bin, else the folder of pg_ctl on PATH.
func findPostgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	type cand struct {
		dir     string
		version float64
	}
	var cands []cand
	for _, d := range dirs {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		if err != nil {
			continue
		}
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			cands = append(cands, cand{d, v})
		}
	}
	if len(cands) > 0 {
		sort.Slice(cands, func(i, j int) bool { return cands[i].version > cands[j].version })
		return cands[0].dir, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil {
			dir := filepath.Dir(p)
			if isExecutable(filepath.Join(dir, "initdb")) {
				return dir, nil
			}
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl) found: " + pgInstallHint)
}

func isExecutable(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// pgRunner runs PostgreSQL's programs as a user they accept: initdb and the
// server refuse to run as root, so as root they run as the postgres user.
type pgRunner struct {
	asPostgres bool
	uid, gid   int
}

func newPGRunner() (pgRunner, error) {
	if os.Geteuid() != 0 {
		return pgRunner{}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return pgRunner{}, fmt.Errorf("running as root, PostgreSQL must run as the postgres system user, but: %v; "+
			"create it (useradd -r postgres), run the tests as another user, or set %s", err, PostgresDSNEnv)
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		return pgRunner{}, fmt.Errorf("running as root, runuser (util-linux) is needed to run PostgreSQL as the postgres user: %v; "+
			"install util-linux, run the tests as another user, or set %s", err, PostgresDSNEnv)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return pgRunner{asPostgres: true, uid: uid, gid: gid}, nil
}

// argv is the command line that runs argv as the right user.
func (r pgRunner) argv(argv ...string) []string {
	if r.asPostgres {
		return append([]string{"runuser", "-u", "postgres", "--"}, argv...)
	}
	return argv
}

// run runs argv in dir with its output going to logPath (a file, not a
// pipe: the server started by pg_ctl must not hold our pipes open).
func (r pgRunner) run(dir, logPath string, argv ...string) error {
	full := r.argv(argv...)
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v; output:\n%s", strings.Join(full, " "), err, tail(logPath, 4000))
	}
	return nil
}

func startCluster(bin string) (*pgServer, error) {
	r, err := newPGRunner()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "datasurface-pg-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(dir)
		}
	}()
	if r.asPostgres {
		// MkdirTemp made it 0700 and ours; the postgres user must own it.
		if err := os.Chown(dir, r.uid, r.gid); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	cmdLog := filepath.Join(dir, "commands.log")
	serverLog := filepath.Join(dir, "server.log")
	if err := r.run(dir, cmdLog, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		hint := ""
		if r.asPostgres {
			hint = " (running as root, initdb runs as the postgres user: every folder above " + dir + " must be searchable by it; set TMPDIR if not)"
		}
		return nil, fmt.Errorf("initdb failed%s: %w", hint, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	opts := strings.Join([]string{
		"-c port=" + itoa(port),
		"-c listen_addresses=127.0.0.1",
		"-c unix_socket_directories=" + dir,
		"-c fsync=off",
		"-c synchronous_commit=off",
		"-c full_page_writes=off",
		// Logical decoding, for tests that read the WAL's commit order.
		"-c wal_level=logical",
		"-c max_replication_slots=64",
		"-c max_wal_senders=16",
	}, " ")
	pgCtl := filepath.Join(bin, "pg_ctl")
	if err := r.run(dir, cmdLog, pgCtl, "start", "-D", data, "-l", serverLog, "-w", "-t", "60", "-o", opts); err != nil {
		return nil, fmt.Errorf("pg_ctl start failed: %w; server log:\n%s", err, tail(serverLog, 4000))
	}
	ok = true
	stopArgv := []string{pgCtl, "stop", "-D", data, "-m", "immediate", "-w"}
	stopWatchdog := startWatchdog(shellCommand(r.argv(stopArgv...)...) + " >/dev/null 2>&1; rm -rf " + shq(dir))
	onCleanup(func() {
		stopWatchdog()
		if err := r.run(dir, cmdLog, stopArgv...); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stop PostgreSQL: %v\n", err)
		}
		_ = os.RemoveAll(dir)
	})
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	// pg_ctl -w waited for the server to accept connections; check it
	// answers on the TCP port we return.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var lastErr error
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, admin)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(context.Background())
			if err == nil {
				return &pgServer{admin: admin}, nil
			}
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("PostgreSQL started but does not answer at %s: %v; server log:\n%s", admin, lastErr, tail(serverLog, 4000))
}
