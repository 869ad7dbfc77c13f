package ossclient

import (
	"context"
	"net/http"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// ListParts returns every uploaded part, in part-number order, reading
// page after page (each page is one request bounded by the Timeout).
func (c *Client) ListParts(ctx context.Context, key, uploadID string) ([]Part, error) {
	const op = "ListParts"
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	if err := checkUploadID(op, uploadID); err != nil {
		return nil, err
	}
	var parts []Part
	marker := int32(0)
	for range maxListPages {
		res, err := c.listPartsPage(ctx, key, uploadID, marker)
		if err != nil {
			return nil, wrapErr(ctx, op, err)
		}
		for _, p := range res.Parts {
			if len(parts) == MaxParts {
				return nil, badAnswer(op, res.StatusCode)
			}
			part := Part{Number: int(p.PartNumber), ETag: unquote(oss.ToString(p.ETag)), Size: p.Size}
			if p.LastModified != nil {
				part.LastModified = *p.LastModified
			}
			parts = append(parts, part)
		}
		if !res.IsTruncated {
			return parts, nil
		}
		// A truncated page must move the marker forward, or the loop would
		// ask for it again.
		if res.NextPartNumberMarker <= marker || len(res.Parts) == 0 {
			return nil, badAnswer(op, res.StatusCode)
		}
		marker = res.NextPartNumberMarker
	}
	return nil, badAnswer(op, http.StatusOK)
}

func (c *Client) listPartsPage(ctx context.Context, key, uploadID string, marker int32) (*oss.ListPartsResult, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	res, err := c.sdk.ListParts(ctx, &oss.ListPartsRequest{
		Bucket: &c.bucket, Key: &key, UploadId: &uploadID, MaxParts: listPage, PartNumberMarker: marker,
	})
	if err != nil {
		return nil, wrapErr(ctx, "ListParts", err)
	}
	return res, nil
}

// badAnswer is an answer that parsed but cannot be right (a list that does
// not advance, more parts than OSS allows).
func badAnswer(op string, status int) *Error {
	return &Error{Op: op, Kind: ErrUnavailable, Reason: "inconsistent answer", StatusCode: status}
}

// ListMultipartUploads returns up to max unfinished uploads whose keys
// start with prefix, in key order, for a sweeper to abort the stale ones.
// max is at most MaxListedUploads; if zero or less, 1000.
func (c *Client) ListMultipartUploads(ctx context.Context, prefix string, max int) ([]MultipartUpload, error) {
	const op = "ListMultipartUploads"
	if len(prefix) > MaxKeyLen {
		return nil, invalidArg(op, "prefix longer than 1023 bytes")
	}
	if max <= 0 {
		max = listPage
	}
	if max > MaxListedUploads {
		return nil, invalidArg(op, "max is over 10000")
	}
	var ups []MultipartUpload
	var keyMarker, idMarker string
	for range maxListPages {
		res, err := c.listUploadsPage(ctx, prefix, keyMarker, idMarker, min(listPage, max-len(ups)))
		if err != nil {
			return nil, wrapErr(ctx, op, err)
		}
		for _, u := range res.Uploads {
			if len(ups) == max {
				return ups, nil
			}
			up := MultipartUpload{Key: oss.ToString(u.Key), UploadID: oss.ToString(u.UploadId)}
			if u.Initiated != nil {
				up.Initiated = *u.Initiated
			}
			ups = append(ups, up)
		}
		if !res.IsTruncated || len(ups) == max {
			return ups, nil
		}
		nk, ni := oss.ToString(res.NextKeyMarker), oss.ToString(res.NextUploadIdMarker)
		if len(res.Uploads) == 0 || (nk == keyMarker && ni == idMarker) {
			return nil, badAnswer(op, res.StatusCode)
		}
		keyMarker, idMarker = nk, ni
	}
	return nil, badAnswer(op, http.StatusOK)
}

func (c *Client) listUploadsPage(ctx context.Context, prefix, keyMarker, idMarker string, n int) (*oss.ListMultipartUploadsResult, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	req := &oss.ListMultipartUploadsRequest{Bucket: &c.bucket, MaxUploads: int32(n)}
	if prefix != "" {
		req.Prefix = &prefix
	}
	if keyMarker != "" {
		req.KeyMarker = &keyMarker
	}
	if idMarker != "" {
		req.UploadIdMarker = &idMarker
	}
	res, err := c.sdk.ListMultipartUploads(ctx, req)
	if err != nil {
		return nil, wrapErr(ctx, "ListMultipartUploads", err)
	}
	return res, nil
}
