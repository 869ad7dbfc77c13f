package callback

import (
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/ossgate/ossgate/ticket"
)

// Object is what OSS itself reports of a stored object (HeadObject): the
// only account of an upload that no callback sender controls.
type Object struct {
	Size        int64
	ETag        string // with or without the quotes of the HTTP header
	ContentType string
}

// ErrObjectMismatch: the object in the bucket is missing or is not the one
// a callback (or a confirmation) describes. OSS signs every customer's
// callbacks with one key, so a signed callback alone does not prove that
// the object exists; this does.
var ErrObjectMismatch = errors.New("callback: object does not match")

// CodeObjectMismatch is the API code of ErrObjectMismatch (403).
const CodeObjectMismatch = "object_mismatch"

// CheckObject reports whether obj, as OSS describes it, is the upload up
// says it is: the same size, ETag (without regard to quotes or case) and
// media type (parameters ignored). A mismatch wraps ErrObjectMismatch.
func CheckObject(up VerifiedUpload, obj Object) error {
	etag, ok := parseETag(strings.ToUpper(obj.ETag))
	switch {
	case !ok:
		return errorf(ErrObjectMismatch, "the bucket reports ETag %s, not an OSS ETag", quote(obj.ETag))
	case obj.Size != up.Size:
		return errorf(ErrObjectMismatch, "the bucket holds %d bytes, the callback says %d", obj.Size, up.Size)
	case etag != up.ETag:
		return errorf(ErrObjectMismatch, "the bucket's ETag is not the callback's")
	case !sameMediaType(obj.ContentType, up.ContentType):
		return errorf(ErrObjectMismatch, "the bucket's content type %s is not the callback's", quote(obj.ContentType))
	}
	return nil
}

// Confirm is Verify for an upload whose callback failed (OSS answers the
// uploader 203 CallbackFailed but keeps the object): the uploader sends the
// ticket of its policy, and obj is what OSS reports of the key now. The
// upload is accepted when the ticket is valid at now, is user's, allows key
// and agrees with obj (1 <= size <= declared, the same media type), and
// vars name only variables the ticket allows, with valid values.
//
// Errors wrap ErrInvalidTicket (a bad, expired or foreign ticket, a key or
// var it does not allow) or ErrObjectMismatch (the object breaks the
// ticket's limits).
func (v *Verifier) Confirm(token, user, key string, obj Object, vars map[string]string, now time.Time) (VerifiedUpload, error) {
	if v == nil || len(v.TicketSecret) < ticket.MinSecretLen {
		return VerifiedUpload{}, fmt.Errorf("callback: Verifier needs a ticket secret of at least %d bytes", ticket.MinSecretLen)
	}
	claims, err := ticket.Verify(v.TicketSecret, token, now)
	if err != nil {
		return VerifiedUpload{}, fmt.Errorf("%w: %w", ErrInvalidTicket, err)
	}
	switch {
	case claims.User != user:
		return VerifiedUpload{}, errorf(ErrInvalidTicket, "the ticket is another user's")
	case !claims.AllowsKey(key):
		return VerifiedUpload{}, errorf(ErrInvalidTicket, "object key does not match the ticket")
	case len(vars) > ticket.MaxVars:
		return VerifiedUpload{}, errorf(ErrInvalidTicket, "%d vars, more than %d", len(vars), ticket.MaxVars)
	}
	for name, value := range vars {
		if !claims.AllowsVar(name) || !ticket.ValidVarValue(value) {
			return VerifiedUpload{}, errorf(ErrInvalidTicket, "var %s is not one the ticket allows, or its value is not valid", quote(name))
		}
	}
	etag, ok := parseETag(strings.ToUpper(obj.ETag))
	switch {
	case !ok:
		return VerifiedUpload{}, errorf(ErrObjectMismatch, "the bucket reports ETag %s, not an OSS ETag", quote(obj.ETag))
	case obj.Size < 1 || obj.Size > claims.Size:
		return VerifiedUpload{}, errorf(ErrObjectMismatch, "the object has %d bytes; the ticket allows 1 to %d", obj.Size, claims.Size)
	case !sameMediaType(obj.ContentType, claims.ContentType):
		return VerifiedUpload{}, errorf(ErrObjectMismatch, "the object's content type %s is not the ticket's", quote(obj.ContentType))
	}
	if vars == nil {
		vars = map[string]string{}
	}
	return VerifiedUpload{
		User:        claims.User,
		Bucket:      claims.Bucket,
		Key:         key,
		ETag:        etag,
		ContentType: strings.ToLower(claims.ContentType),
		Filename:    claims.Filename,
		Size:        obj.Size,
		Vars:        vars,
	}, nil
}

// sameMediaType compares two Content-Type values by their media type alone.
func sameMediaType(a, b string) bool {
	ma, _, errA := mime.ParseMediaType(a)
	mb, _, errB := mime.ParseMediaType(b)
	return errA == nil && errB == nil && ma == mb
}
