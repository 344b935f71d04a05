package main

import (
	"context"

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
	if err != nil {
		return nil, configErrorf("landing bucket %s: %v", bucket, err)
	}
	return st, nil
}
