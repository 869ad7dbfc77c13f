package ticket

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// golangJWT is what Sign wrote before it built the token itself: the
// reference its bytes must equal.
func golangJWT(t testing.TB, c Claims, now time.Time) string {
	t.Helper()
	var names []string
	if len(c.VarNames) > 0 {
		names = slices.Compact(slices.Sorted(slices.Values(c.VarNames)))
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{
		uploadClaims: uploadClaims{Bucket: c.Bucket, Key: c.Key, KeyPrefix: c.KeyPrefix, Size: c.Size, ContentType: c.ContentType,
			Filename: c.Filename, BodyType: c.BodyType, VarNames: names},
		RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer, Subject: c.User,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(c.ExpiresAt)},
	}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var hostileStrings = []string{"", "plain", `q"b\`, "<script>&amp;</script>", "\x00\x01\x1f\x7f\t\n\r\b\f",
	"ü日本語🙂", "\u2028\u2029", "bad \xff utf8 \xc3", "\xed\xa0\x80", strings.Repeat("long/", 100)}

func TestSignMatchesGolangJWT(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 999_999_999, time.UTC)
	base := Claims{User: "alice", Bucket: "b", Key: "uploads/alice/x.jpg", Size: 42, ContentType: "image/jpeg",
		Filename: "x.jpg", BodyType: BodyJSON, VarNames: []string{"title", "caption", "title"}, ExpiresAt: now.Add(time.Hour)}
	cases := []Claims{base}
	with := func(edit func(*Claims)) { c := base; edit(&c); cases = append(cases, c) }
	with(func(c *Claims) { c.Key, c.KeyPrefix = "", "uploads/alice/dir/" })
	with(func(c *Claims) { c.Filename, c.VarNames, c.Size = "", nil, -7 })
	with(func(c *Claims) { c.VarNames = []string{} })
	with(func(c *Claims) {
		c.BodyType = BodyForm
		c.ExpiresAt = time.Date(1969, 12, 31, 23, 59, 59, 500, time.FixedZone("x", 3600))
	})
	for _, s := range hostileStrings {
		with(func(c *Claims) {
			c.User, c.Bucket, c.Key, c.ContentType, c.Filename, c.VarNames = "u"+s, "b"+s, "k"+s, s, s, []string{s, "v" + s}
		})
	}
	for i, c := range cases {
		got, err := Sign(secret, c, now)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if want := golangJWT(t, c, now); got != want {
			t.Errorf("case %d (%+v):\n got %s\nwant %s", i, c, got, want)
		}
	}
}

func FuzzSignMatchesGolangJWT(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s, s, int64(42), int64(1764059400))
	}
	f.Fuzz(func(t *testing.T, a, b string, size, unix int64) {
		now := time.Unix(unix%(1<<35), 0)
		c := Claims{User: "u" + a, Bucket: "b" + b, Key: a + b, Size: size, ContentType: b, Filename: a,
			BodyType: BodyJSON, VarNames: []string{a, b}, ExpiresAt: now.Add(time.Duration(size % int64(time.Hour)))}
		got, err := Sign(secret, c, now)
		if err != nil {
			t.Skip() // e.g. a zero expiry; Sign refuses before any encoding
		}
		if want := golangJWT(t, c, now); got != want {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	c := Claims{User: "user0001", Bucket: "examplebucket", Key: "uploads/user0001/2026/11/25/01JDXYZ.jpg", Size: 12345,
		ContentType: "image/jpeg", Filename: "cat.jpg", BodyType: BodyJSON, VarNames: []string{"caption"}, ExpiresAt: now.Add(15 * time.Minute)}
	b.Run("golang-jwt", func(b *testing.B) { // what Sign did before
		b.ReportAllocs()
		for b.Loop() {
			golangJWT(b, c, now)
		}
	})
	b.Run("Signer", func(b *testing.B) {
		s := NewSigner(secret)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Sign(c, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
