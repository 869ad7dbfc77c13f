package ticket

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte(strings.Repeat("s", 32))

func TestSignVerifyRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	cases := []struct {
		name      string
		in        Claims
		wantNames []string
	}{
		{"json, no vars", Claims{User: "alice", Bucket: "b", Key: "uploads/alice/x.jpg", Size: 42, ContentType: "image/jpeg",
			Filename: "x.jpg", BodyType: BodyJSON, ExpiresAt: now.Add(time.Hour)}, nil},
		{"form, vars sorted and deduplicated", Claims{User: "alice", Bucket: "b", Key: "k", Size: 1, ContentType: "text/plain",
			BodyType: BodyForm, VarNames: []string{"title", "caption", "title"}, ExpiresAt: now.Add(time.Hour)}, []string{"caption", "title"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := Sign(secret, c.in, now)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Verify(secret, tok, now.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			want := c.in
			want.VarNames = c.wantNames
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	good := Claims{User: "alice", Bucket: "b", Key: "k", BodyType: BodyJSON, ExpiresAt: now.Add(time.Hour)}
	with := func(edit func(*Claims)) Claims { c := good; edit(&c); return c }
	cases := []struct {
		name string
		c    Claims
	}{
		{"no body type", with(func(c *Claims) { c.BodyType = "" })},
		{"other body type", with(func(c *Claims) { c.BodyType = "text/plain" })},
		{"too many vars", with(func(c *Claims) { c.VarNames = strings.Split("a b c d e f g h i j k", " ") })},
		{"no user", with(func(c *Claims) { c.User = "" })},
		{"no expiry", with(func(c *Claims) { c.ExpiresAt = time.Time{} })},
	}
	for _, c := range cases {
		if _, err := Sign(secret, c.c, now); err == nil {
			t.Errorf("%s: signed", c.name)
		}
	}
}

func TestAllowsVar(t *testing.T) {
	c := Claims{VarNames: []string{"caption", "title"}}
	for name, want := range map[string]bool{"caption": true, "title": true, "x": false, "": false, "x:caption": false} {
		if got := c.AllowsVar(name); got != want {
			t.Errorf("AllowsVar(%q) = %v, want %v", name, got, want)
		}
	}
	if (Claims{}).AllowsVar("caption") {
		t.Error("a ticket without vars allows one")
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	good := Claims{User: "alice", Bucket: "b", Key: "k", Size: 1, ContentType: "text/plain", BodyType: BodyJSON, ExpiresAt: now.Add(time.Hour)}
	tok, err := Sign(secret, good, now)
	if err != nil {
		t.Fatal(err)
	}
	foreign := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "bkt": "b", "key": "k", "exp": now.Add(time.Hour).Unix()})
	noIss, _ := foreign.SignedString(secret)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice", "iss": Issuer, "bkt": "b", "key": "k", "exp": now.Add(time.Hour).Unix()})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	// A ticket from before tickets bound the body format: without "bt" it
	// must not be accepted for either format.
	old := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "iss": Issuer, "bkt": "b", "key": "k", "size": 1, "ct": "text/plain", "exp": now.Add(time.Hour).Unix()})
	noBodyType, _ := old.SignedString(secret)
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
		{"no body type", secret, noBodyType, now},
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
	_, err := Sign([]byte("short"), Claims{User: "u", Bucket: "b", Key: "k", BodyType: BodyJSON, ExpiresAt: time.Now()}, time.Now())
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
	want := Claims{User: "alice", Bucket: "b", KeyPrefix: "uploads/alice/x/", Size: 1, ContentType: "image/png", BodyType: BodyForm, ExpiresAt: now.Add(time.Hour)}
	tok, err := Sign(secret, want, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(secret, tok, now)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	both := want
	both.Key = "uploads/alice/x/a"
	if _, err := Sign(secret, both, now); err == nil {
		t.Fatal("a ticket with both a key and a prefix was signed")
	}
}

func TestPlainMediaType(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"image/jpeg", true},
		{"TEXT/PLAIN", true},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", true},
		{"image/svg+xml", true},
		{"application/x-www-form-urlencoded", true},
		{"text/plain; charset=utf-8", false},
		{`TEXT/PLAIN; x="<script>"`, false},
		{"text/plain ", false},
		{"text /plain", false},
		{"text", false},
		{"text/", false},
		{"/plain", false},
		{"*/*", false},
		{"image/*", false},
		{"a/b/c", false},
		{"image/-jpeg", false},
		{"image/jp{e}g", false},
		{"image/jpég", false},
		{"image/jpeg\n", false},
		{"image/" + strings.Repeat("a", 127), true},
		{"image/" + strings.Repeat("a", 128), false},
		{strings.Repeat("a", 127) + "/" + strings.Repeat("b", 127), true},
		{strings.Repeat("a", 127) + "/" + strings.Repeat("b", 128), false},
		{"", false},
	}
	for _, c := range cases {
		if got := PlainMediaType(c.s); got != c.want {
			t.Errorf("PlainMediaType(%.40q) = %v, want %v", c.s, got, c.want)
		}
	}
}
