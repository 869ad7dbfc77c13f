// Package ossclient is ossgate's server-side client of one Alibaba Cloud
// OSS bucket, over the official Go SDK (alibabacloud-oss-go-sdk-v2), which
// signs every request and presigned URL: nothing here signs by hand.
//
// [Bucket] is what the web layer uses: HeadObject to confirm what a callback
// claims, DeleteObject, presigned GETs (with response-content-disposition
// and x-oss-process), and server-side multipart uploads whose parts browsers
// PUT to presigned URLs, completed with an upload callback. [*Client] adds
// the read-only checks of `ossgate doctor`: BucketInfo, BucketCORS (and
// PutBucketCORS), ClockOffset.
//
// Every call is bounded: a Timeout per request (5 s by default; the
// callback handler passes a tighter context, as OSS waits only 5 s for the
// whole callback), a few retries of transient failures inside it, capped
// answer bodies and lists, and checked keys, upload ids and part lists,
// since they come from browsers.
//
// Errors are [*Error] values that wrap one kind (ErrNotFound,
// ErrAlreadyExists, ErrInvalidPart, ErrAccessDenied, ErrUnavailable…), for
// errors.Is, and carry OSS's code and request id. Their messages never
// contain URLs, query strings, headers or OSS's message text.
package ossclient
