// Package ticket issues and checks ossgate's upload tickets: short HS256 JWTs
// that the policy step embeds, literally, in the OSS callback body, so that
// the callback handler can tell which user asked for which upload.
//
// A ticket is a bearer credential only for the one object key it names, and
// only until it expires. It is signed with the service's ticket secret, which
// never leaves ossgate (OSS only copies the ticket into the callback). It
// also binds what OSS cannot be trusted to keep apart: the callback body's
// format (the Content-Type of a callback is not signed) and the names of the
// custom variables the policy allowed.
//
// The package also holds the few limits the policy issuer and the callback
// verifier must agree on (see rules.go).
package ticket

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretLen is the shortest ticket secret accepted, in bytes.
const MinSecretLen = 32

// Issuer is the `iss` claim of every ticket, so an app JWT signed with the
// same secret by mistake can never pass as a ticket.
const Issuer = "ossgate-ticket"

// Claims is what a ticket binds.
type Claims struct {
	User   string
	Bucket string
	Key    string
	// KeyPrefix, instead of Key, allows any key made of the prefix and one
	// plain name (no "/"): for uploaders that name the object themselves
	// inside a directory the server chose (the OSS sample frontends).
	KeyPrefix   string
	Size        int64 // declared size: the most OSS may report
	ContentType string
	Filename    string
	// BodyType is the callback body's format the policy asked OSS for,
	// BodyJSON or BodyForm; a callback in another format is refused.
	BodyType string
	// VarNames are the custom variables (names without "x:") the policy
	// allowed, sorted; a callback carrying any other is refused. Sign
	// stores a sorted copy; Verify returns nil for none.
	VarNames  []string
	ExpiresAt time.Time
}

// maxNameLen bounds the name an uploader may add to a KeyPrefix.
const maxNameLen = 255

// AllowsKey reports whether the ticket covers the object key: exactly Key,
// or KeyPrefix followed by one plain name (no "/", no "..", no control
// characters, valid UTF-8, at most 255 bytes).
func (c Claims) AllowsKey(key string) bool {
	if c.Key != "" {
		return key == c.Key
	}
	name, ok := strings.CutPrefix(key, c.KeyPrefix)
	if !ok || c.KeyPrefix == "" || name == "" || len(name) > maxNameLen || !utf8.ValidString(name) ||
		strings.Contains(name, "/") || strings.Contains(name, "..") {
		return false
	}
	return !strings.ContainsFunc(name, unicode.IsControl)
}

// uploadClaims are a ticket's own claims, beside the registered ones.
type uploadClaims struct {
	Bucket      string   `json:"bkt"`
	Key         string   `json:"key,omitempty"`
	KeyPrefix   string   `json:"kp,omitempty"`
	Size        int64    `json:"size"`
	ContentType string   `json:"ct"`
	Filename    string   `json:"fn,omitempty"`
	BodyType    string   `json:"bt"`
	VarNames    []string `json:"vars,omitempty"`
}

type jwtClaims struct {
	uploadClaims
	jwt.RegisteredClaims
}

// ErrInvalid wraps every reason a ticket is refused.
var ErrInvalid = errors.New("invalid upload ticket")

// Sign returns the compact JWT for c, valid until c.ExpiresAt. It refuses
// claims without user, bucket, expiry or body type, with both or neither of
// Key and KeyPrefix, or with more than MaxVars variable names.
func Sign(secret []byte, c Claims, now time.Time) (string, error) {
	return NewSigner(secret).Sign(c, now)
}

// checkClaims checks c as Sign documents and returns its variable names
// sorted and unique.
func checkClaims(secret []byte, c Claims) ([]string, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("ticket secret must be at least %d bytes", MinSecretLen)
	}
	if c.User == "" || c.Bucket == "" || (c.Key == "") == (c.KeyPrefix == "") || c.ExpiresAt.IsZero() {
		return nil, errors.New("ticket needs user, bucket, expiry, and a key or a key prefix (not both)")
	}
	if !validBodyType(c.BodyType) {
		return nil, fmt.Errorf("ticket needs a body type, %s or %s", BodyJSON, BodyForm)
	}
	if len(c.VarNames) > MaxVars {
		return nil, fmt.Errorf("ticket binds at most %d variable names", MaxVars)
	}
	names := c.VarNames
	if !sortedUnique(names) { // the Issuer's are already
		names = slices.Compact(slices.Sorted(slices.Values(names)))
	}
	if len(names) == 0 {
		names = nil
	}
	return names, nil
}

func sortedUnique(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

// jwtClaims returns c's JWT claims with those names and dates.
func (c Claims) jwtClaims(names []string, issuedAt, expiresAt *jwt.NumericDate) jwtClaims {
	return jwtClaims{
		uploadClaims: uploadClaims{
			Bucket:      c.Bucket,
			Key:         c.Key,
			KeyPrefix:   c.KeyPrefix,
			Size:        c.Size,
			ContentType: c.ContentType,
			Filename:    c.Filename,
			BodyType:    c.BodyType,
			VarNames:    names,
		},
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.User,
			IssuedAt:  issuedAt,
			ExpiresAt: expiresAt,
		},
	}
}

// Verify checks the signature (HS256 only), issuer and expiry of token at
// time now and returns its claims. A ticket without a body type (one signed
// before tickets bound the body format) is refused. Every failure wraps
// ErrInvalid.
func Verify(secret []byte, token string, now time.Time) (Claims, error) {
	var jc verifyClaims
	_, err := jwt.ParseWithClaims(token, &jc, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if jc.Subject == "" || jc.Bucket == "" || (jc.Key == "") == (jc.KeyPrefix == "") || !validBodyType(jc.BodyType) {
		return Claims{}, fmt.Errorf("%w: missing claims", ErrInvalid)
	}
	return Claims{
		User:        jc.Subject,
		Bucket:      jc.Bucket,
		Key:         jc.Key,
		KeyPrefix:   jc.KeyPrefix,
		Size:        jc.Size,
		ContentType: jc.ContentType,
		Filename:    jc.Filename,
		BodyType:    jc.BodyType,
		VarNames:    jc.VarNames,
		ExpiresAt:   jc.ExpiresAt.Time.UTC(),
	}, nil
}

func validBodyType(bt string) bool { return bt == BodyJSON || bt == BodyForm }

// AllowsVar reports whether the ticket allows the custom variable name
// (without "x:").
func (c Claims) AllowsVar(name string) bool {
	return slices.Contains(c.VarNames, name)
}
