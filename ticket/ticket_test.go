package ticket

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte(strings.Repeat("s", 32))

func TestSignVerifyRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	want := Claims{User: "alice", Bucket: "b", Key: "uploads/alice/x.jpg", Size: 42, ContentType: "image/jpeg", Filename: "x.jpg", ExpiresAt: now.Add(time.Hour)}
	tok, err := Sign(secret, want, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(secret, tok, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	good := Claims{User: "alice", Bucket: "b", Key: "k", Size: 1, ContentType: "text/plain", ExpiresAt: now.Add(time.Hour)}
	tok, err := Sign(secret, good, now)
	if err != nil {
		t.Fatal(err)
	}
	foreign := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "bkt": "b", "key": "k", "exp": now.Add(time.Hour).Unix()})
	noIss, _ := foreign.SignedString(secret)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice", "iss": Issuer, "bkt": "b", "key": "k", "exp": now.Add(time.Hour).Unix()})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	cases := []struct {
		name   string
		secret []byte
		token  string
		at     time.Time
	}{
		{"expired", secret, tok, now.Add(2 * time.Hour)},
		{"other secret", []byte(strings.Repeat("t", 32)), tok, now},
		{"tampered", secret, tok[:len(tok)-2] + "AA", now},
		{"garbage", secret, "not.a.jwt", now},
		{"empty", secret, "", now},
		{"no issuer", secret, noIss, now},
		{"alg none", secret, noneTok, now},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Verify(c.secret, c.token, c.at); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSignRefusesShortSecret(t *testing.T) {
	_, err := Sign([]byte("short"), Claims{User: "u", Bucket: "b", Key: "k", ExpiresAt: time.Now()}, time.Now())
	if err == nil {
		t.Fatal("short secret accepted")
	}
}
