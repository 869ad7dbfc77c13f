package callback

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"math/big"
)

// md5DigestInfo is the DER prefix of an MD5 DigestInfo (RFC 8017 §9.2).
var md5DigestInfo = []byte{0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10}

// verifyMD5WithRSA checks an RSASSA-PKCS1-v1_5 signature over an MD5 digest.
//
// Keys of 1024 bits and more go to crypto/rsa. OSS signs callbacks with a
// 512-bit key, which crypto/rsa refuses since Go 1.24 unless the whole
// process sets GODEBUG=rsa1024min=0 — which would also let 512-bit keys
// through TLS and everything else. So for smaller keys (from allowlisted
// hosts only) the RFC 8017 §8.2.2 check is done here, on public data only:
// s^e mod n must equal 0x00 0x01 0xff… 0x00 DigestInfo(MD5) hash.
func verifyMD5WithRSA(key *rsa.PublicKey, hashed, sig []byte) error {
	if key.N.BitLen() >= 1024 {
		return rsa.VerifyPKCS1v15(key, crypto.MD5, hashed, sig)
	}
	return verifySmallKey(key, hashed, sig)
}

func verifySmallKey(key *rsa.PublicKey, hashed, sig []byte) error {
	errVerify := errors.New("callback: RSA verification error")
	k := (key.N.BitLen() + 7) / 8
	tLen := len(md5DigestInfo) + len(hashed)
	if len(hashed) != 16 || len(sig) != k || k < tLen+11 || key.E < 3 {
		return errVerify
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(key.N) >= 0 {
		return errVerify
	}
	em := new(big.Int).Exp(s, big.NewInt(int64(key.E)), key.N).FillBytes(make([]byte, k))
	want := make([]byte, 0, k)
	want = append(want, 0x00, 0x01)
	want = append(want, bytes.Repeat([]byte{0xff}, k-tLen-3)...)
	want = append(want, 0x00)
	want = append(want, md5DigestInfo...)
	want = append(want, hashed...)
	if !bytes.Equal(em, want) {
		return errVerify
	}
	return nil
}
