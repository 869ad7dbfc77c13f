package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verifier checks deliveries as a receiver following the Standard Webhooks
// specification would, with code of its own (nothing from package
// webhook), so that tests and the load tool check ossgate's signer
// against the specification rather than against itself.
type Verifier struct {
	keys [][]byte
}

// NewVerifier accepts deliveries signed with any of secrets (whsec_…).
func NewVerifier(secrets ...string) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhooktest: no secret")
	}
	v := &Verifier{}
	for _, s := range secrets {
		b64, ok := strings.CutPrefix(s, "whsec_")
		if !ok {
			return nil, errors.New("webhooktest: secret without whsec_")
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("webhooktest: secret: %w", err)
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

// Verify is the specification's check: a JSON POST, the three headers, a
// timestamp within Tolerance of now, and any one "v1," signature equal to
// the base64 HMAC-SHA256 of "id.timestamp.body".
func (v *Verifier) Verify(method, contentType, id, ts, sig string, body []byte, now time.Time) error {
	if method != http.MethodPost || !strings.HasPrefix(contentType, "application/json") {
		return fmt.Errorf("%s with Content-Type %q, want a JSON POST", method, contentType)
	}
	if id == "" || ts == "" || sig == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not an integer", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("webhook-timestamp %s is %v away", ts, d)
	}
	signed := []byte(id + "." + ts + "." + string(body))
	for _, part := range strings.Split(sig, " ") {
		version, b64, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, key := range v.keys {
			mac := hmac.New(sha256.New, key)
			mac.Write(signed)
			if hmac.Equal(got, mac.Sum(nil)) {
				return nil
			}
		}
	}
	return fmt.Errorf("no valid v1 signature in %d", len(strings.Split(sig, " ")))
}
