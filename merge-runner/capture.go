package main

import (
	"errors"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/merge-runner/internal/capture"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

func newCaptureCmd() *cobra.Command {
	var (
		c         common
		eventsDir string
		follow    bool
		maxEvents int
		maxWait   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "capture --job SPEC [--events DIR] [--follow]",
		Short: "Land a PostgreSQL source's changes as Debezium would, from a logical replication slot",
		Long: `Reads the source tables of a spec with source.debezium.capture through a
logical replication slot (pgoutput) and lands the changes as the Debezium
PostgreSQL connector, Kafka Connect's JsonConverter and the S3 sink would
land them, so that "merge-runner run" applies them unchanged. The first run
creates the publication and the slot and lands a snapshot of every table;
later runs continue from the state object <prefix>/_capture/<slot>/state.json.
Without --follow the run lands everything committed before it began and
exits; with it, it runs until SIGINT or SIGTERM, then lands what it has and
exits. The source comes from $` + envSourceURI + ` (+ _USER, _PASSWORD), the
landing from --events or the spec's bucket at $` + envLandingS3 + `_*.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := c.logger(cmd)
			if err != nil {
				return err
			}
			spec, err := c.spec()
			if err != nil {
				return err
			}
			if spec.Source.Debezium == nil || spec.Source.Debezium.Capture == nil {
				return configErrorf("%s: the job spec has no source.debezium.capture; its events are landed by Debezium and Kafka Connect, so there is nothing to capture", c.job)
			}
			uri := os.Getenv(envSourceURI)
			if uri == "" {
				return configErrorf("capture: set %s to the source database (postgresql://HOST[:PORT]/DB), and %s and %s to a login with REPLICATION", envSourceURI, envSourceUser, envSourcePassword)
			}
			var w landing.Writer
			if eventsDir != "" {
				if err := os.MkdirAll(eventsDir, 0o755); err != nil {
					return configErrorf("--events %s: %v", eventsDir, err)
				}
				w = landing.NewLocalStore(eventsDir)
			} else {
				st, err := openS3Landing(cmd.Context(), spec.Source.Debezium.Bucket, landingS3())
				if err != nil {
					return err
				}
				w = st.(landing.Writer)
			}
			stats, err := capture.Run(cmd.Context(), capture.Config{
				Spec: spec, URI: uri, User: os.Getenv(envSourceUser), Password: os.Getenv(envSourcePassword),
				Store: w, Follow: follow, MaxEvents: maxEvents, MaxWait: maxWait, Logger: log,
			})
			var ce *capture.ConfigError
			var se *capture.StateError
			if errors.As(err, &ce) || errors.As(err, &se) {
				err = &configError{err}
			}
			if stats != nil {
				writeJSONLine(cmd.OutOrStdout(), map[string]any{
					"status": map[bool]string{true: "ok", false: "failed"}[err == nil], "exit_code": exitCode(err),
					"snapshot_rows": stats.SnapshotRows, "events": stats.Events, "objects": stats.Objects,
					"transactions": stats.Transactions, "confirmed_lsn": stats.ConfirmedLSN,
				})
			}
			return err
		},
	}
	c.register(cmd)
	f := cmd.Flags()
	f.StringVar(&eventsDir, "events", "", "land into this local folder instead of the spec's landing bucket")
	f.BoolVar(&follow, "follow", false, "keep streaming until SIGINT or SIGTERM (default: exit once caught up with the server's WAL position at start)")
	f.IntVar(&maxEvents, "max-events", 10000, "land the open objects once they hold this many events (checked at transaction ends)")
	f.DurationVar(&maxWait, "max-wait", 10*time.Second, "land the open objects once their first event is this old (checked at transaction ends)")
	return cmd
}
