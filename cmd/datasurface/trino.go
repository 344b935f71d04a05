package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/deploy/trino"
)

func newTrinoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trino",
		Short: "Deploy the rendered Trino schemas and views",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newTrinoApply())
	return cmd
}

func newTrinoApply() *cobra.Command {
	var rawURL, user string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply DIR --url TRINO_URL [--user USER] [--dry-run]",
		Short: "Run the rendered trino/*.sql through Trino",
		Long: `Run every trino/*.sql under DIR (a deploy tree, a platform's folder or a
trino folder), files sorted by path, through Trino's HTTP client protocol.

Each file is split into statements at semicolons outside strings, quoted
identifiers and comments; comment-only statements are dropped. Every file is
read and split before anything runs. Statements run in order, each file in a
session of its own, and the first one that fails stops the run: its file and
line, the statement and Trino's error are printed. The rendered statements are
idempotent (CREATE SCHEMA IF NOT EXISTS, CREATE OR REPLACE VIEW), so running
the tree again after a fix is safe. Views no longer rendered are not dropped.

Statements run as --user (default $DATASURFACE_TRINO_USER, else
"datasurface"). DATASURFACE_TRINO_PASSWORD, when set, is sent as basic auth,
and only to an https URL.

With --dry-run the statements are printed, as SQL, and nothing is sent.

Exit status: 0 when every statement ran; 1 when one failed or Trino could not
be reached; 2 when DIR, a file or the command line cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rawURL == "" && !dryRun {
				return &exitError{code: exitUnread, err: errors.New("--url is required: Trino's URL, e.g. https://trino:8443")}
			}
			if user == "" {
				user = os.Getenv("DATASURFACE_TRINO_USER")
			}
			files, err := trino.Load(args[0])
			if err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			var c *trino.Client
			if rawURL != "" {
				if c, err = trino.NewClient(rawURL, user, os.Getenv("DATASURFACE_TRINO_PASSWORD")); err != nil {
					return &exitError{code: exitUnread, err: err}
				}
			}
			if _, err := trino.Run(cmd.Context(), c, files, trino.Options{DryRun: dryRun, Out: cmd.OutOrStdout()}); err != nil {
				return &exitError{code: exitProblems, err: fmt.Errorf("trino apply: %w", err)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rawURL, "url", "", "Trino's URL, e.g. https://trino:8443 (not needed with --dry-run)")
	cmd.Flags().StringVar(&user, "user", "", `the Trino user (default $DATASURFACE_TRINO_USER, else "datasurface")`)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the statements, send nothing")
	return cmd
}
