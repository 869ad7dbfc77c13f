package callback

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Every error returned by this package for a refused
// callback wraps exactly one of them, with a detail that never holds a
// signature, a ticket or a key. Test with errors.Is, or map with Code.
var (
	// ErrUntrustedKeyURL: the x-oss-pub-key-url names a URL that may not be
	// fetched (bad scheme, host not allowlisted, userinfo, ...). Nothing was
	// fetched.
	ErrUntrustedKeyURL = errors.New("callback: public key URL not allowed")
	// ErrKeyUnavailable: the key URL is trusted but its host could not give
	// the key (network error, timeout, 5xx). It is not the sender's fault, so
	// the caller should answer with a retryable status. A URL that serves no
	// usable key is the sender's doing: ErrInvalidSignature.
	ErrKeyUnavailable = errors.New("callback: public key unavailable")
	// ErrInvalidSignature: the request is not signed by the key it names, its
	// Authorization / x-oss-pub-key-url headers are malformed, or its key URL
	// serves no usable key.
	ErrInvalidSignature = errors.New("callback: invalid signature")
	// ErrInvalidCallback: the (signed) body cannot be parsed or lacks a
	// required field.
	ErrInvalidCallback = errors.New("callback: invalid callback body")
	// ErrInvalidTicket: the upload ticket is bad or expired, or the upload
	// OSS reports does not agree with it.
	ErrInvalidTicket = errors.New("callback: invalid upload ticket")
)

// API error codes returned by Code (see the HTTP contract, docs/API.md).
const (
	CodeUntrustedKeyURL  = "untrusted_key_url" // 403
	CodeInvalidSignature = "invalid_signature" // 403
	CodeInvalidCallback  = "invalid_callback"  // 400
	CodeInvalidTicket    = "invalid_ticket"    // 403
	CodeKeyUnavailable   = "key_unavailable"   // 503, so that OSS retries the callback
)

// Code maps an error from this package to its API error code:
//
//	ErrUntrustedKeyURL  -> "untrusted_key_url"  (403)
//	ErrInvalidSignature -> "invalid_signature"  (403)
//	ErrInvalidCallback  -> "invalid_callback"   (400)
//	ErrInvalidTicket    -> "invalid_ticket"     (403)
//	ErrKeyUnavailable   -> "key_unavailable"    (503)
//
// ErrKeyUnavailable gets its own code because an allowlisted key host that
// is down is a fault on the server side, not in the request: the web layer
// answers 503 and OSS retries. Code returns "" for nil and for errors that
// wrap none of the sentinels (a misconfigured Verifier, for instance), which
// the web layer treats as a 500.
func Code(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUntrustedKeyURL):
		return CodeUntrustedKeyURL
	case errors.Is(err, ErrKeyUnavailable):
		return CodeKeyUnavailable
	case errors.Is(err, ErrInvalidSignature):
		return CodeInvalidSignature
	case errors.Is(err, ErrInvalidCallback):
		return CodeInvalidCallback
	case errors.Is(err, ErrInvalidTicket):
		return CodeInvalidTicket
	case errors.Is(err, ErrObjectMismatch):
		return CodeObjectMismatch
	}
	return ""
}

// errorf wraps sentinel with a formatted detail.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// quote renders attacker-supplied text (URLs, hosts) for an error message:
// Go-quoted, so it cannot forge log lines, and cut short.
func quote(s string) string {
	const limit = 96
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
