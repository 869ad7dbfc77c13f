package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestBearerClaimsDecodeLikeRegisteredClaims holds bearerClaims to
// golang-jwt's RegisteredClaims: the same JSON decodes to the same values
// or fails with both.
func TestBearerClaimsDecodeLikeRegisteredClaims(t *testing.T) {
	dates := []string{`1764059400`, `1764059400.25`, `-1.5`, `0`, `1e9`, `1E+9`, `"1764059400"`, `"1.5"`, `"x"`, `""`,
		`null`, `true`, `{}`, `[]`, `1e999`, `-0`, `9223372036854775807`, `"\u0031"`, `1764059400.999999999`}
	var docs []string
	for _, d := range dates {
		docs = append(docs, `{"sub":"u","exp":`+d+`}`, `{"nbf":`+d+`,"iat":`+d+`}`)
	}
	docs = append(docs, `{"sub":"u","iss":"i","aud":"a","jti":"j"}`, `{"aud":["a","b"]}`, `{"aud":5}`, `{"jti":5}`,
		`{"SUB":"case","Exp":1}`, `{"sub":"a","sub":"b"}`, `{"sub":1}`, `{"other":{"nested":[1,2,{"x":null}]}}`)
	for _, doc := range docs {
		var want jwt.RegisteredClaims
		var got bearerClaims
		werr, gerr := json.Unmarshal([]byte(doc), &want), json.Unmarshal([]byte(doc), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: RegisteredClaims error %v, bearerClaims error %v", doc, werr, gerr)
			continue
		}
		if werr != nil {
			continue
		}
		if g, w := describeClaims(&got), describeClaims(&want); g != w {
			t.Errorf("%s:\n got %s\nwant %s", doc, g, w)
		}
	}
}

func describeClaims(c jwt.Claims) string {
	date := func(d *jwt.NumericDate, _ error) string {
		if d == nil {
			return "nil"
		}
		return d.UTC().Format(time.RFC3339Nano)
	}
	iss, _ := c.GetIssuer()
	sub, _ := c.GetSubject()
	aud, _ := c.GetAudience()
	return fmt.Sprintf("iss=%q sub=%q aud=%q exp=%s nbf=%s iat=%s", iss, sub, aud,
		date(c.GetExpirationTime()), date(c.GetNotBefore()), date(c.GetIssuedAt()))
}

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
		_, perr := a.parse(tok)
		switch {
		case c.want == "" && perr != nil:
			t.Errorf("%v: refused: %v", c.claims, perr)
		case c.want != "" && (perr == nil || !strings.Contains(perr.Error(), c.want)):
			t.Errorf("%v: got %v, want an error saying %q", c.claims, perr, c.want)
		}
	}
}
