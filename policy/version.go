package policy

import (
	"fmt"
	"strings"
)

// Version is a POST signature version.
type Version string

const (
	// V4 is OSS4-HMAC-SHA256, the current OSS signature.
	V4 Version = "v4"
	// V1 is the legacy HMAC-SHA1 signature (OSSAccessKeyId + Signature).
	V1 Version = "v1"
)

// v4Algorithm is the x-oss-signature-version value of V4.
const v4Algorithm = "OSS4-HMAC-SHA256"

// ParseVersion accepts "v4" or "OSS4-HMAC-SHA256" for V4 and "v1" for V1,
// in any letter case. Anything else, including "", is an error.
func ParseVersion(s string) (Version, error) {
	switch {
	case strings.EqualFold(s, string(V4)), strings.EqualFold(s, v4Algorithm):
		return V4, nil
	case strings.EqualFold(s, string(V1)):
		return V1, nil
	}
	return "", fmt.Errorf("policy: unknown signature version %q (want v4 or v1)", clip(s, 32))
}

// clip shortens s for use in a message, so errors never echo huge input.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
