package policy

import (
	"crypto/hmac"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

func TestHMACSHA256(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// Key and message lengths around the 64-byte block boundaries.
	for _, klen := range []int{0, 1, 32, 63, 64, 65, 200} {
		for _, mlen := range []int{0, 1, 55, 56, 63, 64, 65, 119, 120, 1000} {
			key, msg := make([]byte, klen), make([]byte, mlen)
			for i := range key {
				key[i] = byte(r.Uint32())
			}
			for i := range msg {
				msg[i] = byte(r.Uint32())
			}
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			want := m.Sum(nil)
			if got := hmacSHA256(key, msg); !hmac.Equal(got[:], want) {
				t.Errorf("key %d bytes, msg %d bytes: got %x, want %x", klen, mlen, got, want)
			}
		}
	}
}
