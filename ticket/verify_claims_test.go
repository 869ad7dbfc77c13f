package ticket

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestVerifyClaimsDecodeLikeJWTClaims: the same JSON decodes to the same
// values, or fails, with verifyClaims as with jwtClaims.
func TestVerifyClaimsDecodeLikeJWTClaims(t *testing.T) {
	dates := []string{`1764059400`, `1764059400.25`, `-1.5`, `0`, `1e9`, `"1764059400"`, `"x"`, `null`, `true`, `{}`, `1e999`, `"\u0031"`}
	docs := []string{
		`{"bkt":"b","key":"k","size":5,"ct":"image/png","fn":"a.png","bt":"application/json","vars":["a","b"],"iss":"ossgate-ticket","sub":"u"}`,
		`{"bkt":"b","kp":"p/","size":"5"}`, `{"vars":"a"}`, `{"aud":["x"],"jti":"j"}`, `{"jti":1}`, `{"BKT":"case"}`,
	}
	for _, d := range dates {
		docs = append(docs, `{"sub":"u","exp":`+d+`}`, `{"iat":`+d+`,"nbf":`+d+`}`)
	}
	for _, doc := range docs {
		var want jwtClaims
		var got verifyClaims
		werr, gerr := json.Unmarshal([]byte(doc), &want), json.Unmarshal([]byte(doc), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: jwtClaims error %v, verifyClaims error %v", doc, werr, gerr)
			continue
		}
		if werr != nil {
			continue
		}
		w := []any{want.Bucket, want.Key, want.KeyPrefix, want.Size, want.ContentType, want.Filename, want.BodyType, want.VarNames, describe(&want)}
		g := []any{got.Bucket, got.Key, got.KeyPrefix, got.Size, got.ContentType, got.Filename, got.BodyType, got.VarNames, describe(&got)}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %v\nwant %v", doc, g, w)
		}
	}
}

func describe(c jwt.Claims) string {
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

// BenchmarkVerify is Verify, and golang-jwt's parse into jwtClaims (what
// Verify decoded into before verifyClaims).
func BenchmarkVerify(b *testing.B) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	tok, err := Sign(secret, Claims{User: "user0001", Bucket: "examplebucket", Key: "uploads/user0001/x.jpg", Size: 12345,
		ContentType: "image/jpeg", Filename: "cat.jpg", BodyType: BodyJSON, VarNames: []string{"caption"}, ExpiresAt: now.Add(15 * time.Minute)}, now)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jwtClaims", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var jc jwtClaims
			if _, err := jwt.ParseWithClaims(tok, &jc, func(*jwt.Token) (any, error) { return secret, nil },
				jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(Issuer), jwt.WithExpirationRequired(),
				jwt.WithTimeFunc(func() time.Time { return now })); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Verify(secret, tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
