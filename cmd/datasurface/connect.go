package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/deploy/connect"
)

func newConnectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Deploy the rendered Kafka Connect connectors",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newConnectApply())
	return cmd
}

func newConnectApply() *cobra.Command {
	var rawURL string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply DIR --url KAFKA_CONNECT_URL [--dry-run]",
		Short: "Make Kafka Connect's connectors equal the rendered connect/*.json",
		Long: `Make a Kafka Connect cluster's connectors equal the connector configs
rendered by "datasurface generate": every connect/*.json under DIR (a deploy
tree, a platform's folder or a connect folder).

- A rendered connector that does not exist is created, one whose live config
  differs is updated (PUT /connectors/NAME/config), others are unchanged.
- A connector whose config has datasurface.managed=true and that is no longer
  rendered is deleted. Connectors without that marker are never touched; a
  rendered connector whose name is taken by one of them is a failure.
- Deletions run first, then the rendered connectors in name order. Requests
  refused with 409 (a worker rebalance) are retried with backoff.
- Connectors are independent: a failure is reported (connector, HTTP status,
  Kafka Connect's message) and the others are still applied.

All the connectors of a Kafka Connect cluster that datasurface manages must be
applied together: apply the whole deploy tree, not one platform of several
that share a cluster.

With --dry-run the live connectors are read and the actions printed, nothing
is changed. DATASURFACE_CONNECT_USER and DATASURFACE_CONNECT_PASSWORD, when
set, are sent as basic auth.

Exit status: 0 when every connector is as rendered (or, with --dry-run, could
be made so); 1 when a connector failed or Kafka Connect could not be read;
2 when DIR or the command line cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rawURL == "" {
				return &exitError{code: exitUnread, err: errors.New("--url is required: Kafka Connect's REST URL, e.g. http://connect:8083")}
			}
			c, err := connect.NewClient(rawURL)
			if err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			c.User, c.Password = os.Getenv("DATASURFACE_CONNECT_USER"), os.Getenv("DATASURFACE_CONNECT_PASSWORD")
			if c.User == "" && c.Password != "" {
				return &exitError{code: exitUnread, err: errors.New("DATASURFACE_CONNECT_PASSWORD is set without DATASURFACE_CONNECT_USER")}
			}
			rendered, err := connect.Load(args[0])
			if err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			_, err = connect.Apply(cmd.Context(), c, rendered, connect.Options{DryRun: dryRun, Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr()})
			if err != nil {
				return &exitError{code: exitProblems, err: fmt.Errorf("connect apply: %w", err)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rawURL, "url", "", "Kafka Connect's REST URL, e.g. http://connect:8083")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change, change nothing")
	return cmd
}
