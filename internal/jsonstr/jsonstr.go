// Package jsonstr writes JSON string literals byte for byte as
// encoding/json does, without reflection or allocation: policy documents,
// policy answers and upload tickets are written on the request path of
// every upload, where encoding/json took about 3.2µs of a signing budget of
// the same size, against 0.4µs here. FuzzAppend checks both modes against
// encoding/json. That is also what JavaScript's JSON.stringify produces,
// apart from U+2028/U+2029, which encoding/json escapes and every JSON
// parser decodes all the same.
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// jsonSafe[b] is true for ASCII bytes that appear unescaped in a JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// htmlSafe is jsonSafe without '<', '>' and '&', which encoding/json
// escapes by default (json.Marshal, json.Encoder, and so Echo's c.JSON).
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	t = jsonSafe
	t['<'], t['>'], t['&'] = false, false, false
	return t
}()

// Text is what the appenders take: a string, or bytes holding one (a
// document being built into a buffer, without a copy into a string).
type Text interface{ ~string | ~[]byte }

// Append appends s as a JSON string literal, as encoding/json writes it
// with SetEscapeHTML(false).
func Append[S Text](dst []byte, s S) []byte { return appendString(dst, s, false) }

// AppendHTML appends s as encoding/json does by default (json.Marshal, and
// so Echo's c.JSON and golang-jwt): also '<', '>' and '&' as \u003c, \u003e
// and \u0026.
func AppendHTML[S Text](dst []byte, s S) []byte { return appendString(dst, s, true) }

func appendString[S Text](dst []byte, s S, html bool) []byte {
	safe := &jsonSafe
	if html {
		safe = &htmlSafe
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Policies and answers are mostly base64 (the callback, the policy):
		// skip plain bytes eight at a time.
		for i+8 <= len(s) {
			t := s[i : i+8] // one bounds check for the eight loads
			w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
				uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
			if !plain8(w) || html && !htmlPlain8(w) {
				break
			}
			i += 8
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := decodeRune(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// decodeRune is utf8.DecodeRune of either kind of Text, without
// converting (and so copying) all of it.
func decodeRune[S Text](s S) (rune, int) {
	var b [utf8.UTFMax]byte
	return utf8.DecodeRune(b[:copy(b[:], s)])
}

// plain8 reports whether the eight bytes of w need no escaping: no byte
// below 0x20, '"', '\\' or at or above 0x80 (left to the rune-by-rune path).
// Each term sets a byte's top bit for the bytes it looks for (the
// subtractions can also set it for bytes that the w term already flags, or
// above one that borrowed), so a zero result means all eight are plain.
func plain8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	quote, backslash := w^(lo*'"'), w^(lo*'\\')
	return (w|(w-lo*0x20)|(quote-lo)|(backslash-lo))&hi == 0
}

// htmlPlain8 reports whether none of the eight bytes of w, already known
// to be plain8, is '<', '>' or '&'. With every byte below 0x80, x-lo
// borrows only from a zero byte, the same trick as in plain8.
func htmlPlain8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	lt, gt, amp := w^(lo*'<'), w^(lo*'>'), w^(lo*'&')
	return ((lt-lo)|(gt-lo)|(amp-lo))&hi == 0
}
