package ticket

import (
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifyClaims is what Verify decodes a ticket into: jwtClaims' fields,
// names and types, with the registered claims spelled out so that their
// dates decode without golang-jwt's nested json.Unmarshal per date (every
// callback verifies a ticket). TestVerifyClaimsDecodeLikeJWTClaims holds
// it to jwtClaims.
type verifyClaims struct {
	Bucket      string   `json:"bkt"`
	Key         string   `json:"key,omitempty"`
	KeyPrefix   string   `json:"kp,omitempty"`
	Size        int64    `json:"size"`
	ContentType string   `json:"ct"`
	Filename    string   `json:"fn,omitempty"`
	BodyType    string   `json:"bt"`
	VarNames    []string `json:"vars,omitempty"`

	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	Audience  jwt.ClaimStrings `json:"aud,omitempty"`
	ExpiresAt *numericDate     `json:"exp,omitempty"`
	NotBefore *numericDate     `json:"nbf,omitempty"`
	IssuedAt  *numericDate     `json:"iat,omitempty"`
	ID        string           `json:"jti,omitempty"`
}

func (c *verifyClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.get(), nil }
func (c *verifyClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.get(), nil }
func (c *verifyClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore.get(), nil }
func (c *verifyClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *verifyClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *verifyClaims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

// numericDate is a jwt.NumericDate that decodes a plain JSON number itself,
// as golang-jwt does (strconv.ParseFloat of the literal, split into seconds
// and nanoseconds, truncated to jwt.TimePrecision), and leaves everything
// else (numbers in strings, bad values) to golang-jwt.
type numericDate struct{ jwt.NumericDate }

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		if f, err := strconv.ParseFloat(string(b), 64); err == nil {
			round, frac := math.Modf(f)
			d.Time = time.Unix(int64(round), int64(frac*1e9)).Truncate(jwt.TimePrecision)
			return nil
		}
	}
	return d.NumericDate.UnmarshalJSON(b)
}

func (d *numericDate) get() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return &d.NumericDate
}
