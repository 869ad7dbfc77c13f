package web

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// Tokens checked against a JWKS URL (MicahParks/keyfunc): the key is picked
// by kid, only asymmetric algorithms pass, and iss/aud still apply.
func TestJWKSAuthentication(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	set, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	jwksServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	defer jwksServer.Close()
	kf, err := keyfunc.NewDefaultCtx(t.Context(), []string{jwksServer.URL})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(s *setup) {
		s.options.Auth = AuthConfig{JWKS: kf.Keyfunc, Issuer: "https://id.example.com", Audience: "ossgate"}
		s.options.DevTokens = false
	})
	claims := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "iss": "https://id.example.com", "aud": "ossgate"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	rs256 := func(kid string, extra jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(extra))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil))
	hs.Header["kid"] = "k1"
	hsToken, _ := hs.SignedString([]byte(b64(key.N.Bytes())))
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(nil))
	forged.Header["kid"] = "k1"
	forgedToken, _ := forged.SignedString(other)

	body := []byte(`{"filename":"a.png","size":10,"contentType":"image/png"}`)
	cases := []struct {
		name   string
		token  string
		status int
	}{
		{"RS256 with the published key", rs256("k1", nil), 200},
		{"unknown kid", rs256("k2", nil), 401},
		{"HS256 with the key's modulus as secret", hsToken, 401},
		{"signed by another key", forgedToken, 401},
		{"wrong audience", rs256("k1", jwt.MapClaims{"aud": "other"}), 401},
		{"expired", rs256("k1", jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()}), 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, "POST", h.URL+"/api/uploads/policy", tc.token, "application/json", body)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
		})
	}
}
