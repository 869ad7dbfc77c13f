package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// DoctorPathPrefix is where `ossgate doctor` checks that OSSGATE_PUBLIC_URL
// reaches this very deployment: GET {public URL}/api/doctor/{challenge}.
const DoctorPathPrefix = "/api/doctor/"

// DoctorRoute is the route of DoctorPathPrefix.
const DoctorRoute = DoctorPathPrefix + ":challenge"

// A challenge lives this long (either way, for clocks a little apart).
const doctorChallengeTTL = 2 * time.Minute

// maxDoctorChallenge bounds what the route parses: "d1." + seconds + "." +
// 22 + "." + 43 characters is well under it.
const maxDoctorChallenge = 128

// The doctor and the server share only the ticket secret. Both keys are
// derived from it for this one purpose, so that neither a challenge nor an
// answer is ever an HMAC that the ticket secret itself would make (upload
// tickets are HS256 with it).
var (
	doctorChallengeLabel = []byte("ossgate doctor challenge v1")
	doctorAnswerLabel    = []byte("ossgate doctor answer v1")
)

// DoctorAnswer is what the route answers to a valid challenge.
type DoctorAnswer struct {
	// Path is the escaped path the request arrived with, after any proxy.
	Path string `json:"path"`
	// CallbackPath is the path this server verifies callbacks against.
	CallbackPath string `json:"callbackPath"`
	// Proof binds the challenge, Path and CallbackPath to the secret.
	Proof string `json:"proof"`
}

// NewDoctorChallenge makes a short-lived challenge that only a server
// holding secret (the ticket secret) accepts: "d1.{unix}.{nonce}.{mac}",
// made of URL path characters.
func NewDoctorChallenge(secret []byte, now time.Time) string {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	body := "d1." + strconv.FormatInt(now.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(nonce[:])
	return body + "." + doctorMAC(secret, doctorChallengeLabel, body)
}

// CheckDoctorAnswer reports whether a was made for challenge by a server
// holding secret.
func CheckDoctorAnswer(secret []byte, challenge string, a DoctorAnswer) bool {
	want := doctorMAC(secret, doctorAnswerLabel, doctorAnswerInput(challenge, a.Path, a.CallbackPath))
	return hmac.Equal([]byte(want), []byte(a.Proof))
}

func doctorAnswerInput(challenge, path, callbackPath string) string {
	return challenge + "\n" + path + "\n" + callbackPath
}

// doctorMAC is base64url(HMAC-SHA256(HMAC-SHA256(secret, label), msg)).
func doctorMAC(secret, label []byte, msg string) string {
	k := hmac.New(sha256.New, secret)
	k.Write(label)
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validDoctorChallenge checks the format, the age and the MAC.
func validDoctorChallenge(secret []byte, challenge string, now time.Time) bool {
	if len(secret) == 0 || len(challenge) > maxDoctorChallenge {
		return false
	}
	i := strings.LastIndexByte(challenge, '.')
	if i < 0 {
		return false
	}
	body, mac := challenge[:i], challenge[i+1:]
	parts := strings.Split(body, ".")
	if len(parts) != 3 || parts[0] != "d1" {
		return false
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return false
	}
	if age := now.Sub(time.Unix(sec, 0)); age > doctorChallengeTTL || age < -doctorChallengeTTL {
		return false
	}
	return hmac.Equal([]byte(doctorMAC(secret, doctorChallengeLabel, body)), []byte(mac))
}

// registerDoctor adds DoctorRoute. It needs no authentication and reveals
// nothing: a challenge the ticket secret did not sign (or an old one) gets
// the 404 of an unknown route; the global per-IP limit applies.
func (s *Server) registerDoctor() {
	s.GET(DoctorRoute, s.doctor)
}

func (s *Server) doctor(c echo.Context) error {
	var secret []byte
	if s.opt.Verifier != nil {
		secret = s.opt.Verifier.TicketSecret
	}
	challenge := c.Param("challenge")
	if !validDoctorChallenge(secret, challenge, s.opt.Now()) {
		return echo.ErrNotFound
	}
	path := c.Request().URL.EscapedPath()
	if len(path) > 1024 {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, DoctorAnswer{
		Path:         path,
		CallbackPath: s.opt.CallbackPath,
		Proof:        doctorMAC(secret, doctorAnswerLabel, doctorAnswerInput(challenge, path, s.opt.CallbackPath)),
	})
}
