package policy

import "github.com/ossgate/ossgate/internal/fielderr"

// Codes of the validation errors returned by [Issuer.Validate] and
// [Issuer.Issue]; they are the API's error codes.
const (
	CodeInvalidRequest = "invalid_request"  // a field is missing or malformed (400)
	CodeEmptyFile      = "empty_file"       // size is 0 (422)
	CodeFileTooLarge   = "file_too_large"   // size is over the maximum (422)
	CodeTypeNotAllowed = "type_not_allowed" // content type not in the allowed list (422)
)

// Error is a request the rules refuse: the caller's fault, never the
// server's. Field names the request field (JSON name) when there is one;
// Message is a human sentence that names it and never echoes long input.
type Error struct {
	Code    string
	Field   string
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

func invalid(field, msg string) *Error {
	return &Error{Code: CodeInvalidRequest, Field: field, Message: msg}
}

// FieldError is one problem with one field of a configuration
// ([IssuerConfig.Validate]): Field is the Go field name ("TTL",
// "AllowedTypes"), Problem a short phrase that never holds a secret.
type FieldError struct {
	Field   string
	Problem string
}

// Error returns "policy: <Field> <Problem>".
func (e *FieldError) Error() string { return "policy: " + e.Field + " " + e.Problem }

// FieldErrors returns every *FieldError in err, which may be one or an
// errors.Join of several, in order; nil when there is none.
func FieldErrors(err error) []*FieldError { return fielderr.Collect[*FieldError](err) }
