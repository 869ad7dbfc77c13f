package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestParseWithBearerClaims: through golang-jwt's parser and validator,
// tokens are accepted and refused for the same reasons as before.
func TestParseWithBearerClaims(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a, err := newAuthenticator(AuthConfig{Secret: secret, Issuer: "app", Audience: "ossgate", Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	for _, c := range []struct {
		claims jwt.MapClaims
		want   string // "" accepted
	}{
		{jwt.MapClaims{"sub": "u", "iss": "app", "aud": "ossgate", "exp": now + 60}, ""},
		{jwt.MapClaims{"sub": "u", "iss": "app", "aud": []string{"x", "ossgate"}, "exp": fmt.Sprint(now + 60)}, ""},
		{jwt.MapClaims{"sub": "u", "iss": "app", "aud": "ossgate", "exp": now - 60}, "expired"},
		{jwt.MapClaims{"sub": "u", "iss": "app", "aud": "ossgate", "exp": now + 60, "nbf": now + 60}, "not valid yet"},
		{jwt.MapClaims{"sub": "u", "iss": "app", "aud": "ossgate"}, "no expiry"},
		{jwt.MapClaims{"sub": "u", "iss": "other", "aud": "ossgate", "exp": now + 60}, "wrong issuer"},
		{jwt.MapClaims{"sub": "u", "iss": "app", "aud": "other", "exp": now + 60}, "wrong audience"},
		{jwt.MapClaims{"sub": "u", "iss": "app", "aud": "ossgate", "exp": "soon"}, "malformed"},
		{jwt.MapClaims{"sub": "u", "iss": "app", "aud": "ossgate", "exp": now + 60, "jti": 7}, "malformed"},
		{jwt.MapClaims{"iss": "app", "aud": "ossgate", "exp": now + 60}, "no subject"},
	} {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c.claims).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		_, perr := subjectOf(a, tok)
		switch {
		case c.want == "" && perr != nil:
			t.Errorf("%v: refused: %v", c.claims, perr)
		case c.want != "" && (perr == nil || !strings.Contains(perr.Error(), c.want)):
			t.Errorf("%v: got %v, want an error saying %q", c.claims, perr, c.want)
		}
	}
}
