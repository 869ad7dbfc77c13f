package callback

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// KeySource returns the RSA public key published at url, the (decoded)
// x-oss-pub-key-url of a callback. It decides which URLs are trusted: an
// implementation must answer ErrUntrustedKeyURL, before any I/O, for a URL
// it does not trust, and should wrap other failures in ErrKeyUnavailable.
type KeySource interface {
	PublicKey(ctx context.Context, url string) (*rsa.PublicKey, error)
}

// StaticKeys is a KeySource with fixed keys, by exact URL: for tests, and for
// deployments that pin OSS's key instead of fetching it. Any other URL is
// refused with ErrUntrustedKeyURL.
type StaticKeys map[string]*rsa.PublicKey

// PublicKey returns the key pinned for url.
func (s StaticKeys) PublicKey(_ context.Context, url string) (*rsa.PublicKey, error) {
	if k, ok := s[url]; ok && k != nil {
		return k, nil
	}
	return nil, errorf(ErrUntrustedKeyURL, "no pinned key for %s", quote(url))
}

// Bounds on accepted RSA key sizes, in bits of the modulus.
const (
	// OSS's own callback key (gosspublic.alicdn.com/callback_pub_key_v1.pem)
	// is 512-bit RSA, so 512 must pass (verifyMD5WithRSA checks keys under
	// 1024 bits itself, since crypto/rsa refuses them). Keys only ever come
	// from allowlisted URLs, which decide their size.
	minKeyBits = 512
	// Above 16384 bits a verification becomes a cheap way to burn our CPU.
	maxKeyBits = 16384
)

// ParsePublicKeyPEM parses one PEM-encoded RSA public key, either a
// "PUBLIC KEY" block (PKIX, what OSS publishes) or an "RSA PUBLIC KEY" block
// (PKCS#1). Anything but whitespace after the block, encrypted blocks
// (PEM headers), other key types, moduli outside 512..16384 bits and public
// exponents that are even or under 3 are refused. Text before the block is
// ignored.
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("unexpected data after the PEM block")
	}
	if len(block.Headers) != 0 {
		return nil, errors.New("PEM block has headers (encrypted?)")
	}
	var key *rsa.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKIX public key: %w", err)
		}
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, not RSA", pub)
		}
		key = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#1 public key: %w", err)
		}
		key = k
	default:
		return nil, fmt.Errorf("PEM block type %s is not a public key", quote(block.Type))
	}
	if n := key.N.BitLen(); n < minKeyBits || n > maxKeyBits {
		return nil, fmt.Errorf("RSA key size %d bits outside %d..%d", n, minKeyBits, maxKeyBits)
	}
	if key.E < 3 || key.E%2 == 0 {
		return nil, fmt.Errorf("RSA public exponent %d is not an odd number >= 3", key.E)
	}
	return key, nil
}
