package webhook

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks specification's example, checked against the
// standardwebhooks npm package: it signs these inputs to the same value.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignKnownAnswer(t *testing.T) {
	s, err := ParseSecret(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sign(specID, time.Unix(specTimestamp, 0), []byte(specBody), s); got != specSignature {
		t.Errorf("Sign = %q, want %q", got, specSignature)
	}
}

func TestSignRotation(t *testing.T) {
	old, _ := ParseSecret(specSecret)
	cur, _ := ParseSecret("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MjQy")
	got := Sign(specID, time.Unix(specTimestamp, 0), []byte(specBody), cur, old)
	sigs := strings.Split(got, " ")
	if len(sigs) != 2 || sigs[1] != specSignature || !strings.HasPrefix(sigs[0], "v1,") || sigs[0] == sigs[1] {
		t.Errorf("Sign with two secrets = %q, want the new one's signature, a space, and %q", got, specSignature)
	}
}

func TestSetHeaders(t *testing.T) {
	s, _ := ParseSecret(specSecret)
	h := http.Header{}
	SetHeaders(h, specID, time.Unix(specTimestamp, 999_000_000), []byte(specBody), s)
	want := map[string]string{"Webhook-Id": specID, "Webhook-Timestamp": "1614265330", "Webhook-Signature": specSignature}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
