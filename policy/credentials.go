package policy

import (
	"fmt"
	"log/slog"
)

// Credentials are the OSS access key that signs policies, with the STS
// security token when the key is temporary.
//
// Printing Credentials with fmt (any verb), slog or encoding/json never shows
// the secret or the token: they are replaced by "[redacted]" (or left empty
// when unset, so a log still tells whether one was configured).
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

const redacted = "[redacted]"

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// String implements fmt.Stringer without the secret or token.
func (c Credentials) String() string {
	return fmt.Sprintf("{AccessKeyID:%s AccessKeySecret:%s SecurityToken:%s}",
		c.AccessKeyID, redact(c.AccessKeySecret), redact(c.SecurityToken))
}

// GoString implements fmt.GoStringer (%#v) without the secret or token.
func (c Credentials) GoString() string {
	return fmt.Sprintf("policy.Credentials{AccessKeyID:%q, AccessKeySecret:%q, SecurityToken:%q}",
		c.AccessKeyID, redact(c.AccessKeySecret), redact(c.SecurityToken))
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %s, %q, %x…)
// goes through the redacted forms; without it %x would print the fields raw.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// LogValue implements slog.LogValuer without the secret or token.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("accessKeyId", c.AccessKeyID),
		slog.String("accessKeySecret", redact(c.AccessKeySecret)),
		slog.String("securityToken", redact(c.SecurityToken)),
	)
}

// MarshalJSON keeps the secret and token out of JSON output (structured logs,
// debug endpoints). Credentials are configuration, never a wire format.
func (c Credentials) MarshalJSON() ([]byte, error) {
	b := []byte(`{"accessKeyId":`)
	b = appendString(b, c.AccessKeyID)
	b = append(b, `,"accessKeySecret":`...)
	b = appendString(b, redact(c.AccessKeySecret))
	b = append(b, `,"securityToken":`...)
	b = appendString(b, redact(c.SecurityToken))
	return append(b, '}'), nil
}
