package landing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3Config says where a bucket of landed objects is and how to reach it.
type S3Config struct {
	// Endpoint is the base URL of an S3-compatible server, e.g.
	// http://minio:9000. Empty means AWS S3.
	Endpoint string
	// Region is the bucket's region. Empty means us-east-1 when Endpoint is
	// set, else the AWS default (AWS_REGION, the shared config file).
	Region string
	// Bucket is the bucket's name.
	Bucket string
	// AccessKeyID and SecretAccessKey (and SessionToken, for temporary
	// credentials) are static credentials. When AccessKeyID is empty the
	// AWS default chain is used: environment, shared files, web identity,
	// instance or container role.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// PathStyle addresses the bucket as <endpoint>/<bucket>/<key> instead of
	// <bucket>.<endpoint>/<key>. It is implied when Endpoint is set, since
	// S3-compatible servers generally expect it, unless VirtualHostStyle is
	// set.
	PathStyle bool
	// VirtualHostStyle forces <bucket>.<endpoint> addressing with a custom
	// Endpoint.
	VirtualHostStyle bool
	// ListPageSize is how many keys one ListObjectsV2 request asks for
	// (MaxKeys); 0 is the server's default, 1000 on S3.
	ListPageSize int32
}

// S3Store is a Store over one S3 bucket: a key is an object key.
type S3Store struct {
	client   *s3.Client
	bucket   string
	endpoint string // for messages
	pageSize int32

	// pages counts ListObjectsV2 requests, for tests.
	pages atomic.Int64
}

// Errors of NewS3Store that a caller can name its own settings for.
var (
	ErrNoRegion    = errors.New("no region")
	ErrBadEndpoint = errors.New("bad endpoint")
)

// NewS3Store returns a store over cfg.Bucket. It does not contact the server:
// wrong credentials or a missing bucket show on the first List or Open.
func NewS3Store(ctx context.Context, cfg S3Config) (*S3Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3 landing store: no bucket given")
	}
	endpoint := "AWS S3"
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3 landing store: %w: %q is not a URL like https://s3.example.com:9000", ErrBadEndpoint, cfg.Endpoint)
		}
		endpoint = cfg.Endpoint
	}
	if cfg.Region == "" && cfg.Endpoint != "" {
		cfg.Region = "us-east-1"
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, errors.New("s3 landing store: give both the access key ID and the secret access key, or neither to use the AWS default credentials")
	}
	opts := s3.Options{
		Region:       cfg.Region,
		UsePathStyle: cfg.PathStyle || (cfg.Endpoint != "" && !cfg.VirtualHostStyle),
		// Checksums only where the protocol requires them: every
		// S3-compatible server supports that much.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	var client *s3.Client
	if cfg.AccessKeyID != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
		if opts.Region == "" {
			return nil, fmt.Errorf("s3 landing store: %w for bucket %s: set the region", ErrNoRegion, cfg.Bucket)
		}
		client = s3.New(opts)
	} else {
		var loadOpts []func(*config.LoadOptions) error
		if cfg.Region != "" {
			loadOpts = append(loadOpts, config.WithRegion(cfg.Region))
		}
		awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
		if err != nil {
			return nil, fmt.Errorf("s3 landing store: load AWS configuration: %w", err)
		}
		if awsCfg.Region == "" {
			return nil, fmt.Errorf("s3 landing store: %w for bucket %s: set the region (or AWS_REGION)", ErrNoRegion, cfg.Bucket)
		}
		client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			o.UsePathStyle = opts.UsePathStyle
			o.RequestChecksumCalculation = opts.RequestChecksumCalculation
			o.ResponseChecksumValidation = opts.ResponseChecksumValidation
			if opts.BaseEndpoint != nil {
				o.BaseEndpoint = opts.BaseEndpoint
			}
		})
	}
	return &S3Store{client: client, bucket: cfg.Bucket, endpoint: endpoint, pageSize: cfg.ListPageSize}, nil
}

// List lists the objects under prefix, following ListObjectsV2 continuation
// tokens until the listing is complete.
func (s *S3Store) List(ctx context.Context, prefix string) ([]Object, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if s.pageSize > 0 {
		in.MaxKeys = aws.Int32(s.pageSize)
	}
	var out []Object
	for {
		s.pages.Add(1)
		page, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, s.error("list", prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		next := aws.ToString(page.NextContinuationToken)
		if next == "" || next == aws.ToString(in.ContinuationToken) {
			return nil, s.error("list", prefix, fmt.Errorf("the server said the listing is truncated after %d objects but gave no new continuation token", len(out)))
		}
		in.ContinuationToken = aws.String(next)
	}
}

// Open streams the object key.
func (s *S3Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s.error("open", key, err)
	}
	return &s3Body{body: out.Body, store: s, key: key}, nil
}

// s3Body names the object in errors met while reading it.
type s3Body struct {
	body  io.ReadCloser
	store *S3Store
	key   string
}

func (b *s3Body) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF {
		err = b.store.error("read", b.key, err)
	}
	return n, err
}

func (b *s3Body) Close() error { return b.body.Close() }

// s3Error is a failed request, with what to do about it.
type s3Error struct {
	op       string // list, open or read
	bucket   string
	key      string // the key, or the prefix listed
	endpoint string
	code     string // the S3 error code, if the server answered one
	hint     string
	err      error
}

func (e *s3Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "s3 %s s3://%s/%s at %s", e.op, e.bucket, e.key, e.endpoint)
	if e.hint != "" {
		b.WriteString(": ")
		b.WriteString(e.hint)
	}
	b.WriteString(": ")
	b.WriteString(e.err.Error())
	return b.String()
}

func (e *s3Error) Unwrap() error { return e.err }

// Is makes a missing object or bucket match fs.ErrNotExist.
func (e *s3Error) Is(target error) bool {
	return target == fs.ErrNotExist && (e.code == "NoSuchKey" || e.code == "NoSuchBucket" || e.code == "NotFound")
}

// error wraps err from op on key with a hint saying what to check.
func (s *S3Store) error(op, key string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("s3 %s s3://%s/%s: %w", op, s.bucket, key, err)
	}
	e := &s3Error{op: op, bucket: s.bucket, key: key, endpoint: s.endpoint, err: err}
	var api smithy.APIError
	var netErr net.Error
	switch {
	case errors.As(err, &api):
		e.code = api.ErrorCode()
		switch e.code {
		case "NoSuchBucket":
			e.hint = fmt.Sprintf("bucket %s does not exist: check the bucket name and the endpoint, or create the bucket", s.bucket)
		case "NoSuchKey", "NotFound":
			e.hint = "no such object (was it deleted or moved since it was listed?)"
		case "InvalidAccessKeyId", "XAdminUserNotFound":
			e.hint = "the server does not know the access key ID: check the credentials"
		case "SignatureDoesNotMatch":
			e.hint = "the secret access key is wrong for this access key ID: check the credentials"
		case "AccessDenied", "Forbidden":
			e.hint = fmt.Sprintf("access denied: the credentials need s3:ListBucket and s3:GetObject on bucket %s", s.bucket)
		case "ExpiredToken", "TokenRefreshRequired", "InvalidToken":
			e.hint = "the session token is expired or invalid: renew the credentials"
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			e.hint = fmt.Sprintf("bucket %s is in another region: set the region to the bucket's", s.bucket)
		}
	case errors.As(err, &netErr):
		e.hint = "cannot reach the server: check the endpoint and that the server is running"
	case strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "failed to refresh cached credentials"):
		e.hint = "no credentials: set the access key ID and secret access key, or configure the AWS default credentials"
	}
	return e
}
