package policy

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// b64Pairs[v] is the two standard base64 characters of the 12-bit value v,
// first character in the low byte. An immutable lookup table (8 KiB).
var b64Pairs = func() (t [1 << 12]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for v := range t {
		t[v] = uint16(alphabet[v>>6]) | uint16(alphabet[v&63])<<8
	}
	return t
}()

// appendBase64 appends the standard (padded) base64 of src to dst, exactly
// as base64.StdEncoding.AppendEncode does. The policy is base64'd on every
// signature and encoding/base64, at one table lookup per character, was
// the largest item of the signing profile; this does twelve input bytes per
// step with one lookup per two characters. FuzzAppendBase64 checks it.
// src must not overlap the bytes appended (it may sit before them in dst).
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	si, di := 0, 0
	// Two 8-byte loads, of which six bytes each are used: stop 14 bytes short.
	for ; si+14 <= len(src) && di+16 <= len(out); si, di = si+12, di+16 {
		in, o := src[si:si+14], out[di:di+16]
		binary.LittleEndian.PutUint64(o[0:8], encode6(binary.BigEndian.Uint64(in[0:8])))
		binary.LittleEndian.PutUint64(o[8:16], encode6(binary.BigEndian.Uint64(in[6:14])))
	}
	// si is a multiple of 3, so the rest encodes on its own.
	base64.StdEncoding.Encode(out[di:], src[si:])
	return dst[:len(dst)+n]
}

// encode6 returns the eight characters of the top six bytes of w, first
// character in the low byte.
func encode6(w uint64) uint64 {
	return uint64(b64Pairs[w>>52]) |
		uint64(b64Pairs[w>>40&0xfff])<<16 |
		uint64(b64Pairs[w>>28&0xfff])<<32 |
		uint64(b64Pairs[w>>16&0xfff])<<48
}
