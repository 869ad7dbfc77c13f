package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDoctorChallenge: only a challenge signed with this server's ticket
// secret, and fresh, gets an answer; everything else gets the 404 an
// unknown path gets, so the route tells a stranger nothing.
func TestDoctorChallenge(t *testing.T) {
	h := newHarness(t)
	unknown := do(t, "GET", h.URL+"/api/nothing-here", "", "", nil)
	now := time.Now()
	cases := []struct {
		name      string
		challenge string
		answered  bool
	}{
		{"signed with the ticket secret", NewDoctorChallenge(testTicketSecret, now), true},
		{"clocks a minute apart", NewDoctorChallenge(testTicketSecret, now.Add(-time.Minute)), true},
		{"another deployment's secret", NewDoctorChallenge([]byte("another-ticket-secret-0123456789abcdef"), now), false},
		{"too old", NewDoctorChallenge(testTicketSecret, now.Add(-3*time.Minute)), false},
		{"from the future", NewDoctorChallenge(testTicketSecret, now.Add(3*time.Minute)), false},
		{"the ticket secret's own HMAC", tamperMAC(NewDoctorChallenge(testTicketSecret, now)), false},
		{"not a challenge", "hello", false},
		{"oversized", "d1." + strings.Repeat("1", 200) + ".x.y", false},
		{"empty nonce", "d1.1..", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, "GET", h.URL+DoctorPathPrefix+tc.challenge, "", "", nil)
			if !tc.answered {
				if res.Status != http.StatusNotFound || string(res.Body) != string(unknown.Body) {
					t.Fatalf("got %d %s, want the unknown route's %d %s", res.Status, res.Body, unknown.Status, unknown.Body)
				}
				return
			}
			if res.Status != http.StatusOK {
				t.Fatalf("status %d %s", res.Status, res.Body)
			}
			var a DoctorAnswer
			if err := json.Unmarshal(res.Body, &a); err != nil {
				t.Fatal(err)
			}
			if a.Path != DoctorPathPrefix+tc.challenge || a.CallbackPath != callbackRoute {
				t.Fatalf("answer %+v", a)
			}
			if !CheckDoctorAnswer(testTicketSecret, tc.challenge, a) {
				t.Fatal("the proof does not check with the secret")
			}
			if CheckDoctorAnswer([]byte("another-ticket-secret-0123456789abcdef"), tc.challenge, a) {
				t.Fatal("the proof checks with another secret")
			}
			forged := a
			forged.Path = "/elsewhere"
			if CheckDoctorAnswer(testTicketSecret, tc.challenge, forged) {
				t.Fatal("the proof still checks with another path")
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control %q", cc)
			}
		})
	}
}

// tamperMAC swaps the challenge's MAC for the one the ticket secret itself
// (not the derived key) makes: keys are separated, so it must not pass.
func tamperMAC(challenge string) string {
	i := strings.LastIndexByte(challenge, '.')
	body := challenge[:i]
	m := hmac.New(sha256.New, testTicketSecret)
	m.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
