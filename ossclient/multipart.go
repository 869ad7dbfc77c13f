package ossclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// OSS's multipart limits, and ossgate's bounds on what it lists.
const (
	MaxParts         = 10000   // part numbers are 1..MaxParts
	MaxListedUploads = 10000   // ListMultipartUploads returns at most this many
	MaxCallbackBody  = 1 << 20 // OSS relays at most 1 MB of a callback answer
	MaxCallbackVar   = 5 << 10 // OSS refuses a longer x-oss-callback-var
	MaxCallback      = 8 << 10 // ossgate's bound on x-oss-callback

	listPage     = 1000 // entries asked for per list request, OSS's maximum
	maxListPages = 100  // a list stops with an error after this many pages
	maxETagLen   = 128
)

// InitiateOptions shape a multipart upload.
type InitiateOptions struct {
	// ContentType is the object's type once completed. If empty, OSS's
	// default, application/octet-stream; it is never guessed from the key.
	ContentType string
	// ForbidOverwrite refuses an existing key, here and at completion. If
	// false, an existing object is replaced.
	ForbidOverwrite bool
}

// Part is one uploaded part. CompleteMultipart reads Number and ETag only.
type Part struct {
	Number       int
	ETag         string // without quotes
	Size         int64
	LastModified time.Time
}

// MultipartUpload is an upload that was initiated and neither completed nor
// aborted.
type MultipartUpload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// CompleteOptions shape CompleteMultipart.
type CompleteOptions struct {
	// Callback is the x-oss-callback value: base64 of the callback JSON, as
	// policy.Callback.Encode returns it; at most MaxCallback bytes. If
	// empty, OSS calls nobody back.
	Callback string
	// CallbackVar is the x-oss-callback-var value: base64 of
	// {"x:name":"value",…}; at most MaxCallbackVar bytes. If empty, none.
	CallbackVar string
	// ForbidOverwrite refuses to complete onto an existing key
	// (ErrAlreadyExists). If false, an existing object is replaced.
	ForbidOverwrite bool
}

// CompleteResult is what OSS answered to a completion.
type CompleteResult struct {
	ETag       string // without quotes; "" when OSS sent none (a callback answer may hide it)
	StatusCode int    // 200
	// CallbackBody is the callback server's answer as OSS relayed it (at
	// most MaxCallbackBody bytes); nil without a callback.
	CallbackBody []byte
}

// InitiateMultipart starts a multipart upload and returns its id.
func (c *Client) InitiateMultipart(ctx context.Context, key string, o InitiateOptions) (string, error) {
	const op = "InitiateMultipart"
	if err := checkKey(op, key); err != nil {
		return "", err
	}
	req := &oss.InitiateMultipartUploadRequest{Bucket: &c.bucket, Key: &key, DisableAutoDetectMimeType: true}
	if o.ContentType != "" {
		if !validQueryOption(o.ContentType) || len(o.ContentType) > 256 {
			return "", invalidArg(op, "content type is not up to 256 bytes without control characters")
		}
		req.ContentType = &o.ContentType
	}
	if o.ForbidOverwrite {
		req.ForbidOverwrite = oss.Ptr("true")
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	res, err := c.sdk.InitiateMultipartUpload(ctx, req)
	if err != nil {
		return "", wrapErr(ctx, op, err)
	}
	id := oss.ToString(res.UploadId)
	if checkUploadID(op, id) != nil {
		return "", &Error{Op: op, Kind: ErrUnavailable, Reason: "unusable upload id", StatusCode: res.StatusCode}
	}
	return id, nil
}

// PresignUploadPart signs the PUT of one part (1..MaxParts), for a browser
// to send the bytes itself. The PUT must carry no Content-Type header that
// the signature does not cover (fetch sends none for an untyped Blob slice).
// If expires is zero, DefaultPresignExpiry.
func (c *Client) PresignUploadPart(ctx context.Context, key, uploadID string, part int, expires time.Duration) (Presigned, error) {
	const op = "PresignUploadPart"
	if err := checkKey(op, key); err != nil {
		return Presigned{}, err
	}
	if err := checkUploadID(op, uploadID); err != nil {
		return Presigned{}, err
	}
	if part < 1 || part > MaxParts {
		return Presigned{}, invalidArg(op, "part number is not between 1 and 10000")
	}
	req := &oss.UploadPartRequest{Bucket: &c.bucket, Key: &key, UploadId: &uploadID, PartNumber: int32(part)}
	return c.presign(ctx, op, req, expires)
}

// CompleteMultipart assembles the parts (numbers strictly increasing, ETags
// as ListParts or the part PUTs reported them) into the object. With a
// Callback, OSS calls the callback server before answering and relays its
// answer; a failed callback gives ErrCallbackFailed, and the object then
// exists. A completion is retried only when no connection could be made:
// after a lost answer the caller should HeadObject the key rather than
// complete again (a second completion gives ErrNoSuchUpload).
func (c *Client) CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part, o CompleteOptions) (CompleteResult, error) {
	const op = "CompleteMultipart"
	if err := checkKey(op, key); err != nil {
		return CompleteResult{}, err
	}
	if err := checkUploadID(op, uploadID); err != nil {
		return CompleteResult{}, err
	}
	list, err := completeParts(op, parts)
	if err != nil {
		return CompleteResult{}, err
	}
	req := &oss.CompleteMultipartUploadRequest{
		Bucket: &c.bucket, Key: &key, UploadId: &uploadID,
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: list},
	}
	if o.ForbidOverwrite {
		req.ForbidOverwrite = oss.Ptr("true")
	}
	if o.Callback != "" {
		if !validBase64JSON(o.Callback, MaxCallback) {
			return CompleteResult{}, invalidArg(op, "callback is not base64 of a JSON object of at most 8 KiB")
		}
		req.Callback = &o.Callback
	}
	if o.CallbackVar != "" {
		if o.Callback == "" {
			return CompleteResult{}, invalidArg(op, "callback var without a callback")
		}
		if !validBase64JSON(o.CallbackVar, MaxCallbackVar) {
			return CompleteResult{}, invalidArg(op, "callback var is not base64 of a JSON object of at most 5 KiB")
		}
		req.CallbackVar = &o.CallbackVar
	}

	// The SDK would JSON-decode the callback answer into a map, unbounded,
	// and fail on an answer that is not a JSON object; take it raw instead.
	var answer callbackAnswer
	opts := []func(*oss.Options){withRetryer(c.complete)}
	if req.Callback != nil {
		opts = append(opts, func(o *oss.Options) { o.ResponseHandlers = append(o.ResponseHandlers, answer.take) })
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	res, err := c.sdk.CompleteMultipartUpload(ctx, req, opts...)
	if err != nil {
		if errors.Is(answer.err, errResponseTooLarge) {
			return CompleteResult{}, &Error{Op: op, Kind: ErrUnavailable, Reason: "callback answer too large", StatusCode: http.StatusOK}
		}
		return CompleteResult{}, wrapErr(ctx, op, err)
	}
	etag := oss.ToString(res.ETag)
	if etag == "" {
		etag = res.Headers.Get("ETag")
	}
	return CompleteResult{ETag: unquote(etag), StatusCode: res.StatusCode, CallbackBody: answer.body}, nil
}

// completeParts checks the caller's list: parts come from browsers.
func completeParts(op string, parts []Part) ([]oss.UploadPart, error) {
	if len(parts) == 0 || len(parts) > MaxParts {
		return nil, invalidArg(op, "not between 1 and 10000 parts")
	}
	list := make([]oss.UploadPart, len(parts))
	for i, p := range parts {
		if p.Number < 1 || p.Number > MaxParts || (i > 0 && p.Number <= parts[i-1].Number) {
			return nil, invalidArg(op, "part numbers are not strictly increasing within 1..10000")
		}
		etag := unquote(p.ETag)
		if etag == "" || token(etag, maxETagLen) != etag {
			return nil, invalidArg(op, "a part's ETag is not 1-128 letters, digits, '-', '_' or '.'")
		}
		list[i] = oss.UploadPart{PartNumber: int32(p.Number), ETag: oss.Ptr(`"` + etag + `"`)}
	}
	return list, nil
}

func validBase64JSON(s string, max int) bool {
	if len(s) > max {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	var obj map[string]any
	return json.Unmarshal(raw, &obj) == nil && obj != nil
}

// callbackAnswer takes a 200 answer's body (the relayed callback answer)
// before the SDK reads it. A 203 (CallbackFailed) is left to the SDK, which
// turns it into an error.
type callbackAnswer struct {
	body []byte
	err  error
}

func (a *callbackAnswer) take(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK || resp.Body == nil {
		return nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxCallbackBody+1))
	if err == nil && len(body) > MaxCallbackBody {
		err = errResponseTooLarge
	}
	if err != nil {
		a.err = err
		return err
	}
	a.body = body
	resp.Body = io.NopCloser(bytes.NewReader(nil))
	return nil
}

// AbortMultipart aborts the upload and frees its parts. ErrNoSuchUpload if
// it is already gone (completed, aborted, or an earlier abort whose answer
// was lost).
func (c *Client) AbortMultipart(ctx context.Context, key, uploadID string) error {
	const op = "AbortMultipart"
	if err := checkKey(op, key); err != nil {
		return err
	}
	if err := checkUploadID(op, uploadID); err != nil {
		return err
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	_, err := c.sdk.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{Bucket: &c.bucket, Key: &key, UploadId: &uploadID})
	return wrapErr(ctx, op, err)
}
