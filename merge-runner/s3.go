package main

import (
	"context"
	"errors"
	"os"

	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// openS3Landing opens the landing bucket at the endpoint the environment names.
func openS3Landing(ctx context.Context, bucket string, s3 target.S3) (landing.Store, error) {
	if bucket == "" {
		return nil, configErrorf("the job spec names no landing bucket; set source.debezium.bucket or pass --events")
	}
	st, err := landing.NewS3Store(ctx, landing.S3Config{
		Endpoint: s3.Endpoint, Region: s3.Region, Bucket: bucket,
		AccessKeyID: s3.AccessKeyID, SecretAccessKey: s3.SecretAccessKey,
	})
	switch {
	case errors.Is(err, landing.ErrNoRegion):
		return nil, configErrorf("landing bucket %s: no region: set %s (the region of AWS S3), or %s to an S3-compatible server's URL "+
			"(its region then defaults to us-east-1); without an access key AWS_REGION or the AWS configuration file also give it; or pass --events DIR for a local folder",
			bucket, landingVar("_REGION"), landingVar("_ENDPOINT"))
	case errors.Is(err, landing.ErrBadEndpoint):
		return nil, configErrorf("landing bucket %s: %v: fix %s", bucket, err, landingVar("_ENDPOINT"))
	case err != nil:
		return nil, configErrorf("landing bucket %s: %v (the landing store is set by %s, %s, %s and %s)", bucket, err,
			landingVar("_ENDPOINT"), landingVar("_REGION"), landingVar("_USER"), landingVar("_PASSWORD"))
	}
	return st, nil
}

// landingVar names the variable a landing setting comes from: the one that
// is set, or, when neither is, both (DATASURFACE_LANDING_S3_* falls back to
// DATASURFACE_S3_*; see landingS3).
func landingVar(suffix string) string {
	switch {
	case os.Getenv(envLandingS3+suffix) != "":
		return envLandingS3 + suffix
	case os.Getenv(envS3+suffix) != "":
		return envS3 + suffix
	}
	return envLandingS3 + suffix + " (or " + envS3 + suffix + ")"
}
