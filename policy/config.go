package policy

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/ossgate/ossgate/internal/ossname"
	"github.com/ossgate/ossgate/ticket"
)

// Configuration limits and defaults.
const (
	// MinTTL is the shortest policy lifetime. A policy must outlive the
	// client's round trip to OSS plus the clock difference between ossgate
	// and OSS (OSS checks the expiry with its own clock); below a minute a
	// few seconds of skew or a slow mobile connection fail uploads that
	// were allowed.
	MinTTL = time.Minute
	// MaxTTL is the longest policy lifetime: a leaked form stays usable
	// that long.
	MaxTTL = 24 * time.Hour
	// DefaultTTL is the policy lifetime when IssuerConfig.TTL is 0.
	DefaultTTL = 10 * time.Minute
	// DefaultTicketGrace is how long a ticket outlives its policy when
	// IssuerConfig.TicketGrace is 0: an upload that starts just before the
	// policy expires may still be arriving, and OSS calls back only once it
	// is stored.
	DefaultTicketGrace = 30 * time.Minute
	// MaxUploadSize is the largest MaxSize: 5 GiB, the most OSS accepts in
	// one PostObject or PutObject.
	MaxUploadSize = 5 << 30
)

// IssuerConfig configures an [Issuer]. [IssuerConfig.Validate] says what is
// wrong with one, field by field; [NewIssuer] calls it.
type IssuerConfig struct {
	// Credentials sign the policies. Both AccessKeyID and AccessKeySecret
	// are required; SecurityToken (STS) is bound in every policy when set.
	Credentials Credentials
	// Region is the bucket's region, with or without "oss-" (cn-hangzhou):
	// 2..64 of a-z 0-9 -. Required.
	Region string
	// Bucket is the bucket's name: 3..63 of a-z 0-9 -, starting and ending
	// with a letter or digit. Required.
	Bucket string
	// UploadURL is where clients send uploads (SignedUpload.URL, and the
	// base of presigned URLs): an absolute http(s) URL with no userinfo,
	// query or fragment. Required.
	UploadURL string
	// CallbackURL is the URL OSS calls back after each upload (the public
	// URL + "/api/uploads/callback"): an absolute http(s) URL with no
	// userinfo, query or fragment. Required.
	CallbackURL string
	// CallbackBodyType is the format OSS sends the callback body in; the
	// ticket binds it. If empty, BodyJSON.
	CallbackBodyType BodyType
	// TicketSecret is the HMAC key of upload tickets, at least
	// ticket.MinSecretLen bytes. Required.
	TicketSecret []byte
	// TicketGrace is how long a ticket outlives its policy; not negative.
	// If zero, DefaultTicketGrace.
	TicketGrace time.Duration
	// KeyPrefix starts every object key (see ObjectKey): at most
	// MaxPrefixLen bytes of A-Z a-z 0-9 . _ - /, ending with "/", with no
	// leading "/", "//", "." or ".." segment. If empty, keys start with
	// the user's directory at the bucket's root.
	KeyPrefix string
	// MaxSize is the largest upload accepted, in bytes, 1..MaxUploadSize.
	// Required: zero is refused.
	MaxSize int64
	// AllowedTypes are the content types accepted: "type/subtype" or
	// "type/*" (RFC 6838 names, compared without regard to case). "*/*" is
	// refused: accepting any type means accepting text/html, which the
	// bucket's domain would then serve as a page. Required: empty is
	// refused.
	AllowedTypes []string
	// TTL is the policy lifetime, MinTTL..MaxTTL. If zero, DefaultTTL.
	TTL time.Duration
	// DefaultVersion is the signature version when a request asks for
	// none, V4 or V1. If empty, V4.
	DefaultVersion Version
	// Rand is the randomness of object keys; it must be safe for
	// concurrent use. If nil, crypto/rand.Reader.
	Rand io.Reader
}

// Validate checks every field of c without changing it and returns nil or
// one *FieldError per problem, joined with errors.Join (see FieldErrors).
// Zero values that have a default (TTL, TicketGrace, CallbackBodyType,
// DefaultVersion, KeyPrefix, Rand) are valid.
func (c IssuerConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if c.Credentials.AccessKeyID == "" || c.Credentials.AccessKeySecret == "" {
		bad("Credentials", "need both AccessKeyID and AccessKeySecret")
	}
	if !ossname.Region(StandardRegion(c.Region)) {
		bad("Region", "%q is not a region id such as cn-hangzhou", clip(c.Region, 64))
	}
	if !ossname.Bucket(c.Bucket) {
		bad("Bucket", "%q is not a bucket name (3-63 of a-z 0-9 -, starting and ending with a letter or digit)", clip(c.Bucket, 64))
	}
	if p := baseURLProblem(c.UploadURL); p != "" {
		bad("UploadURL", "%s", p)
	}
	if p := baseURLProblem(c.CallbackURL); p != "" {
		bad("CallbackURL", "%s", p)
	}
	switch c.CallbackBodyType {
	case "", BodyJSON, BodyForm:
	default:
		bad("CallbackBodyType", "%q is neither %s nor %s", clip(string(c.CallbackBodyType), 64), BodyJSON, BodyForm)
	}
	if len(c.TicketSecret) < ticket.MinSecretLen {
		bad("TicketSecret", "must be at least %d bytes", ticket.MinSecretLen)
	}
	if c.TicketGrace < 0 {
		bad("TicketGrace", "must not be negative")
	}
	if p := prefixProblem(c.KeyPrefix); p != "" {
		bad("KeyPrefix", "%q %s", clip(c.KeyPrefix, 64), p)
	}
	if c.MaxSize < 1 || c.MaxSize > MaxUploadSize {
		bad("MaxSize", "must be between 1 and %d bytes (5 GiB, OSS's limit for one upload)", int64(MaxUploadSize))
	}
	if len(c.AllowedTypes) == 0 {
		bad("AllowedTypes", "is empty: no upload could be accepted")
	}
	for _, t := range c.AllowedTypes {
		if _, p := parseMediaRange(t); p != "" {
			bad("AllowedTypes", "entry %q %s", clip(t, 64), p)
		}
	}
	if c.TTL != 0 && (c.TTL < MinTTL || c.TTL > MaxTTL) {
		bad("TTL", "%v is not between %v and %v", c.TTL, MinTTL, MaxTTL)
	}
	switch c.DefaultVersion {
	case "", V4, V1:
	default:
		bad("DefaultVersion", "%q is neither v4 nor v1", clip(string(c.DefaultVersion), 32))
	}
	return errors.Join(errs...)
}

// Format prints the config without the access key secret, STS token or
// ticket secret, for every fmt verb.
func (c IssuerConfig) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "policy.IssuerConfig{Credentials:%v Region:%s Bucket:%s UploadURL:%s CallbackURL:%s "+
		"CallbackBodyType:%s TicketSecret:%s TicketGrace:%v KeyPrefix:%s MaxSize:%d AllowedTypes:%v TTL:%v DefaultVersion:%s}",
		c.Credentials, c.Region, c.Bucket, c.UploadURL, c.CallbackURL, c.CallbackBodyType,
		redact(string(c.TicketSecret)), c.TicketGrace, c.KeyPrefix, c.MaxSize, c.AllowedTypes, c.TTL, c.DefaultVersion)
}

// baseURLProblem says what is wrong with s as a base URL (absolute http or
// https, a host, no userinfo, query or fragment), or "".
func baseURLProblem(s string) string {
	if s == "" {
		return "is empty"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%q is not an absolute http(s) URL", clip(s, 128))
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Sprintf("%q must have no userinfo, query or fragment", clip(s, 128))
	}
	return ""
}
