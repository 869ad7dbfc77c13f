package callback

import (
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"testing"
)

// A callback OSS really sent, signed with OSS's real key
// (gosspublic.alicdn.com/callback_pub_key_v1.pem, 512-bit RSA), as recorded
// in public test data of an open-source OSS client.
const (
	ossKeyPEM = `-----BEGIN PUBLIC KEY-----
MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKs/JBGzwUB2aVht4crBx3oIPBLNsjGs
C0fTXv+nvlmklvkcolvpvXLTjaxUHR3W9LXxQ2EHXAJfCB+6H2YF1k8CAwEAAQ==
-----END PUBLIC KEY-----
`
	ossKeyURL  = "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"
	ossPath    = "/api/v3/callback/oss/TnXx5E5VyfJUyM1UdkdDu1rtnJ34EbmH"
	ossBody    = `{"name":"2f7b2ccf30e9270ea920f1ab8a4037a546a2f0d5.jpg","source_name":"1/1_hFRtDLgM_2f7b2ccf30e9270ea920f1ab8a4037a546a2f0d5.jpg","size":114020,"pic_info":"810,539"}`
	ossAuthSig = "e5LwzwTkP9AFAItT4YzvdJOHd0Y0wqTMWhsV/h5SG90JYGAmMd+8LQyj96R+9qUfJWjMt6suuUh7LaOryR87Dw=="
)

func TestVerifiesRealOSSCallbackWith512BitKey(t *testing.T) {
	key, err := ParsePublicKeyPEM([]byte(ossKeyPEM))
	if err != nil {
		t.Fatalf("OSS's own key refused: %v", err)
	}
	if key.N.BitLen() != 512 {
		t.Fatalf("key has %d bits, want 512", key.N.BitLen())
	}
	v := &Verifier{Keys: StaticKeys{ossKeyURL: key}, TicketSecret: make([]byte, 32)}
	req := Request{
		Path:          ossPath,
		Authorization: ossAuthSig,
		PubKeyURL:     base64.StdEncoding.EncodeToString([]byte(ossKeyURL)),
		ContentType:   "application/json",
		Body:          []byte(ossBody),
	}
	if err := v.VerifySignature(t.Context(), req); err != nil {
		t.Fatalf("real OSS callback refused: %v", err)
	}
	tampered := []func(*Request){
		func(r *Request) { r.Body = []byte(ossBody[:len(ossBody)-2] + "0}") },
		func(r *Request) { r.Path += "x" },
		func(r *Request) { r.RawQuery = "a=1" },
		func(r *Request) { r.Authorization = "e3" + ossAuthSig[2:] },
	}
	for i, mutate := range tampered {
		r := req
		mutate(&r)
		if err := v.VerifySignature(t.Context(), r); Code(err) != CodeInvalidSignature {
			t.Errorf("tampered request %d: %v, want invalid_signature", i, err)
		}
	}
}

// The small-key path must agree with crypto/rsa wherever both apply.
func TestVerifySmallKeyAgreesWithCryptoRSA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		msg := make([]byte, i*37)
		rand.Read(msg)
		sum := md5.Sum(msg)
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.MD5, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		bad := append([]byte(nil), sig...)
		bad[i%len(bad)] ^= 1
		other := md5.Sum(append(msg, 'x'))
		for _, c := range []struct {
			hashed, sig []byte
		}{{sum[:], sig}, {sum[:], bad}, {other[:], sig}, {sum[:], sig[1:]}, {sum[:], append(sig, 0)}} {
			want := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.MD5, c.hashed, c.sig) == nil
			got := verifySmallKey(&key.PublicKey, c.hashed, c.sig) == nil
			if got != want {
				t.Fatalf("message %d: small-key path says %v, crypto/rsa %v", i, got, want)
			}
		}
	}
}
