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

func TestAllowsKey(t *testing.T) {
	exact := Claims{Key: "uploads/alice/a.jpg"}
	dir := Claims{KeyPrefix: "uploads/alice/2026/11/25/01JD/"}
	cases := []struct {
		name string
		c    Claims
		key  string
		want bool
	}{
		{"exact", exact, "uploads/alice/a.jpg", true},
		{"exact other", exact, "uploads/alice/b.jpg", false},
		{"exact is not a prefix", exact, "uploads/alice/a.jpgx", false},
		{"name in dir", dir, "uploads/alice/2026/11/25/01JD/cat photo.jpg", true},
		{"unicode name", dir, "uploads/alice/2026/11/25/01JD/猫.jpg", true},
		{"dir itself", dir, "uploads/alice/2026/11/25/01JD/", false},
		{"sub dir", dir, "uploads/alice/2026/11/25/01JD/a/b.jpg", false},
		{"dot dot", dir, "uploads/alice/2026/11/25/01JD/..", false},
		{"control", dir, "uploads/alice/2026/11/25/01JD/a\nb", false},
		{"other dir", dir, "uploads/bob/2026/11/25/01JD/a.jpg", false},
		{"long name", dir, "uploads/alice/2026/11/25/01JD/" + strings.Repeat("a", 256), false},
		{"invalid utf8", dir, "uploads/alice/2026/11/25/01JD/\xff", false},
		{"empty claims", Claims{}, "x", false},
	}
	for _, tc := range cases {
		if got := tc.c.AllowsKey(tc.key); got != tc.want {
			t.Errorf("%s: AllowsKey(%q) = %v, want %v", tc.name, tc.key, got, tc.want)
		}
	}
}

func TestKeyPrefixRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	want := Claims{User: "alice", Bucket: "b", KeyPrefix: "uploads/alice/x/", Size: 1, ContentType: "image/png", ExpiresAt: now.Add(time.Hour)}
	tok, err := Sign(secret, want, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(secret, tok, now)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	both := want
	both.Key = "uploads/alice/x/a"
	if _, err := Sign(secret, both, now); err == nil {
		t.Fatal("a ticket with both a key and a prefix was signed")
	}
}
