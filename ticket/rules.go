package ticket

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rules shared by the policy issuer, which refuses requests that break
// them, and the callback verifier, which refuses callbacks that break them:
// kept here, in the package both depend on, so the two cannot disagree.
const (
	// MaxVars is the most custom callback variables (x:name) one upload
	// may carry.
	MaxVars = 10
	// MaxVarValueLen is the longest value of a custom variable, in bytes.
	MaxVarValueLen = 256
	// MaxMediaTypeLen is the longest content type, in bytes.
	MaxMediaTypeLen = 255
)

// Body formats of the OSS callback, as the media types OSS sends them
// with. A ticket binds the one its policy asked OSS for.
const (
	BodyJSON = "application/json"
	BodyForm = "application/x-www-form-urlencoded"
)

// PlainMediaType reports whether s is a bare media type, "type/subtype"
// with no parameters and no spaces, at most MaxMediaTypeLen bytes, each
// part an RFC 6838 restricted name (a letter or digit, then up to 126 of
// letters, digits and ! # $ & - ^ _ . +). Letter case is not checked:
// media types compare case-insensitively.
func PlainMediaType(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	return ok && len(s) <= MaxMediaTypeLen && restrictedName(typ) && restrictedName(sub)
}

func restrictedName(s string) bool {
	if s == "" || len(s) > 127 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("!#$&-^_.+", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ValidVarName reports whether name is a valid custom variable name,
// [a-z0-9_]{1,32} (OSS wants custom variables lowercase).
func ValidVarName(name string) bool {
	if len(name) == 0 || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ValidVarValue reports whether v may be a custom variable's value: at most
// MaxVarValueLen bytes of UTF-8 with no control characters (U+2028 and
// U+2029, line breaks in disguise, included).
func ValidVarValue(v string) bool {
	return len(v) <= MaxVarValueLen && utf8.ValidString(v) &&
		!strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' })
}
