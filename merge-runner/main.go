// Command merge-runner applies a stream's captured changes to its Iceberg
// tables, exactly once. Airflow runs it with a job spec (generated from the
// model) and endpoints and secrets in the environment.
//
// Exit codes:
//
//	0  done
//	2  bad configuration: the job spec, flags, environment or a table's
//	   schema do not allow the run; fix them, retrying will not help
//	3  bad input data (jobspec.BadInputExitCode): an event cannot be
//	   applied; nothing of its batch was committed; do not retry
//	4  commit conflict or transient I/O: retry; the position committed
//	   with the data says where to resume
//	5  landed events missing (jobspec.IncompleteExitCode): an offset gap
//	   did not fill within the grace period; what came before it was
//	   applied; land the missing objects, then run again
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK         = 0
	exitConfig     = 2
	exitBadInput   = jobspec.BadInputExitCode
	exitRetryable  = 4
	exitIncomplete = jobspec.IncompleteExitCode
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// configError is a problem with the flags, environment or job spec.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

func configErrorf(format string, args ...any) error {
	return &configError{fmt.Errorf(format, args...)}
}

// exitCode classifies an error.
func exitCode(err error) int {
	var ce *configError
	var te *target.ConfigError
	var ie *merge.IncompleteError
	switch {
	case err == nil:
		return exitOK
	case badinput.Is(err):
		return exitBadInput
	case errors.As(err, &ie):
		return exitIncomplete
	case errors.As(err, new(*differError)):
		return exitDiffer
	case errors.As(err, &ce), errors.As(err, &te):
		return exitConfig
	}
	return exitRetryable
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "merge-runner",
		Short:         "Apply captured changes to Iceberg tables, exactly once",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &configError{err} })
	root.AddCommand(newRunCmd(), newStatusCmd(), newMaintainCmd(), newShowCmd(), newValidateCmd(), newCaptureCmd(), newEnsureCmd(), newInputsCmd(), newReconcileCmd())
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	if err != nil {
		var reported *reportedError
		if !errors.As(err, &reported) {
			fmt.Fprintln(stderr, "merge-runner:", err)
		}
		if code == exitRetryable && isUsage(err) {
			code = exitConfig
		}
	}
	return code
}

// reportedError has already been written out (in the summary line).
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// isUsage recognizes cobra's own command-line errors, which carry no type.
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
