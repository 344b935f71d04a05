package target

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // s3:// warehouses
	_ "github.com/jackc/pgx/v5/stdlib"             // database/sql driver "pgx"
	_ "modernc.org/sqlite"                         // database/sql driver "sqlite", pure Go
)

// S3 is an S3-compatible endpoint with static keys.
type S3 struct {
	Endpoint        string // e.g. http://minio:9000; empty for AWS
	Region          string
	AccessKeyID     string
	SecretAccessKey string
}

// CatalogConfig says how to reach a catalog. It comes from flags and the
// environment, never from the job spec, which names the catalog only.
type CatalogConfig struct {
	Name string
	// URI: sqlite:PATH (the embedded default), postgres://... or
	// postgresql://... (SQL catalog on PostgreSQL), http(s)://... (REST).
	URI      string
	User     string
	Password string
	// Warehouse is where new tables' files go: a local path, file:// or s3://.
	Warehouse string
	S3        S3
}

// OpenCatalog opens the catalog the config names.
func OpenCatalog(ctx context.Context, c CatalogConfig) (catalog.Catalog, error) {
	wh, err := warehouseLocation(c.Warehouse)
	if err != nil {
		return nil, err
	}
	props := iceberg.Properties{"warehouse": wh}
	if c.S3.Endpoint != "" {
		props[iceio.S3EndpointURL] = c.S3.Endpoint
	}
	if c.S3.Region != "" {
		props[iceio.S3Region] = c.S3.Region
	}
	if c.S3.AccessKeyID != "" || c.S3.SecretAccessKey != "" {
		props[iceio.S3AccessKeyID] = c.S3.AccessKeyID
		props[iceio.S3SecretAccessKey] = c.S3.SecretAccessKey
	}
	name := c.Name
	if name == "" {
		name = "datasurface"
	}
	scheme, rest_, _ := strings.Cut(c.URI, ":")
	switch strings.ToLower(scheme) {
	case "sqlite":
		path := strings.TrimPrefix(rest_, "//")
		if path == "" {
			return nil, configErrorf("catalog URI %q names no SQLite file; use sqlite:PATH", c.URI)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("SQLite catalog %s: %w", path, err)
		}
		// WAL and a busy timeout let two runners share the file; the
		// catalog's own optimistic check decides who commits.
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)")
		if err != nil {
			return nil, fmt.Errorf("SQLite catalog %s: %w", path, err)
		}
		return sqlCatalog(name, db, sqlcat.SQLite, props, path)
	case "postgres", "postgresql":
		u, err := url.Parse(c.URI)
		if err != nil {
			return nil, configErrorf("catalog URI: %v", err)
		}
		if c.User != "" {
			u.User = url.UserPassword(c.User, c.Password)
		}
		db, err := sql.Open("pgx", u.String())
		if err != nil {
			return nil, fmt.Errorf("PostgreSQL catalog %s: %w", redact(u), err)
		}
		return sqlCatalog(name, db, sqlcat.Postgres, props, redact(u))
	case "http", "https":
		opts := []rest.Option{rest.WithWarehouseLocation(wh), rest.WithAdditionalProps(props)}
		switch {
		case c.User != "":
			opts = append(opts, rest.WithCredential(c.User+":"+c.Password))
		case c.Password != "":
			opts = append(opts, rest.WithOAuthToken(c.Password))
		}
		cat, err := rest.NewCatalog(ctx, name, c.URI, opts...)
		if err != nil {
			return nil, fmt.Errorf("REST catalog %s: %w", c.URI, err)
		}
		return cat, nil
	}
	return nil, configErrorf("catalog URI %q: use sqlite:PATH, postgresql://HOST/DB or http(s)://REST-ENDPOINT", c.URI)
}

func sqlCatalog(name string, db *sql.DB, d sqlcat.SupportedDialect, props iceberg.Properties, where string) (catalog.Catalog, error) {
	cat, err := sqlcat.NewCatalog(name, db, d, props)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("SQL catalog %s: %w", where, err)
	}
	return &ownedSQL{cat, db, d}, nil
}

// ownedSQL closes the database handle this package opened with the
// catalog, and commits several tables at once (multicommit.go).
type ownedSQL struct {
	*sqlcat.Catalog
	db      *sql.DB
	dialect sqlcat.SupportedDialect
}

func (c *ownedSQL) Close() error {
	return errors.Join(c.Catalog.Close(), c.db.Close())
}

// CloseCatalog closes a catalog that holds resources.
func CloseCatalog(c catalog.Catalog) error {
	if cl, ok := c.(interface{ Close() error }); ok {
		return cl.Close()
	}
	return nil
}

func redact(u *url.URL) string {
	r := *u
	if r.User != nil {
		r.User = url.User(r.User.Username())
	}
	return r.String()
}

// warehouseLocation makes a local warehouse path absolute (file://) and
// creates it; URLs pass through.
func warehouseLocation(w string) (string, error) {
	if w == "" {
		return "", configErrorf("no warehouse location; set --warehouse or DATASURFACE_WAREHOUSE")
	}
	if strings.Contains(w, "://") && !strings.HasPrefix(w, "file://") {
		return w, nil
	}
	p := strings.TrimPrefix(w, "file://")
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("warehouse %s: %w", abs, err)
	}
	return "file://" + filepath.ToSlash(abs), nil
}
