package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// Environment variables the generated DAGs set (see generator/dags.go).
const (
	envCatalogURI      = "DATASURFACE_CATALOG_URI"
	envCatalogUser     = "DATASURFACE_CATALOG_USER"
	envCatalogPassword = "DATASURFACE_CATALOG_PASSWORD"
	envWarehouse       = "DATASURFACE_WAREHOUSE"
	envS3              = "DATASURFACE_S3"         // warehouse object store: _ENDPOINT _REGION _USER _PASSWORD
	envLandingS3       = "DATASURFACE_LANDING_S3" // landing object store; falls back to DATASURFACE_S3
	envSourceURI       = "DATASURFACE_SOURCE_URI" // snapshot and watermark sources: the source database
	envSourceUser      = "DATASURFACE_SOURCE_USER"
	envSourcePassword  = "DATASURFACE_SOURCE_PASSWORD"
)

// common are the flags every command shares.
type common struct {
	job        string
	catalogURI string
	warehouse  string
	state      string
	logFormat  string
}

func (c *common) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.job, "job", "", "the job spec: a file, or env:NAME to read it from an environment variable (required)")
	f.StringVar(&c.catalogURI, "catalog-uri", "", "Iceberg catalog: sqlite:PATH, postgresql://HOST[:PORT]/DB (SQL catalog) or http(s)://... (REST); default $"+envCatalogURI+", else an embedded SQLite catalog under --state")
	f.StringVar(&c.warehouse, "warehouse", "", "warehouse location for new tables (a path, file:// or s3://); default $"+envWarehouse+", else the job spec's, or --state/warehouse with the embedded catalog")
	f.StringVar(&c.state, "state", ".merge-runner", "folder of the embedded default catalog and warehouse")
	f.StringVar(&c.logFormat, "log-format", "json", "log lines on stderr: json or text")
	_ = cmd.MarkFlagRequired("job")
}

func (c *common) logger(cmd *cobra.Command) (*slog.Logger, error) {
	switch c.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil)), nil
	case "text":
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)), nil
	}
	return nil, configErrorf("--log-format %q: use json or text", c.logFormat)
}

// spec reads the job spec from a file or an environment variable.
func (c *common) spec() (*jobspec.Spec, error) {
	var b []byte
	where := c.job
	if name, ok := strings.CutPrefix(c.job, "env:"); ok {
		v, set := os.LookupEnv(name)
		if !set || v == "" {
			return nil, configErrorf("--job %s: the environment variable %s is not set", c.job, name)
		}
		b, where = []byte(v), "$"+name
	} else {
		var err error
		if b, err = os.ReadFile(c.job); err != nil {
			return nil, configErrorf("--job: %v", err)
		}
	}
	s, err := jobspec.Parse(b)
	if err != nil {
		return nil, configErrorf("%s: %v", where, err)
	}
	return s, nil
}

// catalogConfig resolves the catalog from flags, environment and spec.
func (c *common) catalogConfig(s *jobspec.Spec) target.CatalogConfig {
	uri := first(c.catalogURI, os.Getenv(envCatalogURI))
	warehouse := first(c.warehouse, os.Getenv(envWarehouse))
	if uri == "" {
		uri = "sqlite:" + filepath.Join(c.state, "catalog.db")
		warehouse = first(warehouse, filepath.Join(c.state, "warehouse"))
	}
	return target.CatalogConfig{
		Name:      s.Target.Catalog,
		URI:       uri,
		User:      os.Getenv(envCatalogUser),
		Password:  os.Getenv(envCatalogPassword),
		Warehouse: first(warehouse, s.Target.Warehouse),
		S3:        s3FromEnv(envS3),
	}
}

func (c *common) openCatalog(ctx context.Context, s *jobspec.Spec) (catalog.Catalog, error) {
	cfg := c.catalogConfig(s)
	cat, err := target.OpenCatalog(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", s.Target.Catalog, err)
	}
	return cat, nil
}

// s3FromEnv reads <prefix>_ENDPOINT, _REGION, _USER (access key id) and
// _PASSWORD (secret access key).
func s3FromEnv(prefix string) target.S3 {
	return target.S3{
		Endpoint:        os.Getenv(prefix + "_ENDPOINT"),
		Region:          os.Getenv(prefix + "_REGION"),
		AccessKeyID:     os.Getenv(prefix + "_USER"),
		SecretAccessKey: os.Getenv(prefix + "_PASSWORD"),
	}
}

// landingS3 is the landing store's endpoint: DATASURFACE_LANDING_S3_*, each
// falling back to DATASURFACE_S3_* (the generator sets the landing ones
// only when landing and warehouse differ).
func landingS3() target.S3 {
	l, w := s3FromEnv(envLandingS3), s3FromEnv(envS3)
	return target.S3{
		Endpoint:        first(l.Endpoint, w.Endpoint),
		Region:          first(l.Region, w.Region),
		AccessKeyID:     first(l.AccessKeyID, w.AccessKeyID),
		SecretAccessKey: first(l.SecretAccessKey, w.SecretAccessKey),
	}
}

// store is where the landed events are: a local folder (--events) or the
// spec's landing bucket.
func store(ctx context.Context, s *jobspec.Spec, eventsDir string) (landing.Store, error) {
	if eventsDir != "" {
		if fi, err := os.Stat(eventsDir); err != nil || !fi.IsDir() {
			return nil, configErrorf("--events %s: not a folder", eventsDir)
		}
		return landing.NewLocalStore(eventsDir), nil
	}
	return openS3Landing(ctx, s.Source.Debezium.Bucket, landingS3())
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
