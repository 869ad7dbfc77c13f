package jwtclaims

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestDecodesLikeRegisteredClaims holds Registered to
// golang-jwt's RegisteredClaims: the same JSON decodes to the same values
// or fails with both.
func TestDecodesLikeRegisteredClaims(t *testing.T) {
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
		var got Registered
		werr, gerr := json.Unmarshal([]byte(doc), &want), json.Unmarshal([]byte(doc), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: RegisteredClaims error %v, Registered error %v", doc, werr, gerr)
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
