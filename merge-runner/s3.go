package main

import (
	"context"

	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

func openS3Landing(ctx context.Context, bucket string, s3 target.S3) (landing.Store, error) {
	return nil, configErrorf("S3 landing: not wired yet (bucket %s)", bucket)
}
