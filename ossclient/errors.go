package ossclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// The kinds of failure. Every error a Client returns is an [*Error] that
// wraps exactly one of them, so that callers map failures with errors.Is.
var (
	// ErrInvalidArgument: the request was refused before it was sent (a bad
	// key, part number or option), or OSS refused it as malformed (other 4xx).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound: the object (NoSuchKey, or any 404) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNoSuchUpload: the multipart upload does not exist (completed,
	// aborted or never started). It wraps ErrNotFound.
	ErrNoSuchUpload = fmt.Errorf("%w: no such upload", ErrNotFound)
	// ErrNoSuchBucket: the configured bucket does not exist, a configuration
	// problem rather than a missing object.
	ErrNoSuchBucket = errors.New("no such bucket")
	// ErrAlreadyExists: the key is taken and overwriting was forbidden
	// (409 FileAlreadyExists).
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidPart: OSS refused to complete a multipart upload with these
	// parts (InvalidPart, InvalidPartOrder, EntityTooSmall).
	ErrInvalidPart = errors.New("invalid part")
	// ErrAccessDenied: OSS refused the credentials or their permissions
	// (403: AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId,
	// SecurityTokenExpired, RequestTimeTooSkewed…).
	ErrAccessDenied = errors.New("access denied")
	// ErrCallbackFailed: OSS stored the object but the upload callback
	// failed (203 CallbackFailed). The object exists.
	ErrCallbackFailed = errors.New("callback failed")
	// ErrUnavailable: OSS could not be reached or answered, or answered 5xx,
	// 429 or something unreadable; the timeout and a canceled context land
	// here too (the context's error is wrapped as well).
	ErrUnavailable = errors.New("unavailable")
)

// Error is a failed call. Its message names the operation, the kind, OSS's
// error code and EC, the HTTP status and the request id: what support needs
// and nothing else. It never contains the request's URL, query string or
// headers, nor OSS's free-text message, which may echo them (the SDK's own
// errors print the request URL; presigned URLs and signatures must not reach
// logs or API answers).
type Error struct {
	Op         string // the OSS operation, e.g. "HeadObject"
	Kind       error  // one of the Err… values
	Code       string // OSS's error code, e.g. "NoSuchKey"; "" when OSS gave none
	EC         string // OSS's detailed error code, e.g. "0026-00000001"
	StatusCode int    // HTTP status; 0 when OSS did not answer
	RequestID  string // x-oss-request-id
	Reason     string // a fixed phrase for failures without an OSS answer, e.g. "timed out"
	cause      error  // a context or network error, for errors.Is and errors.As
}

// Error returns the sanitized message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ossclient: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.StatusCode != 0 {
		b.WriteString(" (status " + strconv.Itoa(e.StatusCode))
		if e.Code != "" {
			b.WriteString(", code " + e.Code)
		}
		if e.EC != "" {
			b.WriteString(", ec " + e.EC)
		}
		if e.RequestID != "" {
			b.WriteString(", request id " + e.RequestID)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the kind and, when there is one, the context or network
// error underneath.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.cause}
}

func invalidArg(op, reason string) *Error {
	return &Error{Op: op, Kind: ErrInvalidArgument, Reason: reason}
}

// serviceKinds maps OSS error codes to kinds; codes not listed are mapped by
// status in kindOfStatus.
var serviceKinds = map[string]error{
	"NoSuchKey":             ErrNotFound,
	"NoSuchUpload":          ErrNoSuchUpload,
	"NoSuchBucket":          ErrNoSuchBucket,
	"FileAlreadyExists":     ErrAlreadyExists,
	"InvalidPart":           ErrInvalidPart,
	"InvalidPartOrder":      ErrInvalidPart,
	"EntityTooSmall":        ErrInvalidPart,
	"CallbackFailed":        ErrCallbackFailed,
	"RequestTimeTooSkewed":  ErrAccessDenied,
	"SecurityTokenExpired":  ErrAccessDenied,
	"InvalidAccessKeyId":    ErrAccessDenied,
	"SignatureDoesNotMatch": ErrAccessDenied,
	"AccessDenied":          ErrAccessDenied,
	"SlowDown":              ErrUnavailable,
	"ServiceUnavailable":    ErrUnavailable,
	"InternalError":         ErrUnavailable,
}

func kindOfStatus(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrAlreadyExists
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrAccessDenied
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return ErrUnavailable
	case status == 203:
		return ErrCallbackFailed
	case status >= 400:
		return ErrInvalidArgument
	}
	// 1xx, 3xx (redirects are not followed): nothing ossgate can use.
	return ErrUnavailable
}

// sdkSynthesizedCode is the code the SDK puts on an answer it could not
// parse (a HEAD 404 has no body): not OSS's.
const sdkSynthesizedCode = "BadErrorResponse"

// wrapErr turns an SDK error into an *Error, keeping only sanitized fields.
// ctx is the call's context, to tell a timeout from a network failure.
func wrapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	e := &Error{Op: op, Kind: ErrUnavailable}
	var se *oss.ServiceError
	if errors.As(err, &se) {
		e.StatusCode = se.StatusCode
		e.RequestID = token(se.RequestID, 64)
		if e.RequestID == "" && se.Headers != nil {
			e.RequestID = token(se.Headers.Get("x-oss-request-id"), 64)
		}
		e.EC = token(se.EC, 32)
		if se.Code != sdkSynthesizedCode {
			e.Code = token(se.Code, 64)
		}
		if k, ok := serviceKinds[e.Code]; ok {
			e.Kind = k
		} else {
			e.Kind = kindOfStatus(se.StatusCode)
		}
		return e
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		e.cause = ctxErr
		e.Reason = "canceled"
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			e.Reason = "timed out"
		}
		return e
	}
	if errors.Is(err, errResponseTooLarge) {
		e.Reason = "answer too large"
		return e
	}
	var ne net.Error
	if errors.As(err, &ne) {
		// Keep the network error (it names addresses, never the URL) but
		// drop the *url.Error around it, which prints the request URL.
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			ne, _ = ue.Err.(net.Error)
		}
		if ne != nil {
			e.cause = ne
		}
		e.Reason = "network error"
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			e.Reason = "connection failed"
		}
		if ne != nil && ne.Timeout() {
			e.Reason = "network timeout"
		}
		return e
	}
	var de *oss.DeserializationError
	if errors.As(err, &de) {
		e.Reason = "unreadable answer"
		return e
	}
	e.Reason = "request failed"
	return e
}

// token keeps s only if it looks like an OSS code or id: no spaces, no
// markup, bounded. Anything else is replaced, so that an odd answer cannot
// smuggle text into logs.
func token(s string, max int) string {
	if s == "" {
		return ""
	}
	if len(s) > max {
		return "?"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "?"
		}
	}
	return s
}
