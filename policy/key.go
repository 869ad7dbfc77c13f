package policy

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// MaxPrefixLen bounds the key prefix so that keys stay far below OSS's
// 1023-byte limit.
const MaxPrefixLen = 256

// ObjectKey returns a new object key, {prefix}{user}/{yyyy}/{mm}/{dd}/{id}{ext}:
//
//   - user is sub when it is 1..64 of [A-Za-z0-9._@-], not "." and without
//     "..", else "u-" + the first 32 hex digits of SHA-256(sub). A sub that
//     itself looks like such a hash ("u-" + 32 lowercase hex) is hashed too,
//     so one user can never pose as another's hashed directory;
//   - the date is now's, in UTC;
//   - id is a 26-character ULID (Crockford base32 of now in ms and 80 bits
//     read from rand, crypto/rand.Reader when nil);
//   - ext is "." + the filename's extension, lowercased, when that is 1..10
//     of [a-z0-9], else nothing.
//
// The prefix must be empty or end with "/", be made of [A-Za-z0-9._/-], and
// have no leading "/", "//", "." or ".." segment. Whatever sub and filename
// hold, the key has no "..", "//", leading "/" or control character.
func ObjectKey(prefix, sub, filename string, now time.Time, rand io.Reader) (string, error) {
	if err := checkPrefix(prefix); err != nil {
		return "", err
	}
	id, err := newULID(now, rand)
	if err != nil {
		return "", err
	}
	user := userSegment(sub)
	ext := extension(filename)
	b := make([]byte, 0, len(prefix)+len(user)+12+len(id)+len(ext))
	b = append(b, prefix...)
	b = append(b, user...)
	b = now.UTC().AppendFormat(append(b, '/'), "2006/01/02")
	b = append(b, '/')
	b = append(b, id[:]...)
	b = append(b, ext...)
	return string(b), nil
}

// checkPrefix validates a key prefix (see ObjectKey).
func checkPrefix(prefix string) error {
	if p := prefixProblem(prefix); p != "" {
		return fmt.Errorf("policy: key prefix %q %s", clip(prefix, 64), p)
	}
	return nil
}

// prefixProblem says what is wrong with a key prefix, or "".
func prefixProblem(prefix string) string {
	if prefix == "" {
		return ""
	}
	if len(prefix) > MaxPrefixLen {
		return fmt.Sprintf("is longer than %d bytes", MaxPrefixLen)
	}
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; !(isAlnum(c) || c == '.' || c == '_' || c == '/' || c == '-') {
			return "may only hold A-Z a-z 0-9 . _ / -"
		}
	}
	switch {
	case prefix[0] == '/':
		return "must not start with /"
	case !strings.HasSuffix(prefix, "/"):
		return "must end with /"
	case strings.Contains(prefix, "//"):
		return "must not contain //"
	}
	for _, seg := range strings.Split(prefix[:len(prefix)-1], "/") {
		if seg == "." || strings.Contains(seg, "..") {
			return `must not contain "." or ".." segments`
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// userSegment returns sub when it is safe as a path segment, else its hash.
func userSegment(sub string) string {
	if safeUser(sub) {
		return sub
	}
	sum := sha256.Sum256([]byte(sub))
	return "u-" + hex.EncodeToString(sum[:16])
}

func safeUser(sub string) bool {
	if len(sub) == 0 || len(sub) > 64 || sub == "." || strings.Contains(sub, "..") {
		return false
	}
	for i := 0; i < len(sub); i++ {
		if c := sub[i]; !(isAlnum(c) || c == '.' || c == '_' || c == '@' || c == '-') {
			return false
		}
	}
	return !looksHashed(sub)
}

// looksHashed reports whether s has the shape userSegment gives hashed subs.
func looksHashed(s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, "u-") {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// extension returns "." + the lowercased extension of filename when it is
// 1..10 of [a-z0-9], else "".
func extension(filename string) string {
	e := path.Ext(filename)
	if len(e) < 2 || len(e) > 11 {
		return ""
	}
	e = strings.ToLower(e)
	for i := 1; i < len(e); i++ {
		if c := e[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return e
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newULID returns a ULID: 48 bits of Unix time in ms then 80 random bits,
// as 26 Crockford base32 characters (sortable by time).
func newULID(now time.Time, r io.Reader) ([26]byte, error) {
	var out [26]byte
	ms := now.UnixMilli()
	if ms < 0 || ms >= 1<<48 {
		return out, errors.New("policy: time out of range for an object id")
	}
	if r == nil {
		r = rand.Reader
	}
	var ent [10]byte
	if _, err := io.ReadFull(r, ent[:]); err != nil {
		return out, fmt.Errorf("policy: reading randomness: %w", err)
	}
	// 128 bits as hi:lo, encoded 5 bits at a time from the right; the
	// 26 characters hold 130 bits, so the first one is at most '7'.
	hi := uint64(ms)<<16 | uint64(ent[0])<<8 | uint64(ent[1])
	var lo uint64
	for _, b := range ent[2:] {
		lo = lo<<8 | uint64(b)
	}
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return out, nil
}
