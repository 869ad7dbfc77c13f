package policy

import (
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

func TestAppendBase64(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 200 {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		want := base64.StdEncoding.EncodeToString(src)
		if got := appendBase64([]byte("prefix"), src); string(got) != "prefix"+want {
			t.Fatalf("%d bytes: got %s, want prefix%s", n, got, want)
		}
		// In place after the source, as Signer.encode uses it.
		buf := append(make([]byte, 0, n+len(want)), src...)
		if got := appendBase64(buf, buf); string(got[n:]) != want {
			t.Fatalf("%d bytes in place: got %s, want %s", n, got[n:], want)
		}
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte("{\"expiration\":\"2026-11-25T08:40:00.000Z\"}"))
	f.Add([]byte{0xff, 0xfe, 0, 1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := string(appendBase64(nil, src)), base64.StdEncoding.EncodeToString(src); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

// TestBase64String covers the chunk boundaries of base64String.
func TestBase64String(t *testing.T) {
	src := make([]byte, 3000)
	for i := range src {
		src[i] = byte(i*7 + i>>8)
	}
	for n := range len(src) {
		if got, want := base64String(src[:n]), base64.StdEncoding.EncodeToString(src[:n]); got != want {
			t.Fatalf("base64String of %d bytes:\n got %s\nwant %s", n, got, want)
		}
	}
}
