package callback

import (
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ossgate/ossgate/ticket"
)

// Header size limits, decoded. Real values are about 60 and 128-512 bytes.
const (
	maxPubKeyURLBytes     = 4 << 10
	maxAuthorizationBytes = 1 << 10
)

// Request is the parts of the HTTP request OSS sent that matter.
type Request struct {
	Path          string // r.URL.EscapedPath(): the raw path as received (the verifier URL-decodes it, as OSS does)
	RawQuery      string // r.URL.RawQuery, not decoded; "" when none
	Authorization string // Authorization header: base64 RSA signature
	PubKeyURL     string // x-oss-pub-key-url header: base64 of the key's URL
	ContentType   string // Content-Type header
	Body          []byte // the whole body, already read (at most MaxBodyBytes)
}

// NewRequest fills a Request from an incoming HTTP request and its body,
// which the caller has read (with a limit of MaxBodyBytes).
func NewRequest(r *http.Request, body []byte) Request {
	return Request{
		Path:          r.URL.EscapedPath(),
		RawQuery:      r.URL.RawQuery,
		Authorization: r.Header.Get("Authorization"),
		PubKeyURL:     r.Header.Get("X-Oss-Pub-Key-Url"),
		ContentType:   r.Header.Get("Content-Type"),
		Body:          body,
	}
}

// StringToSign returns what OSS signs for a callback: the URL-decoded path,
// then "?" and the raw (undecoded) query when there is one, then "\n" and the
// body. A path that cannot be decoded gives ErrInvalidSignature.
func StringToSign(path, rawQuery string, body []byte) ([]byte, error) {
	p, err := url.PathUnescape(path)
	if err != nil {
		return nil, errorf(ErrInvalidSignature, "bad escape in request path")
	}
	buf := make([]byte, 0, len(p)+1+len(rawQuery)+1+len(body))
	buf = append(buf, p...)
	if rawQuery != "" {
		buf = append(buf, '?')
		buf = append(buf, rawQuery...)
	}
	buf = append(buf, '\n')
	buf = append(buf, body...)
	return buf, nil
}

// Sign returns the Authorization header value OSS would send for a callback
// to path?rawQuery with body: base64 of the PKCS#1 v1.5 RSA signature of the
// MD5 of StringToSign. For emulators and tests.
func Sign(key *rsa.PrivateKey, path, rawQuery string, body []byte) (string, error) {
	msg, err := StringToSign(path, rawQuery, body)
	if err != nil {
		return "", err
	}
	sum := md5.Sum(msg)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.MD5, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifiedUpload is what a verified callback tells: what OSS stored and who
// asked for it. Every field is bounded and well-formed (see Verify).
type VerifiedUpload struct {
	User        string // the ticket's user (JWT sub of the policy request)
	Bucket      string
	Key         string            // the object key
	ETag        string            // OSS's ETag, without quotes: 32 upper-case hex digits, "-N" if multipart
	ContentType string            // the mimeType OSS reports, lowercased: the ticket's type
	Filename    string            // the filename given in the policy request, from the ticket
	Size        int64             // as reported by OSS: 1..the declared size
	Vars        map[string]string // only names the ticket allows; never nil
	Image       *Image            // OSS's image details, for an image of the ticket's type; else nil
}

// Verifier checks OSS callbacks. A Verifier is safe for concurrent use if
// Keys is.
type Verifier struct {
	// Keys decides which key URLs are trusted and gives their keys: a
	// *Fetcher in production, StaticKeys in tests. Required.
	Keys KeySource
	// TicketSecret is the HMAC secret of upload tickets, at least
	// ticket.MinSecretLen bytes. Required.
	TicketSecret []byte
	// BodyType, if set, is the only callback body format accepted,
	// ticket.BodyJSON or ticket.BodyForm: set it to the format the issuer
	// is configured with. If empty, the Content-Type chooses the format;
	// either way the ticket in the body must have been issued for that
	// format, so a signed body resent under the other Content-Type is
	// refused.
	BodyType string
}

// VerifySignature checks that r is signed by the key named in its
// x-oss-pub-key-url header. Both headers must be standard base64 (padded or
// not), the URL at most 4 KiB and the signature at most 1 KiB decoded; they
// are decoded before the key is asked for, so garbage costs no fetch. The
// key source refuses untrusted URLs (ErrUntrustedKeyURL) before any I/O.
//
// Errors wrap ErrInvalidSignature (malformed headers, bad signature),
// ErrUntrustedKeyURL, or ErrKeyUnavailable (any other key source failure).
func (v *Verifier) VerifySignature(ctx context.Context, r Request) error {
	if v == nil || v.Keys == nil {
		return errors.New("callback: Verifier has no key source")
	}
	keyURL, sig, err := decodeHeaders(r.PubKeyURL, r.Authorization)
	if err != nil {
		return err
	}
	msg, err := StringToSign(r.Path, r.RawQuery, r.Body)
	if err != nil {
		return err
	}
	key, err := v.Keys.PublicKey(ctx, keyURL)
	switch {
	case errors.Is(err, ErrUntrustedKeyURL), errors.Is(err, ErrKeyUnavailable), errors.Is(err, ErrInvalidSignature):
		return err
	case err != nil:
		return errorf(ErrKeyUnavailable, "%v", err)
	case key == nil:
		return errorf(ErrKeyUnavailable, "key source returned no key")
	}
	sum := md5.Sum(msg)
	if err := verifyMD5WithRSA(key, sum[:], sig); err != nil {
		return errorf(ErrInvalidSignature, "signature does not match the request")
	}
	return nil
}

// decodeHeaders decodes x-oss-pub-key-url and Authorization. Failures wrap
// ErrInvalidSignature and never echo the header values.
func decodeHeaders(pubKeyURL, authorization string) (keyURL string, sig []byte, err error) {
	u, err := decodeBase64(pubKeyURL, maxPubKeyURLBytes)
	if err != nil {
		return "", nil, errorf(ErrInvalidSignature, "x-oss-pub-key-url: %v", err)
	}
	sig, err = decodeBase64(authorization, maxAuthorizationBytes)
	if err != nil {
		return "", nil, errorf(ErrInvalidSignature, "authorization: %v", err)
	}
	return string(u), sig, nil
}

// decodeBase64 decodes standard base64, padded or not, strictly: only the
// base64 alphabet (the decoder would skip CR and LF), no trailing bits.
func decodeBase64(s string, maxDecoded int) ([]byte, error) {
	if s == "" {
		return nil, errors.New("missing")
	}
	if len(s) > base64.StdEncoding.EncodedLen(maxDecoded) {
		return nil, fmt.Errorf("longer than %d bytes", maxDecoded)
	}
	for i := range len(s) {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, errors.New("not base64")
		}
	}
	enc := base64.StdEncoding.Strict()
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding.Strict()
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(b) == 0 || len(b) > maxDecoded {
		return nil, fmt.Errorf("empty or longer than %d bytes", maxDecoded)
	}
	return b, nil
}

// Verify checks a callback completely and returns the upload it reports:
// the signature (VerifySignature), the body format (BodyFormat, and
// BodyType when set), the body (ParseBody), the ticket in it (ticket.Verify
// at time now) and that the body agrees with the ticket: the format the
// ticket was issued for, the same bucket and object key, 1 <= size <=
// declared size, the same media type (without regard to case), and no var
// the ticket does not name. User and Filename come from the ticket, the
// rest from the body.
//
// Errors wrap, in the order checked: ErrInvalidSignature, ErrUntrustedKeyURL
// or ErrKeyUnavailable (signature); ErrInvalidCallback (format, body,
// including a missing ticket or a malformed field); ErrInvalidTicket (bad or
// expired ticket, or a mismatch). A Verifier without Keys, with a short
// TicketSecret or an unknown BodyType gives an error that wraps none of them
// (Code returns "").
func (v *Verifier) Verify(ctx context.Context, r Request, now time.Time) (VerifiedUpload, error) {
	if v == nil || len(v.TicketSecret) < ticket.MinSecretLen {
		return VerifiedUpload{}, fmt.Errorf("callback: Verifier needs a ticket secret of at least %d bytes", ticket.MinSecretLen)
	}
	if v.BodyType != "" && v.BodyType != ticket.BodyJSON && v.BodyType != ticket.BodyForm {
		return VerifiedUpload{}, fmt.Errorf("callback: Verifier.BodyType %s is neither %s nor %s", quote(v.BodyType), ticket.BodyJSON, ticket.BodyForm)
	}
	if err := v.VerifySignature(ctx, r); err != nil {
		return VerifiedUpload{}, err
	}
	format, err := BodyFormat(r.ContentType)
	if err != nil {
		return VerifiedUpload{}, err
	}
	if v.BodyType != "" && format != v.BodyType {
		return VerifiedUpload{}, errorf(ErrInvalidCallback, "body is %s; only %s is accepted", format, v.BodyType)
	}
	body, err := ParseBody(r.ContentType, r.Body)
	if err != nil {
		return VerifiedUpload{}, err
	}
	claims, err := ticket.Verify(v.TicketSecret, body.Ticket, now)
	if err != nil {
		return VerifiedUpload{}, fmt.Errorf("%w: %w", ErrInvalidTicket, err)
	}
	if err := agree(body, claims, format); err != nil {
		return VerifiedUpload{}, err
	}
	return VerifiedUpload{
		User:        claims.User,
		Bucket:      body.Bucket,
		Key:         body.Object,
		ETag:        body.ETag,
		ContentType: strings.ToLower(body.MimeType),
		Filename:    claims.Filename,
		Size:        body.Size,
		Vars:        body.Vars,
		Image:       imageOf(body.Image, body.MimeType),
	}, nil
}

// imageOf keeps image details only for an object whose media type is an
// image of that format: what OSS says of a text file is not an image.
func imageOf(img *Image, mimeType string) *Image {
	if img == nil {
		return nil
	}
	formats := map[string]string{"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
		"webp": "image/webp", "bmp": "image/bmp", "tiff": "image/tiff", "heic": "image/heic", "avif": "image/avif"}
	if want, ok := formats[img.Format]; !ok || !strings.EqualFold(want, mimeType) {
		return nil
	}
	return img
}

// agree checks that what OSS reports is what the ticket allowed. The body
// format comes first: a body parsed in a format its ticket was not issued
// for may hold fields the uploader wrote (a var's value read as a form).
func agree(body Body, claims ticket.Claims, format string) error {
	switch {
	case claims.BodyType != format:
		return errorf(ErrInvalidTicket, "body format %s is not the ticket's", format)
	case body.Bucket != claims.Bucket:
		return errorf(ErrInvalidTicket, "bucket does not match the ticket")
	case !claims.AllowsKey(body.Object):
		return errorf(ErrInvalidTicket, "object key does not match the ticket")
	case body.Size == 0:
		return errorf(ErrInvalidTicket, "size 0: empty uploads are not accepted")
	case body.Size > claims.Size:
		return errorf(ErrInvalidTicket, "size %d is over the declared %d", body.Size, claims.Size)
	case !strings.EqualFold(body.MimeType, claims.ContentType):
		return errorf(ErrInvalidTicket, "content type does not match the ticket")
	}
	for name := range body.Vars {
		if !claims.AllowsVar(name) {
			return errorf(ErrInvalidTicket, "var %s is not one the ticket allows", quote(name))
		}
	}
	return nil
}
