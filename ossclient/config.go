package ossclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ossgate/ossgate/internal/ossname"
)

// Defaults applied by New when a Config field is zero.
const (
	DefaultTimeout = 5 * time.Second
	DefaultRetries = 2
)

// MaxRetries is the largest Config.Retries New accepts.
const MaxRetries = 5

// SignatureVersion names how the SDK signs requests and presigned URLs.
type SignatureVersion string

const (
	SignatureV4 SignatureVersion = "v4" // OSS4-HMAC-SHA256
	SignatureV1 SignatureVersion = "v1" // HMAC-SHA1, for endpoints that predate V4
)

// Config configures a [Client]. New validates it; the error names each bad
// field.
type Config struct {
	// AccessKeyID and AccessKeySecret are the RAM user's (or the STS role
	// session's) credentials. Required.
	AccessKeyID     string
	AccessKeySecret string
	// SecurityToken is the STS token that goes with temporary credentials.
	// If empty, the keys are long-term ones.
	SecurityToken string
	// Region is the bucket's region id, e.g. "cn-hangzhou"; an "oss-"
	// prefix is accepted and dropped, as V4 signatures name the region
	// without it. Required.
	Region string
	// Bucket is the bucket's name. Required.
	Bucket string
	// Endpoint is OSS's base URL, scheme included and nothing after the
	// host: "https://oss-cn-hangzhou-internal.aliyuncs.com" from inside the
	// region, or "http://127.0.0.1:9000" for the local emulator. If empty,
	// "https://oss-{Region}.aliyuncs.com".
	Endpoint string
	// UsePathStyle addresses objects as {Endpoint}/{Bucket}/{key}, as the
	// emulator expects, instead of {Bucket}.{host}/{key}. An endpoint that is
	// an IP address is always path-style (the SDK decides so). If false,
	// virtual-hosted style.
	UsePathStyle bool
	// SignatureVersion is SignatureV4 or SignatureV1. If empty, SignatureV4.
	SignatureVersion SignatureVersion
	// Timeout bounds each request to OSS, its retries included (ListParts
	// and ListMultipartUploads make one request per page). A caller's
	// context may end it sooner: the callback handler must, as OSS gives the
	// whole callback only 5 s. If zero, 5 s.
	Timeout time.Duration
	// Retries is how many times a request that failed for a transient
	// reason (network, 5xx, throttling) is sent again, with a short jittered
	// backoff, within Timeout. CompleteMultipart is retried only when the
	// connection could not be made, as a second complete of an upload that
	// did complete fails. At most MaxRetries. If zero, 2; negative means
	// none.
	Retries int
	// HTTPClient sends the requests. Redirects are never followed, whatever
	// its CheckRedirect says. If nil, the SDK's default client (5 s connect,
	// 10 s read/write timeouts).
	HTTPClient *http.Client
}

// Format prints the config without the access key secret or the STS token,
// for every fmt verb.
func (c Config) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "ossclient.Config{AccessKeyID:%s AccessKeySecret:%s SecurityToken:%s Region:%s Bucket:%s "+
		"Endpoint:%s UsePathStyle:%t SignatureVersion:%s Timeout:%v Retries:%d}",
		c.AccessKeyID, redact(c.AccessKeySecret), redact(c.SecurityToken), c.Region, c.Bucket,
		c.Endpoint, c.UsePathStyle, c.SignatureVersion, c.Timeout, c.Retries)
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Validate reports every problem with c, one error per field, each naming
// it. It does not apply defaults.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("ossclient: Config.%s %s", field, fmt.Sprintf(format, args...)))
	}
	if c.AccessKeyID == "" {
		bad("AccessKeyID", "is required")
	} else if !printableASCII(c.AccessKeyID, 128) {
		bad("AccessKeyID", "is not up to 128 printable ASCII characters")
	}
	if c.AccessKeySecret == "" {
		bad("AccessKeySecret", "is required")
	} else if !printableASCII(c.AccessKeySecret, 256) {
		bad("AccessKeySecret", "is not up to 256 printable ASCII characters")
	}
	if c.SecurityToken != "" && !printableASCII(c.SecurityToken, 8192) {
		bad("SecurityToken", "is not up to 8192 printable ASCII characters")
	}
	if r := region(c.Region); r == "" {
		bad("Region", "is required")
	} else if !ossname.Region(r) {
		bad("Region", "%q is not a region id like cn-hangzhou", clip(c.Region, 64))
	}
	if c.Bucket == "" {
		bad("Bucket", "is required")
	} else if !ossname.Bucket(c.Bucket) {
		bad("Bucket", "%q is not a bucket name (3-63 of a-z, 0-9 and -, not starting or ending with -)", clip(c.Bucket, 64))
	}
	if c.Endpoint != "" {
		if err := checkEndpoint(c.Endpoint); err != nil {
			bad("Endpoint", "%v", err)
		}
	}
	switch c.SignatureVersion {
	case "", SignatureV4, SignatureV1:
	default:
		bad("SignatureVersion", "%q is neither v4 nor v1", clip(string(c.SignatureVersion), 16))
	}
	if c.Timeout < 0 {
		bad("Timeout", "must not be negative")
	}
	if c.Retries > MaxRetries {
		bad("Retries", "%d is over %d", c.Retries, MaxRetries)
	}
	return errors.Join(errs...)
}

// endpoint is the base URL requests go to.
func (c *Config) endpoint() string {
	if c.Endpoint != "" {
		return strings.TrimSuffix(c.Endpoint, "/")
	}
	return "https://oss-" + region(c.Region) + ".aliyuncs.com"
}

func (c *Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Config) retries() int {
	switch {
	case c.Retries == 0:
		return DefaultRetries
	case c.Retries < 0:
		return 0
	}
	return c.Retries
}

// region drops the "oss-" prefix the console shows.
func region(r string) string { return strings.TrimPrefix(r, "oss-") }

// checkEndpoint accepts an http(s) URL that is a host and nothing else: the
// SDK would silently drop a path, and userinfo would be sent to nobody.
func checkEndpoint(s string) error {
	if len(s) > 512 {
		return errors.New("is longer than 512 bytes")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL with a scheme, like https://oss-cn-hangzhou.aliyuncs.com", clip(s, 128))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme %q is neither http nor https", clip(u.Scheme, 16))
	case u.User != nil:
		return errors.New("must not carry a user name or password")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return fmt.Errorf("%q has more than a scheme and a host", clip(s, 128))
	}
	return nil
}

func printableASCII(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
