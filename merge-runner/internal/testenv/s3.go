package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Environment variables naming an existing S3-compatible server to use
// instead of starting versitygw.
const (
	S3EndpointEnv  = "DATASURFACE_TEST_S3_ENDPOINT"
	S3AccessKeyEnv = "DATASURFACE_TEST_S3_ACCESS_KEY"
	S3SecretKeyEnv = "DATASURFACE_TEST_S3_SECRET_KEY"
	S3RegionEnv    = "DATASURFACE_TEST_S3_REGION"
	// VersitygwEnv names a prebuilt versitygw binary to use instead of
	// building tools/s3gw.
	VersitygwEnv = "DATASURFACE_VERSITYGW"
)

// versitygwPkg is the main package of the S3 gateway, pinned by
// tools/s3gw/go.mod.
const (
	versitygwModule = "github.com/versity/versitygw"
	versitygwPkg    = versitygwModule + "/cmd/versitygw"
)

// S3Server is a running S3-compatible server, addressed path-style.
type S3Server struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:40123.
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
}

var (
	s3Once sync.Once
	s3srv  *S3Server
	s3Err  error
)

// S3 returns the S3-compatible server of this test binary, starting it on
// first use: versitygw serving a temporary folder on a free loopback port
// (built once from tools/s3gw into the user cache directory, which takes a
// few minutes the first time), or the server DATASURFACE_TEST_S3_ENDPOINT
// names. Tests isolate themselves by creating their own buckets (Bucket).
func S3(tb testing.TB) *S3Server {
	tb.Helper()
	s3Once.Do(func() { s3srv, s3Err = startS3() })
	if s3Err != nil {
		tb.Fatalf("testenv: no S3 server: %v", s3Err)
	}
	return s3srv
}

// Client is an S3 client for the server.
func (s *S3Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		// Checksums only where the protocol requires them: what every
		// S3-compatible server supports.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Bucket creates a new bucket and returns its name: name followed by a
// random suffix, so that tests (and reruns with -count) never share one.
// name must be lower case letters, digits and hyphens, at most 40 long.
func (s *S3Server) Bucket(tb testing.TB, name string) string {
	tb.Helper()
	bucket := name + "-" + randomHex(6)
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if s.Region != "" && s.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.Region),
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, in); err != nil {
		tb.Fatalf("testenv: create bucket %s at %s: %v", bucket, s.Endpoint, err)
	}
	return bucket
}

// Put stores data as the object key in bucket.
func (s *S3Server) Put(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.Client().PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		tb.Fatalf("testenv: put s3://%s/%s at %s: %v", bucket, key, s.Endpoint, err)
	}
}

func startS3() (*S3Server, error) {
	if ep := os.Getenv(S3EndpointEnv); ep != "" {
		s := &S3Server{
			Endpoint:  strings.TrimSuffix(ep, "/"),
			Region:    os.Getenv(S3RegionEnv),
			AccessKey: os.Getenv(S3AccessKeyEnv),
			SecretKey: os.Getenv(S3SecretKeyEnv),
		}
		if s.Region == "" {
			s.Region = "us-east-1"
		}
		if s.AccessKey == "" || s.SecretKey == "" {
			return nil, fmt.Errorf("%s is set: also set %s and %s", S3EndpointEnv, S3AccessKeyEnv, S3SecretKeyEnv)
		}
		return s, nil
	}
	bin, err := versitygwBinary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := startVersitygw(bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// versitygwBinary returns the path of the versitygw binary, building it
// from tools/s3gw the first time. The build goes to a temporary name and is
// renamed into place, under a lock file so that test binaries running in
// parallel build it once.
func versitygwBinary() (string, error) {
	if p := os.Getenv(VersitygwEnv); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("%s=%s is not an executable file", VersitygwEnv, p)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", fmt.Errorf("%v; or set %s to a versitygw binary", err, VersitygwEnv)
	}
	toolDir := filepath.Join(root, "tools", "s3gw")
	version, err := requiredVersion(filepath.Join(toolDir, "go.mod"), versitygwModule)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "datasurface")
	bin := filepath.Join(dir, "versitygw-"+version)
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(bin + ".lock")
	if err != nil {
		return "", fmt.Errorf("lock %s: %w", bin+".lock", err)
	}
	defer unlock()
	if isExecutable(bin) { // another test binary built it while we waited
		return bin, nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if !isExecutable(goTool) {
			return "", fmt.Errorf("building versitygw needs the go command on PATH: %v; or set %s", err, VersitygwEnv)
		}
	}
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	fmt.Fprintf(os.Stderr, "testenv: building %s@%s into %s (once; takes a few minutes)\n", versitygwPkg, version, bin)
	start := time.Now()
	cmd := exec.Command(goTool, "build", "-C", toolDir, "-o", tmp, versitygwPkg)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	fmt.Fprintf(os.Stderr, "testenv: built versitygw in %s\n", time.Since(start).Round(time.Second))
	return bin, nil
}

func startVersitygw(bin string) (*S3Server, error) {
	dir, err := os.MkdirTemp("", "datasurface-s3-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &S3Server{
		Endpoint:  fmt.Sprintf("http://127.0.0.1:%d", port),
		Region:    "us-east-1",
		AccessKey: "test" + randomHex(8),
		SecretKey: randomHex(20),
	}
	logPath := filepath.Join(dir, "versitygw.log")
	log, err := os.Create(logPath)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin,
		"--port", fmt.Sprintf("127.0.0.1:%d", port),
		"--access", s.AccessKey,
		"--secret", s.SecretKey,
		"--region", s.Region,
		"--health", "/health",
		"--quiet",
		"posix", data)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	// Keys on the command line only: no VGW_*/ROOT_* settings from the
	// environment leak into the server.
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = os.RemoveAll(dir)
	}
	if err := waitHealthy(s.Endpoint+"/health", exited, 30*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("versitygw (%s): %v; log:\n%s", strings.Join(cmd.Args, " "), err, tail(logPath, 4000))
	}
	stopWatchdog := startWatchdog(fmt.Sprintf("kill %d 2>/dev/null; sleep 1; kill -9 %d 2>/dev/null; rm -rf %s",
		cmd.Process.Pid, cmd.Process.Pid, shq(dir)))
	onCleanup(func() {
		stopWatchdog()
		stop()
	})
	return s, nil
}

// cleanEnv is the environment without the variables versitygw reads.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "VGW_") || strings.HasPrefix(name, "ROOT_") || name == "LOGFILE" || name == "WEBHOOK" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// waitHealthy polls url until it answers 200, the process exits, or the
// timeout passes.
func waitHealthy(url string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("the server exited")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not healthy after %s: %v", timeout, lastErr)
}
