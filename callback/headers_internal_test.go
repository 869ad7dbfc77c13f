package callback

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestDecodeHeaders(t *testing.T) {
	const keyURL = "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"
	sig := []byte("0123456789abcdef0123456789abcdef")
	std := base64.StdEncoding.EncodeToString
	raw := base64.RawStdEncoding.EncodeToString
	cases := []struct {
		name          string
		pubKeyURL     string
		authorization string
		ok            bool
	}{
		{"std", std([]byte(keyURL)), std(sig), true},
		{"unpadded", raw([]byte(keyURL + "x")), raw(sig[:31]), true},
		{"url max", std([]byte(strings.Repeat("u", maxPubKeyURLBytes))), std(sig), true},
		{"url too long", std([]byte(strings.Repeat("u", maxPubKeyURLBytes+1))), std(sig), false},
		{"signature max", std([]byte(keyURL)), std([]byte(strings.Repeat("s", maxAuthorizationBytes))), true},
		{"signature too long", std([]byte(keyURL)), std([]byte(strings.Repeat("s", maxAuthorizationBytes+1))), false},
		{"missing url", "", std(sig), false},
		{"missing signature", std([]byte(keyURL)), "", false},
		{"url-safe alphabet", base64.URLEncoding.EncodeToString([]byte("\xfb\xff")), std(sig), false},
		{"newline inside", std([]byte(keyURL))[:8] + "\n" + std([]byte(keyURL))[8:], std(sig), false},
		{"space", std([]byte(keyURL)) + " ", std(sig), false},
		{"non-zero padding bits", "QR==", std(sig), false},
		{"bad padding", std([]byte(keyURL)), std(sig) + "=", false},
		{"padding in the middle", "QQ==QQ==", std(sig), false},
		{"only padding", "====", std(sig), false},
		{"one char", "Q", std(sig), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, s, err := decodeHeaders(c.pubKeyURL, c.authorization)
			if got := err == nil; got != c.ok {
				t.Fatalf("decodeHeaders = %q, %x, %v; want ok=%v", u, s, err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("err = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func FuzzDecodeHeaders(f *testing.F) {
	f.Add("aHR0cHM6Ly9nb3NzcHVibGljLmFsaWNkbi5jb20vY2FsbGJhY2tfcHViX2tleV92MS5wZW0=", "PNT6FAwNpJLnP8xYhYo3CMQQnrgA1tDd4PHs5JYVxa/l1RV2v62KTS7jYJAIwxCtmIs65a1osRxKzX4oE5GV77xQ0OA1IHIIntSltOgt2bCcNyGpVHuyWGsdDJg929DccGObNq6W53ixnrTb0u4tH14txvlm2Y3RjKXLqRsw6HM=")
	f.Add("aHR0cHM6Ly9nb3NzcHVibGljLmFsaWNkbi5jb20vY2FsbGJhY2tfcHViX2tleV92MS5wZW0", "QQ")
	f.Add("", "")
	f.Add("====", "Q\r\nQ==")
	fe, err := NewFetcher(FetcherConfig{AllowedHosts: []string{"gosspublic.alicdn.com"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pubKeyURL, authorization string) {
		u, sig, err := decodeHeaders(pubKeyURL, authorization)
		if err != nil {
			if !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("error %v does not wrap ErrInvalidSignature", err)
			}
			if len(authorization) >= 16 && strings.Contains(err.Error(), authorization) {
				t.Fatalf("error echoes the Authorization header: %v", err)
			}
			return
		}
		if u == "" || len(u) > maxPubKeyURLBytes || len(sig) == 0 || len(sig) > maxAuthorizationBytes {
			t.Fatalf("accepted out-of-bounds values: %d-byte URL, %d-byte signature", len(u), len(sig))
		}
		// Whatever decodes must re-encode to the header (no malleability).
		if enc := base64.StdEncoding.EncodeToString(sig); enc != authorization && strings.TrimRight(enc, "=") != authorization {
			t.Fatalf("Authorization %q decoded to %x, which encodes as %q", authorization, sig, enc)
		}
		// The allowlist check never panics on a decoded URL.
		if err := fe.Allowed(u); err != nil && !errors.Is(err, ErrUntrustedKeyURL) {
			t.Fatalf("Allowed error %v does not wrap ErrUntrustedKeyURL", err)
		}
	})
}
