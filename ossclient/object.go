package ossclient

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// Presigned URL lifetimes.
const (
	DefaultPresignExpiry = 15 * time.Minute
	MaxPresignExpiry     = 7 * 24 * time.Hour // V4's limit, applied to V1 too
)

// maxQueryOption bounds the response-content-disposition and x-oss-process
// values a caller puts in a presigned URL.
const maxQueryOption = 1024

// ObjectInfo is what HeadObject reports about an object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // as OSS gives it, without the quotes
	ContentType  string
	LastModified time.Time
	ObjectType   string // "Normal", "Multipart" or "Appendable"
}

// HeadObject reports the object's size, ETag and type, e.g. to confirm
// what a callback claims. ErrNotFound if there is no such object.
func (c *Client) HeadObject(ctx context.Context, key string) (ObjectInfo, error) {
	const op = "HeadObject"
	if err := checkKey(op, key); err != nil {
		return ObjectInfo{}, err
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	res, err := c.sdk.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: &c.bucket, Key: &key})
	if err != nil {
		return ObjectInfo{}, wrapErr(ctx, op, err)
	}
	info := ObjectInfo{
		Key:         key,
		Size:        res.ContentLength,
		ETag:        unquote(oss.ToString(res.ETag)),
		ContentType: oss.ToString(res.ContentType),
		ObjectType:  oss.ToString(res.ObjectType),
	}
	if res.LastModified != nil {
		info.LastModified = *res.LastModified
	}
	return info, nil
}

// DeleteObject deletes the object. Deleting a missing object succeeds, as
// in OSS.
func (c *Client) DeleteObject(ctx context.Context, key string) error {
	const op = "DeleteObject"
	if err := checkKey(op, key); err != nil {
		return err
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	_, err := c.sdk.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: &c.bucket, Key: &key})
	return wrapErr(ctx, op, err)
}

// Presigned is a request a browser or app can send without credentials.
type Presigned struct {
	Method  string
	URL     string
	Header  http.Header // headers the signature covers; send them unchanged
	Expires time.Time
}

// GetOptions shape a presigned GET.
type GetOptions struct {
	// Expires is how long the URL works, at most MaxPresignExpiry. If
	// zero, DefaultPresignExpiry.
	Expires time.Duration
	// ContentDisposition is sent back as the Content-Disposition header
	// (response-content-disposition); see Attachment. If empty, the
	// object's own.
	ContentDisposition string
	// Process is an x-oss-process value, e.g. "image/resize,w_200" or
	// "style/thumb". If empty, the object as stored.
	Process string
}

// PresignGet signs a GET of the object. It sends nothing and does not check
// that the object exists.
func (c *Client) PresignGet(ctx context.Context, key string, o GetOptions) (Presigned, error) {
	const op = "PresignGet"
	if err := checkKey(op, key); err != nil {
		return Presigned{}, err
	}
	req := &oss.GetObjectRequest{Bucket: &c.bucket, Key: &key}
	if o.ContentDisposition != "" {
		if !validQueryOption(o.ContentDisposition) {
			return Presigned{}, invalidArg(op, "content disposition is not up to 1024 bytes without control characters")
		}
		req.ResponseContentDisposition = &o.ContentDisposition
	}
	if o.Process != "" {
		if !validQueryOption(o.Process) {
			return Presigned{}, invalidArg(op, "process is not up to 1024 bytes without control characters")
		}
		req.Process = &o.Process
	}
	return c.presign(ctx, op, req, o.Expires)
}

func (c *Client) presign(ctx context.Context, op string, req any, expires time.Duration) (Presigned, error) {
	if expires == 0 {
		expires = DefaultPresignExpiry
	}
	if expires < time.Second || expires > MaxPresignExpiry {
		return Presigned{}, invalidArg(op, "expiry is not between 1s and 7 days")
	}
	res, err := c.sdk.Presign(ctx, req, oss.PresignExpires(expires))
	if err != nil {
		return Presigned{}, wrapErr(ctx, op, err)
	}
	p := Presigned{Method: res.Method, URL: res.URL, Expires: res.Expiration, Header: http.Header{}}
	for k, v := range res.SignedHeaders {
		p.Header.Set(k, v)
	}
	return p, nil
}

func validQueryOption(s string) bool {
	return len(s) <= maxQueryOption && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// Attachment returns a Content-Disposition value that makes browsers save
// the download as filename (RFC 6266): an ASCII filename="…" for old
// clients (other bytes, quotes, backslashes and % become _), and, when the
// name is not plain ASCII, the exact name as RFC 5987's filename*.
func Attachment(filename string) string {
	if filename == "" {
		return "attachment"
	}
	fallback := []byte(filename)
	plain := true
	for i, b := range fallback {
		if b < 0x20 || b >= 0x7f || b == '"' || b == '\\' || b == '%' {
			fallback[i], plain = '_', false
		}
	}
	v := `attachment; filename="` + string(fallback) + `"`
	if !plain {
		v += "; filename*=UTF-8''" + rfc5987(filename)
	}
	return v
}

// rfc5987 percent-encodes every byte that is not an RFC 5987 attr-char.
func rfc5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
