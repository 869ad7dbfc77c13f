package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Service keys let the app's own backend act on any user's uploads (list,
// get, sign download links, delete) with ?user=. They are random bearer
// tokens starting with ServiceKeyPrefix; ossgate keeps only their SHA-256,
// so its configuration holds nothing that works as a key.

// ServiceKeyPrefix starts every service key, so it is never mistaken for
// a JWT (and secret scanners can find leaked ones).
const ServiceKeyPrefix = "osk_"

// ServiceKeyHash is the SHA-256 of a service key, as configured.
type ServiceKeyHash [sha256.Size]byte

// HashServiceKey is the hash to configure for key.
func HashServiceKey(key string) ServiceKeyHash { return sha256.Sum256([]byte(key)) }

// ParseServiceKeyHash reads the hex form of a ServiceKeyHash.
func ParseServiceKeyHash(s string) (ServiceKeyHash, error) {
	var h ServiceKeyHash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%q is not the 64 hex digits of a SHA-256", truncate(s, 80))
	}
	copy(h[:], b)
	return h, nil
}

const serviceKey = "ossgate.service"

// serviceName is the name of the service key that authenticated the
// request, or "" for a user's JWT.
func serviceName(c echo.Context) string {
	s, _ := c.Get(serviceKey).(string)
	return s
}

// maxServiceKeyLen bounds what is hashed.
const maxServiceKeyLen = 256

// service checks a bearer token of ServiceKeyPrefix against the
// configured hashes, in constant time for each; it returns the key's name.
func (a *authenticator) service(token string) (string, bool) {
	if len(token) > maxServiceKeyLen {
		return "", false
	}
	sum := HashServiceKey(token)
	found := ""
	for name, h := range a.serviceKeys {
		if subtle.ConstantTimeCompare(sum[:], h[:]) == 1 {
			found = name
		}
	}
	return found, found != ""
}

// userOrService authenticates a user's JWT, or a service key acting for
// the user named by ?user=. A user's token with ?user= is refused: only
// the app's backend may act for others.
func (a *authenticator) userOrService(users echo.MiddlewareFunc, onFailure func(echo.Context) error) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		asUser := users(next)
		return func(c echo.Context) error {
			token, isBearer := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			if !isBearer || !strings.HasPrefix(token, ServiceKeyPrefix) {
				if c.QueryParams().Has("user") {
					return newError(codeForbidden, "Only a service key may act for another user (?user=).")
				}
				return asUser(c)
			}
			name, ok := a.service(token)
			if !ok {
				if limited := onFailure(c); limited != nil {
					return limited
				}
				return unauthorized("The service key is not one ossgate knows.")
			}
			user := c.QueryParam("user")
			if user == "" || len(user) > MaxSubjectLen || !utf8.ValidString(user) || strings.ContainsRune(user, 0) {
				return invalidRequest(fmt.Sprintf("user (the JWT sub whose uploads to act on) is required with a service key, 1 to %d bytes of UTF-8.", MaxSubjectLen))
			}
			c.Set(userKey, user)
			c.Set(serviceKey, name)
			return next(c)
		}
	}
}
