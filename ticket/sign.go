package ticket

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ossgate/ossgate/internal/jsonstr"
)

// The ticket JWT is written here rather than by jwt.Token.SignedString,
// which marshals a header map and the claims struct with encoding/json
// (33 allocations and about a tenth of a policy request's CPU). The bytes
// are the same: TestSignMatchesGolangJWT and FuzzSignMatchesGolangJWT
// compare them with golang-jwt's SignedString, and Verify is golang-jwt's.

// hs256Header is golang-jwt's header for HS256, {"alg":"HS256","typ":"JWT"},
// base64url-encoded.
var hs256Header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// Signer signs tickets with one secret, reusing keyed HMAC states:
// hmac.New (key padding, two SHA-256 states) otherwise costs about as much
// as hashing a ticket. It is safe for concurrent use.
type Signer struct {
	secret []byte
	states sync.Pool // *signState
}

// NewSigner returns a Signer for secret, which it copies.
func NewSigner(secret []byte) *Signer {
	return &Signer{secret: bytes.Clone(secret)}
}

// Sign is the package's Sign with the Signer's secret.
func (s *Signer) Sign(c Claims, now time.Time) (string, error) {
	names, err := checkClaims(s.secret, c)
	if err != nil {
		return "", err
	}
	if !secondPrecision() {
		jc := c.jwtClaims(names, jwt.NewNumericDate(now), jwt.NewNumericDate(c.ExpiresAt))
		return jwt.NewWithClaims(jwt.SigningMethodHS256, &jc).SignedString(s.secret)
	}
	// The claims and their dates stay on the stack: NewNumericDate would
	// allocate each date, and signJWT only reads them.
	iat := jwt.NumericDate{Time: now.Truncate(time.Second)}
	exp := jwt.NumericDate{Time: c.ExpiresAt.Truncate(time.Second)}
	jc := c.jwtClaims(names, &iat, &exp)
	return s.signJWT(&jc), nil
}

// signJWT returns the compact HS256 JWT of the claims.
func (s *Signer) signJWT(jc *jwtClaims) string {
	var scratch [768]byte // the claims JSON of a typical ticket fits
	claims := appendClaimsJSON(scratch[:0], jc)
	enc := base64.RawURLEncoding
	st, _ := s.states.Get().(*signState)
	if st == nil {
		st = &signState{mac: hmac.New(sha256.New, s.secret)}
	} else {
		st.mac.Reset()
	}
	// The token is built in the state's buffer: what a hash.Hash is given
	// escapes, so a buffer on the stack would be allocated anyway.
	b := slices.Grow(st.buf[:0], len(hs256Header)+1+enc.EncodedLen(len(claims))+1+enc.EncodedLen(sha256.Size))
	b = append(b, hs256Header...)
	b = append(b, '.')
	b = enc.AppendEncode(b, claims)
	st.mac.Write(b)
	sig := st.mac.Sum(st.sum[:0])
	b = append(b, '.')
	b = enc.AppendEncode(b, sig)
	token := string(b)
	if cap(b) <= maxPooledToken {
		st.buf = b
		s.states.Put(st)
	}
	return token
}

// signState is what signing a ticket reuses.
type signState struct {
	mac hash.Hash // HMAC-SHA256 keyed with the Signer's secret
	buf []byte
	sum [sha256.Size]byte
}

// maxPooledToken keeps one freak ticket from pinning its buffer.
const maxPooledToken = 8 << 10

// appendClaimsJSON appends jc as json.Marshal writes it (field order,
// omitempty, HTML escaping, NumericDate as whole seconds). It is used only
// while jwt.TimePrecision is a second; Sign falls back to golang-jwt
// otherwise.
func appendClaimsJSON(dst []byte, jc *jwtClaims) []byte {
	dst = append(dst, `{"bkt":`...)
	dst = jsonstr.AppendHTML(dst, jc.Bucket)
	if jc.Key != "" {
		dst = append(dst, `,"key":`...)
		dst = jsonstr.AppendHTML(dst, jc.Key)
	}
	if jc.KeyPrefix != "" {
		dst = append(dst, `,"kp":`...)
		dst = jsonstr.AppendHTML(dst, jc.KeyPrefix)
	}
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, jc.Size, 10)
	dst = append(dst, `,"ct":`...)
	dst = jsonstr.AppendHTML(dst, jc.ContentType)
	if jc.Filename != "" {
		dst = append(dst, `,"fn":`...)
		dst = jsonstr.AppendHTML(dst, jc.Filename)
	}
	dst = append(dst, `,"bt":`...)
	dst = jsonstr.AppendHTML(dst, jc.BodyType)
	if len(jc.VarNames) > 0 {
		dst = append(dst, `,"vars":[`...)
		for i, n := range jc.VarNames {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonstr.AppendHTML(dst, n)
		}
		dst = append(dst, ']')
	}
	rc := &jc.RegisteredClaims
	if rc.Issuer != "" {
		dst = append(dst, `,"iss":`...)
		dst = jsonstr.AppendHTML(dst, rc.Issuer)
	}
	if rc.Subject != "" {
		dst = append(dst, `,"sub":`...)
		dst = jsonstr.AppendHTML(dst, rc.Subject)
	}
	// Sign sets no aud, nbf or jti.
	if rc.ExpiresAt != nil {
		dst = append(dst, `,"exp":`...)
		dst = strconv.AppendInt(dst, rc.ExpiresAt.Unix(), 10)
	}
	if rc.IssuedAt != nil {
		dst = append(dst, `,"iat":`...)
		dst = strconv.AppendInt(dst, rc.IssuedAt.Unix(), 10)
	}
	return append(dst, '}')
}

// secondPrecision reports whether golang-jwt writes NumericDates as whole
// seconds (its default), the only form appendClaimsJSON writes.
func secondPrecision() bool { return jwt.TimePrecision == time.Second }
