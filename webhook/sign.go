package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"strconv"
	"time"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Canonical forms, to set the headers without canonicalising them per request.
var (
	canonicalID        = http.CanonicalHeaderKey(HeaderID)
	canonicalTimestamp = http.CanonicalHeaderKey(HeaderTimestamp)
	canonicalSignature = http.CanonicalHeaderKey(HeaderSignature)
)

// Sign returns the webhook-signature value for one delivery: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" under each secret, separated by
// spaces (receivers accept the message when any one matches).
func Sign(id string, timestamp time.Time, body []byte, secrets ...Secret) string {
	return newSigner(secrets).sign(id, strconv.FormatInt(timestamp.Unix(), 10), body)
}

// SetHeaders sets the three Standard Webhooks headers of a delivery on h.
func SetHeaders(h http.Header, id string, timestamp time.Time, body []byte, secrets ...Secret) {
	newSigner(secrets).setHeaders(h, id, timestamp, body)
}

// signer signs deliveries with keyed HMAC states that it resets instead of
// keying anew (hmac.New hashes the key pads every time). One goroutine
// uses a signer at a time.
type signer struct {
	macs []hash.Hash
	buf  []byte // the signature being built
	sum  [sha256.Size]byte
}

func newSigner(secrets []Secret) *signer {
	s := &signer{macs: make([]hash.Hash, len(secrets))}
	for i, sec := range secrets {
		s.macs[i] = hmac.New(sha256.New, sec.key)
	}
	return s
}

var dot = []byte{'.'}

func (s *signer) sign(id, ts string, body []byte) string {
	s.buf = s.buf[:0]
	for i, mac := range s.macs {
		mac.Reset()
		mac.Write([]byte(id))
		mac.Write(dot)
		mac.Write([]byte(ts))
		mac.Write(dot)
		mac.Write(body)
		if i > 0 {
			s.buf = append(s.buf, ' ')
		}
		s.buf = append(s.buf, "v1,"...)
		s.buf = base64.StdEncoding.AppendEncode(s.buf, mac.Sum(s.sum[:0]))
	}
	return string(s.buf)
}

func (s *signer) setHeaders(h http.Header, id string, timestamp time.Time, body []byte) {
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	h[canonicalID] = []string{id}
	h[canonicalTimestamp] = []string{ts}
	h[canonicalSignature] = []string{s.sign(id, ts, body)}
}
