package ossclient

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/retry"
)

// MaxKeyLen is the longest object key OSS accepts, in bytes.
const MaxKeyLen = 1023

// Bucket is what the web layer needs from OSS, for one bucket. [*Client]
// implements it; the doctor's checks are methods on *Client only.
type Bucket interface {
	HeadObject(ctx context.Context, key string) (ObjectInfo, error)
	DeleteObject(ctx context.Context, key string) error
	PresignGet(ctx context.Context, key string, o GetOptions) (Presigned, error)

	InitiateMultipart(ctx context.Context, key string, o InitiateOptions) (uploadID string, err error)
	PresignUploadPart(ctx context.Context, key, uploadID string, part int, expires time.Duration) (Presigned, error)
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part, o CompleteOptions) (CompleteResult, error)
	AbortMultipart(ctx context.Context, key, uploadID string) error
	ListMultipartUploads(ctx context.Context, prefix string, max int) ([]MultipartUpload, error)
}

var _ Bucket = (*Client)(nil)

// Client talks to one OSS bucket through the official SDK, which signs
// every request and presigned URL. It is safe for concurrent use.
type Client struct {
	sdk      *oss.Client
	bucket   string
	timeout  time.Duration
	retryer  retry.Retryer // for idempotent requests
	complete retry.Retryer // for CompleteMultipart
}

// New validates cfg, applies its defaults and returns a Client. It sends
// nothing.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sv := oss.SignatureVersionV4
	if cfg.SignatureVersion == SignatureV1 {
		sv = oss.SignatureVersionV1
	}
	retries := cfg.retries()
	retryer := newRetryer(retries)
	// oss.NewConfig, not LoadDefaultConfig: the latter turns on the SDK's
	// log from OSS_SDK_LOG_LEVEL, whose debug level prints what is signed.
	sdkCfg := oss.NewConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.AccessKeySecret, cfg.SecurityToken)).
		WithRegion(region(cfg.Region)).
		WithEndpoint(cfg.endpoint()).
		WithUsePathStyle(cfg.UsePathStyle).
		WithSignatureVersion(sv).
		WithRetryer(retryer).
		WithRetryMaxAttempts(retryer.MaxAttempts())
	sdkCfg.HttpClient = boundedClient{c: httpClient(cfg.HTTPClient)}
	return &Client{
		sdk:      oss.NewClient(sdkCfg),
		bucket:   cfg.Bucket,
		timeout:  cfg.timeout(),
		retryer:  retryer,
		complete: newRetryer(retries, dialFailed{}),
	}, nil
}

// Format prints the client without its credentials, for every fmt verb.
func (c *Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "ossclient.Client{Bucket:%s Timeout:%v}", c.bucket, c.timeout)
}

// callContext bounds one request (retries included) by the Timeout.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// withRetryer makes one request use r, with its attempt count: the SDK
// reads the count from the options before the retryer.
func withRetryer(r retry.Retryer) func(*oss.Options) {
	return func(o *oss.Options) {
		o.Retryer = r
		o.RetryMaxAttempts = oss.Ptr(r.MaxAttempts())
	}
}

// checkKey applies OSS's key rules, plus ossgate's: no control characters
// (they cannot travel in XML 1.0 list answers) and valid UTF-8.
func checkKey(op, key string) error {
	switch {
	case key == "":
		return invalidArg(op, "empty key")
	case len(key) > MaxKeyLen:
		return invalidArg(op, "key longer than 1023 bytes")
	case !utf8.ValidString(key):
		return invalidArg(op, "key is not UTF-8")
	case key[0] == '/' || key[0] == '\\':
		return invalidArg(op, "key starts with / or \\")
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return invalidArg(op, "key contains a control character")
	}
	return nil
}

// checkUploadID bounds an upload id, which arrives from browsers.
func checkUploadID(op, id string) error {
	if id == "" || !printableASCII(id, 256) {
		return invalidArg(op, "upload id is not 1-256 printable ASCII characters")
	}
	return nil
}

// unquote strips the quotes OSS puts around ETags.
func unquote(etag string) string { return strings.Trim(etag, `"`) }
