// Package webhook pushes ossgate's upload events to the application's
// backend as Standard Webhooks (https://www.standardwebhooks.com): signed
// JSON POSTs, delivered at least once from the store's outbox with
// exponential backoff.
//
// Signing, payloads and the backoff schedule are pure; Worker is the only
// part that talks to the network and the database.
package webhook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Secret is a Standard Webhooks signing key. Its String never shows the key.
type Secret struct{ key []byte }

// Bounds of a secret's key, in bytes (the specification's).
const (
	MinSecretLen = 24
	MaxSecretLen = 64
)

// secretPrefix starts every secret in its text form.
const secretPrefix = "whsec_"

// ParseSecret reads "whsec_" and the base64 of a 24 to 64 byte key. Its
// errors never quote the secret.
func ParseSecret(s string) (Secret, error) {
	b64, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return Secret{}, errors.New("a secret must start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return Secret{}, errors.New("a secret must be whsec_ followed by standard base64")
	}
	if len(key) < MinSecretLen || len(key) > MaxSecretLen {
		return Secret{}, fmt.Errorf("a secret's key must be %d to %d bytes (this one is %d)", MinSecretLen, MaxSecretLen, len(key))
	}
	return Secret{key: key}, nil
}

// MaxSecrets is how many secrets may sign at once: the current one and,
// while receivers move to it, the one before.
const MaxSecrets = 2

// ParseSecrets reads one or two secrets separated by commas or spaces;
// every delivery is signed with each.
func ParseSecrets(s string) ([]Secret, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	if len(fields) == 0 {
		return nil, errors.New("no secret given")
	}
	if len(fields) > MaxSecrets {
		return nil, fmt.Errorf("at most %d secrets (the new one and the old one, while rotating), got %d", MaxSecrets, len(fields))
	}
	out := make([]Secret, 0, len(fields))
	for i, f := range fields {
		sec, err := ParseSecret(f)
		if err != nil {
			if len(fields) > 1 {
				return nil, fmt.Errorf("secret %d: %w", i+1, err)
			}
			return nil, err
		}
		out = append(out, sec)
	}
	return out, nil
}

func (s Secret) String() string   { return "whsec_[redacted]" }
func (s Secret) GoString() string { return "webhook.Secret{[redacted]}" }

// IsZero reports whether s holds no key.
func (s Secret) IsZero() bool { return len(s.key) == 0 }
