// Command datasurface checks, renders and publishes a DataSurface model.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes shared by the commands.
const (
	exitOK       = 0
	exitProblems = 1 // the model has errors
	exitUnread   = 2 // the model (or the command line) could not be read
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "datasurface:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "datasurface:", err)
	return exitUnread
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "datasurface",
		Short:         "Check, render and publish a DataSurface ecosystem model",
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddCommand(newValidate(), newSchema(), newGenerate(), newSynth())
	root.AddCommand(newPlan(), newJobSpecSchema())
	root.AddCommand(newCheck(), newConnectCmd(), newTrinoCmd(), newPublishCmd())
	return root
}
