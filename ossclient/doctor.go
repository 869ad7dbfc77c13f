package ossclient

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/retry"
)

// These read-only checks (and PutBucketCORS) are for `ossgate doctor`, not
// for the request path, so they are not part of [Bucket].

// MaxCORSRules is the most CORS rules a bucket may have.
const MaxCORSRules = 10

// BucketInfo is what GetBucketInfo reports that a deployment check needs.
type BucketInfo struct {
	Name             string
	Location         string // "oss-cn-hangzhou"
	ExtranetEndpoint string
	IntranetEndpoint string
	ACL              string // "private", "public-read", "public-read-write"
	StorageClass     string
	Versioning       string // "Enabled", "Suspended" or ""
	Created          time.Time
}

// BucketInfo reads the bucket's location, endpoints and ACL.
func (c *Client) BucketInfo(ctx context.Context) (BucketInfo, error) {
	const op = "GetBucketInfo"
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	res, err := c.sdk.GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: &c.bucket})
	if err != nil {
		return BucketInfo{}, wrapErr(ctx, op, err)
	}
	b := res.BucketInfo
	info := BucketInfo{
		Name:             oss.ToString(b.Name),
		Location:         oss.ToString(b.Location),
		ExtranetEndpoint: oss.ToString(b.ExtranetEndpoint),
		IntranetEndpoint: oss.ToString(b.IntranetEndpoint),
		ACL:              oss.ToString(b.ACL),
		StorageClass:     oss.ToString(b.StorageClass),
		Versioning:       oss.ToString(b.Versioning),
	}
	if b.CreationDate != nil {
		info.Created = *b.CreationDate
	}
	return info, nil
}

// CORSRule is one rule of a bucket's CORS configuration.
type CORSRule struct {
	AllowedOrigins []string // "https://app.example.com", or "*"
	AllowedMethods []string // of GET, PUT, POST, DELETE, HEAD
	AllowedHeaders []string // "*" for any
	ExposeHeaders  []string // e.g. "ETag", "x-oss-request-id"
	MaxAgeSeconds  int      // how long a browser caches the preflight; 0 sends none
}

// BucketCORS reads the bucket's CORS rules; none (and no error) when the
// bucket has no CORS configuration.
func (c *Client) BucketCORS(ctx context.Context) ([]CORSRule, error) {
	const op = "GetBucketCors"
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	res, err := c.sdk.GetBucketCors(ctx, &oss.GetBucketCorsRequest{Bucket: &c.bucket})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.Code == "NoSuchCORSConfiguration" {
		return nil, nil
	}
	if err != nil {
		return nil, wrapErr(ctx, op, err)
	}
	if res.CORSConfiguration == nil {
		return nil, nil
	}
	var rules []CORSRule
	for _, r := range res.CORSConfiguration.CORSRules {
		rules = append(rules, CORSRule{
			AllowedOrigins: r.AllowedOrigins,
			AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders,
			ExposeHeaders:  r.ExposeHeaders,
			MaxAgeSeconds:  int(oss.ToInt64(r.MaxAgeSeconds)),
		})
	}
	return rules, nil
}

// PutBucketCORS replaces the bucket's CORS rules.
func (c *Client) PutBucketCORS(ctx context.Context, rules []CORSRule) error {
	const op = "PutBucketCors"
	if len(rules) == 0 || len(rules) > MaxCORSRules {
		return invalidArg(op, "not between 1 and 10 rules")
	}
	conf := &oss.CORSConfiguration{}
	for _, r := range rules {
		if err := checkCORSRule(op, r); err != nil {
			return err
		}
		rule := oss.CORSRule{
			AllowedOrigins: r.AllowedOrigins,
			AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders,
			ExposeHeaders:  r.ExposeHeaders,
		}
		if r.MaxAgeSeconds > 0 {
			rule.MaxAgeSeconds = oss.Ptr(int64(r.MaxAgeSeconds))
		}
		conf.CORSRules = append(conf.CORSRules, rule)
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	_, err := c.sdk.PutBucketCors(ctx, &oss.PutBucketCorsRequest{Bucket: &c.bucket, CORSConfiguration: conf})
	return wrapErr(ctx, op, err)
}

var corsMethods = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodHead}

func checkCORSRule(op string, r CORSRule) error {
	if len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
		return invalidArg(op, "a CORS rule needs an origin and a method")
	}
	for _, m := range r.AllowedMethods {
		if !slices.Contains(corsMethods, m) {
			return invalidArg(op, "a CORS method is not GET, PUT, POST, DELETE or HEAD")
		}
	}
	for _, list := range [][]string{r.AllowedOrigins, r.AllowedHeaders, r.ExposeHeaders} {
		if len(list) > 64 {
			return invalidArg(op, "a CORS rule lists more than 64 values")
		}
		for _, v := range list {
			if v == "" || !printableASCII(v, 256) || strings.ContainsAny(v, "<>&") {
				return invalidArg(op, "a CORS value is not 1-256 printable ASCII characters")
			}
		}
	}
	if r.MaxAgeSeconds < 0 {
		return invalidArg(op, "MaxAgeSeconds is negative")
	}
	return nil
}

// ClockOffset estimates how far OSS's clock is ahead of this machine's
// (negative: behind), from the Date header of one answer, whatever its
// status, against the midpoint of the round trip. Date has whole seconds, so
// the estimate is good to about half a second; OSS refuses requests more than 15
// minutes off (RequestTimeTooSkewed).
func (c *Client) ClockOffset(ctx context.Context) (time.Duration, error) {
	const op = "ClockOffset"
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	sent := time.Now()
	res, err := c.sdk.GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: &c.bucket}, withRetryer(retry.NopRetryer{}))
	received := time.Now()
	var h http.Header
	var status int
	var se *oss.ServiceError
	switch {
	case err == nil:
		h, status = res.Headers, res.StatusCode
	case errors.As(err, &se):
		h, status = se.Headers, se.StatusCode
	default:
		return 0, wrapErr(ctx, op, err)
	}
	date, perr := http.ParseTime(h.Get("Date"))
	if perr != nil {
		return 0, &Error{Op: op, Kind: ErrUnavailable, Reason: "answer without a Date", StatusCode: status}
	}
	// Date is truncated to the second: the server's time was, on average,
	// half a second later.
	server := date.Add(500 * time.Millisecond)
	mid := sent.Add(received.Sub(sent) / 2)
	return server.Sub(mid), nil
}
