package web

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestVerifiedTokensStillExpire: a remembered token is refused once its
// exp (plus leeway) has passed, not yet valid before its nbf, and dropped
// after verifiedTokenTTL; a token differing in one byte is not a hit.
func TestVerifiedTokensStillExpire(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a, err := newAuthenticator(AuthConfig{Secret: secret, Leeway: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_900_000_000, 0)
	now := start
	a.now = func() time.Time { return now }
	sign := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	short := sign(jwt.MapClaims{"sub": "alice", "exp": start.Unix() + 30})
	long := sign(jwt.MapClaims{"sub": "bob", "exp": start.Unix() + 3600, "nbf": start.Unix() - 1})
	for _, step := range []struct {
		at    time.Duration // after start
		token string
		want  string // the subject, or part of the error
	}{
		{0, short, "alice"},
		{0, short, "alice"}, // a hit
		{0, long, "bob"},
		{0, long[:len(long)-2] + flipLast(long[len(long)-2:]), "signature"},
		{34 * time.Second, short, "alice"}, // within the leeway
		{36 * time.Second, short, "expired"},
		{36 * time.Second, long, "bob"},
		{verifiedTokenTTL + time.Second, long, "bob"}, // verified again
	} {
		now = start.Add(step.at)
		user, err := subjectOf(a, step.token)
		got := user
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, step.want) {
			t.Errorf("at +%v: got %q, want %q", step.at, got, step.want)
		}
	}
	// A token with nbf in the future is refused, and never remembered.
	early := sign(jwt.MapClaims{"sub": "carol", "exp": start.Unix() + 3600, "nbf": start.Unix() + 600})
	now = start
	for range 2 {
		if _, err := subjectOf(a, early); err == nil || !strings.Contains(err.Error(), "not valid yet") {
			t.Fatalf("nbf in the future: %v", err)
		}
	}
	sum := sha256.Sum256([]byte(early))
	if _, ok := a.verified.lookup(&sum, now.Add(time.Hour)); ok {
		t.Fatal("a token refused was remembered")
	}
}

// subjectOf is what authenticate gives, as a string.
func subjectOf(a *authenticator, token string) (string, error) {
	user, err := a.authenticate(token)
	if err != nil {
		return "", err
	}
	return user.(string), nil
}

func flipLast(s string) string {
	b := []byte(s)
	if b[len(b)-1] == 'A' {
		b[len(b)-1] = 'B'
	} else {
		b[len(b)-1] = 'A'
	}
	return string(b)
}

// TestVerifiedTokensBounded: however many valid tokens arrive, the cache
// keeps at most maxVerifiedTokens.
func TestVerifiedTokensBounded(t *testing.T) {
	var v verifiedTokens
	now := time.Unix(1_900_000_000, 0)
	for i := range 3 * maxVerifiedTokens {
		sum := sha256.Sum256(fmt.Appendf(nil, "token-%d", i))
		v.remember(&sum, verifiedToken{user: "u", expires: now.Add(time.Hour)}, now)
	}
	total := 0
	for i := range v.shards {
		total += len(v.shards[i].entries)
	}
	if total > maxVerifiedTokens || total < maxVerifiedTokens/2 {
		t.Fatalf("%d entries after %d tokens, want at most %d (and not emptied)", total, 3*maxVerifiedTokens, maxVerifiedTokens)
	}
}
