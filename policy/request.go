package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ossgate/ossgate/ticket"
)

// Request limits (API.md, POST /api/uploads/policy). The var and content
// type limits are the ticket package's, which the callback verifier applies
// too.
const (
	MaxFilenameLen    = 255 // bytes
	MaxVars           = ticket.MaxVars
	MaxVarValueLen    = ticket.MaxVarValueLen // bytes
	maxContentTypeLen = ticket.MaxMediaTypeLen
)

// Request is what a client asks to upload (the JSON body of the policy
// endpoint).
type Request struct {
	Filename string `json:"filename"`
	// Size is the file's size in bytes. Decoded from JSON, a request
	// without "size" (or with null) is remembered as such, and the Issuer
	// refuses it as invalid_request naming size rather than as an empty
	// file; a Request built in Go with Size 0 is an empty file.
	Size             int64             `json:"size"`
	ContentType      string            `json:"contentType"`
	Vars             map[string]string `json:"vars,omitempty"`
	SignatureVersion string            `json:"signatureVersion,omitempty"`

	sizeMissing bool // set by UnmarshalJSON only
}

// UnmarshalJSON decodes a request strictly: unknown fields are refused
// (with encoding/json's "json: unknown field" error, as
// Decoder.DisallowUnknownFields gives, however the caller decodes), and a
// missing or null "size" is remembered (see Size).
func (r *Request) UnmarshalJSON(data []byte) error {
	if decodeRequestFast(data, r) {
		return nil
	}
	return decodeRequestJSON(data, r)
}

// decodeRequestJSON is UnmarshalJSON through encoding/json, for every body.
func decodeRequestJSON(data []byte, r *Request) error {
	var w struct {
		Filename         string            `json:"filename"`
		Size             *int64            `json:"size"`
		ContentType      string            `json:"contentType"`
		Vars             map[string]string `json:"vars,omitempty"`
		SignatureVersion string            `json:"signatureVersion,omitempty"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*r = Request{Filename: w.Filename, ContentType: w.ContentType, Vars: w.Vars, SignatureVersion: w.SignatureVersion}
	if w.Size == nil {
		r.sizeMissing = true
	} else {
		r.Size = *w.Size
	}
	return nil
}

// SignedUpload is what a client sends to OSS for one upload: a POST form
// (Method "POST", the signed Fields, the file last) or a presigned PUT
// (Method "PUT", the URL carries the signature, Headers must be sent as
// given, no Fields).
type SignedUpload struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Fields    map[string]string `json:"fields,omitempty"` // absent for PUT: Uppy 6 takes any fields object to mean a POST form
	Headers   map[string]string `json:"headers"`          // never nil: Uppy iterates it
	Key       string            `json:"key"`
	ExpiresAt time.Time         `json:"expiresAt"` // the policy's expiry, UTC, whole seconds
	MaxSize   int64             `json:"maxSize"`   // the declared size: the most OSS accepts
	// Ticket is the upload ticket the callback carries. A client whose
	// upload OSS kept but whose callback failed (203 CallbackFailed) sends
	// it to POST /api/uploads/confirm.
	Ticket string `json:"ticket"`

	// Version is the signature version the issuer chose, for metrics and
	// logs; clients read it from the fields or the URL.
	Version Version `json:"-"`
}

// Validate checks req against the rules and returns nil or an *Error.
func (is *Issuer) Validate(req Request) error {
	if _, _, err := is.check(req); err != nil {
		return err
	}
	return nil
}

// check validates req and returns its normalised content type and the
// signature version to use. Malformed fields (400) are reported before
// business rules (422), each in request field order.
func (is *Issuer) check(req Request) (string, Version, *Error) {
	if req.Filename == "" {
		return "", "", invalid("filename", "filename is required")
	}
	if err := checkText("filename", req.Filename, MaxFilenameLen); err != nil {
		return "", "", err
	}
	switch {
	case req.sizeMissing:
		return "", "", invalid("size", "size is required")
	case req.Size < 0:
		return "", "", invalid("size", "size must not be negative")
	}
	ct, err := parseContentType(req.ContentType)
	if err != nil {
		return "", "", err
	}
	if err := checkVars(req.Vars); err != nil {
		return "", "", err
	}
	v := is.cfg.DefaultVersion
	if req.SignatureVersion != "" {
		var perr error
		if v, perr = ParseVersion(req.SignatureVersion); perr != nil {
			return "", "", invalid("signatureVersion", "signatureVersion must be v4 or v1")
		}
	}
	switch {
	case req.Size == 0:
		return "", "", &Error{Code: CodeEmptyFile, Field: "size", Message: "size is 0: empty files are not accepted"}
	case req.Size > is.cfg.MaxSize:
		return "", "", &Error{Code: CodeFileTooLarge, Field: "size",
			Message: fmt.Sprintf("size %d is larger than the maximum of %d bytes", req.Size, is.cfg.MaxSize)}
	case !is.allowed(ct):
		return "", "", &Error{Code: CodeTypeNotAllowed, Field: "contentType",
			Message: fmt.Sprintf("contentType %q is not allowed", clip(ct, 64))}
	}
	return ct, v, nil
}

// checkText refuses text that is too long, not UTF-8 or holds control
// characters (including U+2028/U+2029, line breaks in disguise).
func checkText(field, s string, max int) *Error {
	switch {
	case len(s) > max:
		return invalid(field, fmt.Sprintf("%s must be at most %d bytes", field, max))
	case !utf8.ValidString(s):
		return invalid(field, field+" must be valid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }):
		return invalid(field, field+" must not contain control characters")
	}
	return nil
}

func checkVars(vars map[string]string) *Error {
	if len(vars) > MaxVars {
		return invalid("vars", fmt.Sprintf("vars may hold at most %d entries", MaxVars))
	}
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	slices.Sort(names) // the same error for the same request, whatever map order
	for _, n := range names {
		if !ValidVarName(n) {
			return invalid("vars", "vars names must match [a-z0-9_]{1,32}")
		}
		if err := checkText("vars."+n, vars[n], MaxVarValueLen); err != nil {
			err.Field = "vars"
			return err
		}
	}
	return nil
}

// parseContentType returns the lowercased media type of s, without
// parameters, which is what the policy binds and OSS stores. The media type
// must be one the callback accepts back (ticket.PlainMediaType).
func parseContentType(s string) (string, *Error) {
	if s == "" {
		return "", invalid("contentType", "contentType is required")
	}
	if len(s) > maxContentTypeLen {
		return "", invalid("contentType", fmt.Sprintf("contentType must be at most %d bytes", maxContentTypeLen))
	}
	mt, _, err := mime.ParseMediaType(s)
	if err != nil || !ticket.PlainMediaType(mt) {
		return "", invalid("contentType", "contentType is not a valid media type (type/subtype)")
	}
	return mt, nil
}

// mediaRange is an allowed type: "image/jpeg" or "image/*" (sub "*").
type mediaRange struct{ typ, sub string }

// parseMediaRange reads an AllowedTypes entry (surrounding spaces ignored,
// any letter case) or says what is wrong with it.
func parseMediaRange(s string) (mediaRange, string) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "*/*" {
		return mediaRange{}, "is refused: any type includes text/html, which the bucket's domain would serve as a page"
	}
	typ, sub, _ := strings.Cut(s, "/")
	if sub == "*" && ticket.PlainMediaType(typ+"/x") || ticket.PlainMediaType(s) {
		return mediaRange{typ, sub}, ""
	}
	return mediaRange{}, "is not type/subtype or type/* (no parameters)"
}

func (is *Issuer) allowed(ct string) bool {
	typ, sub, _ := strings.Cut(ct, "/")
	for _, r := range is.allowedTypes {
		if r.typ == typ && (r.sub == "*" || r.sub == sub) {
			return true
		}
	}
	return false
}
