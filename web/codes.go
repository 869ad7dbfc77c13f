package web

import (
	"fmt"
	"net/http"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/policy"
)

// Codes web answers with itself; the cores' codes are their own constants.
const (
	codeInvalidJSON          = "invalid_json"
	codeUnauthorized         = "unauthorized"
	codeForbidden            = "forbidden"
	codeObjectMismatch       = "object_mismatch"
	codeNotFound             = "not_found"
	codeMethodNotAllowed     = "method_not_allowed"
	codeBodyTooLarge         = "body_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeRateLimited          = "rate_limited"
	codeInternal             = "internal"
	codeUnavailable          = "unavailable"
	codeOSSUnavailable       = "oss_unavailable"
	codeUploadClosed         = "upload_closed"
	codeUploadIncomplete     = "upload_incomplete"
	codeSizeMismatch         = "size_mismatch"
)

// codeStatus is the one table of error codes and the statuses they travel
// with. The cores' codes are keyed by their constants, so renaming one
// cannot compile into a silent 400.
var codeStatus = map[string]int{
	policy.CodeInvalidRequest:    http.StatusBadRequest,
	codeInvalidJSON:              http.StatusBadRequest,
	callback.CodeInvalidCallback: http.StatusBadRequest,

	codeUnauthorized: http.StatusUnauthorized,

	callback.CodeInvalidSignature: http.StatusForbidden,
	callback.CodeUntrustedKeyURL:  http.StatusForbidden,
	callback.CodeInvalidTicket:    http.StatusForbidden,
	codeForbidden:                 http.StatusForbidden,
	codeObjectMismatch:            http.StatusForbidden,

	codeNotFound:             http.StatusNotFound,
	codeMethodNotAllowed:     http.StatusMethodNotAllowed,
	codeBodyTooLarge:         http.StatusRequestEntityTooLarge,
	codeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	codeUploadClosed:         http.StatusConflict,
	codeUploadIncomplete:     http.StatusConflict,
	codeSizeMismatch:         http.StatusUnprocessableEntity,

	policy.CodeEmptyFile:      http.StatusUnprocessableEntity,
	policy.CodeFileTooLarge:   http.StatusUnprocessableEntity,
	policy.CodeTypeNotAllowed: http.StatusUnprocessableEntity,

	codeRateLimited: http.StatusTooManyRequests,

	codeInternal: http.StatusInternalServerError,

	codeUnavailable: http.StatusServiceUnavailable,
	// OSS retries a callback answered with it: not the sender's fault.
	callback.CodeKeyUnavailable: http.StatusServiceUnavailable,
	codeOSSUnavailable:          http.StatusServiceUnavailable,
}

// ErrorCodes returns every error code the API can answer, with its status,
// for the tests that hold the documents to the server.
func ErrorCodes() map[string]int {
	out := make(map[string]int, len(codeStatus))
	for c, s := range codeStatus {
		out[c] = s
	}
	return out
}

// newError is the error with that code, its status from codeStatus. A code
// missing there is a bug of ossgate's, caught by the tests.
func newError(code, message string) *apiError {
	status, ok := codeStatus[code]
	if !ok {
		panic(fmt.Sprintf("web: error code %q is not in codeStatus", code))
	}
	return &apiError{Status: status, Code: code, Message: message}
}
