package policy

import "crypto/sha256"

// hmacSHA256 is HMAC-SHA256 (RFC 2104) written out over sha256.Sum256.
// crypto/hmac's per-call setup cost about 1µs and 6 allocations, more than
// hashing a whole policy, and V4 needs five HMACs per policy when the key is
// not cached. TestHMACSHA256 checks it against crypto/hmac.
func hmacSHA256(key, msg []byte) [sha256.Size]byte {
	const block = sha256.BlockSize
	if len(key) > block {
		k := sha256.Sum256(key)
		key = k[:]
	}
	var ipad, opad [block]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range block {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	var inner [sha256.Size]byte
	if len(msg) <= block {
		// Short messages (the key chain) hash from the stack.
		var b [2 * block]byte
		copy(b[:], ipad[:])
		n := copy(b[block:], msg)
		inner = sha256.Sum256(b[:block+n])
	} else {
		h := sha256.New()
		h.Write(ipad[:])
		h.Write(msg)
		h.Sum(inner[:0])
	}
	var outer [block + sha256.Size]byte
	copy(outer[:], opad[:])
	copy(outer[block:], inner[:])
	return sha256.Sum256(outer[:])
}
