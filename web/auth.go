package web

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/internal/jwtclaims"
	"github.com/ossgate/ossgate/ticket"
)

// AuthConfig says how callers' bearer tokens are verified. Exactly one of
// Secret, PublicKey or JWKS is set.
type AuthConfig struct {
	Secret    []byte           // HS256
	PublicKey crypto.PublicKey // RS256, ES256 or EdDSA, taken from the key type
	JWKS      jwt.Keyfunc      // keys from a JWKS URL (MicahParks/keyfunc)
	Issuer    string           // when set, iss must match
	Audience  string           // when set, aud must contain it
	Leeway    time.Duration    // clock skew allowed on exp/nbf

	// ServiceKeys are the app backend's keys, by name (see service.go):
	// they may list, get, link and delete any user's uploads with ?user=.
	// If empty, there is no service access.
	ServiceKeys map[string]ServiceKeyHash
}

// jwksMethods are the asymmetric algorithms accepted from a JWKS; HMAC is
// never accepted there, so a public key can't be used as an HMAC secret.
var jwksMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

// SigningMethodFor pins the one JWT algorithm a public key may verify.
func SigningMethodFor(key crypto.PublicKey) (jwt.SigningMethod, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("RSA keys must have at least 2048 bits")
		}
		return jwt.SigningMethodRS256, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("ECDSA keys must be on P-256 (ES256)")
		}
		return jwt.SigningMethodES256, nil
	case ed25519.PublicKey:
		return jwt.SigningMethodEdDSA, nil
	default:
		return nil, fmt.Errorf("unsupported public key type %T (want RSA, ECDSA P-256 or Ed25519)", key)
	}
}

// authenticator verifies bearer tokens with pinned algorithms.
type authenticator struct {
	keyfunc     jwt.Keyfunc
	parser      *jwt.Parser
	leeway      time.Duration
	now         func() time.Time // golang-jwt's clock too
	verified    *verifiedTokens
	serviceKeys map[string]ServiceKeyHash
}

func newAuthenticator(cfg AuthConfig) (*authenticator, error) {
	var methods []string
	var keyfunc jwt.Keyfunc
	switch {
	case len(cfg.Secret) > 0:
		methods = []string{jwt.SigningMethodHS256.Alg()}
		var key any = cfg.Secret // boxed once, not on every token
		keyfunc = func(*jwt.Token) (any, error) { return key, nil }
	case cfg.PublicKey != nil:
		m, err := SigningMethodFor(cfg.PublicKey)
		if err != nil {
			return nil, err
		}
		methods = []string{m.Alg()}
		keyfunc = func(*jwt.Token) (any, error) { return cfg.PublicKey, nil }
	case cfg.JWKS != nil:
		methods = jwksMethods
		keyfunc = cfg.JWKS
	default:
		return nil, errors.New("web: AuthConfig needs a secret, a public key or a JWKS")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	a := &authenticator{keyfunc: keyfunc, leeway: cfg.Leeway, now: time.Now, verified: &verifiedTokens{}, serviceKeys: cfg.ServiceKeys}
	opts = append(opts, jwt.WithTimeFunc(func() time.Time { return a.now() }))
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// MaxSubjectLen is the longest JWT sub accepted, in bytes.
const MaxSubjectLen = 255

// maxTokenLen bounds the work a hostile Authorization header can cause.
const maxTokenLen = 8 << 10

// authenticate returns the caller's subject (boxed, as echo-jwt keeps it),
// or an unauthorized error that says why without echoing the token. A token
// seen valid recently is not parsed again (see verifiedTokens).
func (a *authenticator) authenticate(token string) (any, error) {
	if len(token) > maxTokenLen {
		return nil, unauthorized("The bearer token is too long.")
	}
	sum := sha256.Sum256([]byte(token))
	now := a.now()
	if user, ok := a.verified.lookup(&sum, now); ok {
		return user, nil
	}
	claims, err := a.verify(token)
	if err != nil {
		return nil, err
	}
	t := verifiedToken{user: any(claims.Subject), expires: claims.ExpiresAt.Add(a.leeway)}
	if claims.NotBefore != nil {
		t.notBefore = claims.NotBefore.Add(-a.leeway)
	}
	a.verified.remember(&sum, t, now)
	return t.user, nil
}

// verify parses token and applies every check to it.
func (a *authenticator) verify(token string) (*jwtclaims.Registered, error) {
	if strings.HasPrefix(token, ServiceKeyPrefix) {
		return nil, unauthorized("A service key only reads and manages uploads (with ?user=); uploading takes the user's own token.")
	}
	claims := new(jwtclaims.Registered) // dates decoded without golang-jwt's nested Unmarshal
	_, err := a.parser.ParseWithClaims(token, claims, a.keyfunc)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, unauthorized("The bearer token has expired.")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, unauthorized("The bearer token is not valid yet.")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, unauthorized("The bearer token has the wrong issuer.")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, unauthorized("The bearer token has the wrong audience.")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, unauthorized("The bearer token has no expiry (exp).")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, unauthorized("The bearer token is malformed.")
	case err != nil:
		return nil, unauthorized("The bearer token's signature or algorithm is not accepted.")
	}
	switch {
	case claims.Subject == "":
		return nil, unauthorized("The bearer token has no subject (sub).")
	case len(claims.Subject) > MaxSubjectLen:
		// Stored with every record and indexed: Postgres cannot index
		// arbitrarily long values.
		return nil, unauthorized(fmt.Sprintf("The bearer token's subject (sub) is longer than %d bytes.", MaxSubjectLen))
	case !utf8.ValidString(claims.Subject) || strings.ContainsRune(claims.Subject, 0):
		// Such a user could be issued a policy whose record can never be stored.
		return nil, unauthorized("The bearer token's subject (sub) is not valid UTF-8 text.")
	case claims.Issuer == ticket.Issuer:
		// An upload ticket is never a bearer token, even if an operator
		// configured the same secret for both.
		return nil, unauthorized("An upload ticket is not a bearer token.")
	}
	return claims, nil
}

func unauthorized(msg string) *apiError {
	return newError(codeUnauthorized, msg)
}

const userKey = "ossgate.user"

// middleware is echo-jwt with ossgate's parser: it stores the caller's
// subject in the context under userKey.
// A failure first passes onFailure, which may turn it into a 429.
func (a *authenticator) middleware(onFailure func(echo.Context) error) echo.MiddlewareFunc {
	return echojwt.WithConfig(echojwt.Config{
		ContextKey: userKey,
		ParseTokenFunc: func(_ echo.Context, auth string) (any, error) {
			return a.authenticate(auth)
		},
		ErrorHandler: func(c echo.Context, err error) error {
			if limited := onFailure(c); limited != nil {
				return limited
			}
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ossgate"`)
			var ae *apiError
			if errors.As(err, &ae) {
				return ae
			}
			return unauthorized("A bearer token is required (Authorization: Bearer <JWT>).")
		},
	})
}

// userOf is the authenticated caller's subject.
func userOf(c echo.Context) string {
	s, _ := c.Get(userKey).(string)
	return s
}
