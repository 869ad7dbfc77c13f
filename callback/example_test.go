package callback_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/ticket"
)

// A callback as OSS sends it, verified against a fixed key. In production
// Keys is a *callback.Fetcher that fetches OSS's key from allowlisted hosts.
func ExampleVerifier_Verify() {
	ossKey, err := rsa.GenerateKey(rand.Reader, 2048) // stands in for OSS's key
	if err != nil {
		panic(err)
	}
	const pubKeyURL = "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"
	secret := []byte(strings.Repeat("k", ticket.MinSecretLen))
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)

	// The policy step issued this ticket and put it in the callback body.
	tok, err := ticket.Sign(secret, ticket.Claims{
		User: "alice", Bucket: "examplebucket", Key: "uploads/alice/cat.jpg",
		Size: 2048, ContentType: "image/jpeg", Filename: "cat.jpg",
		BodyType: ticket.BodyJSON, VarNames: []string{"caption"}, ExpiresAt: now.Add(15 * time.Minute),
	}, now)
	if err != nil {
		panic(err)
	}
	// OSS renders the body, signs it and POSTs it to the callback URL.
	body := []byte(`{"bucket":"examplebucket","object":"uploads/alice/cat.jpg","etag":"D8E8FCA2DC0F896FD7CB4CB0031BA249",` +
		`"size":1234,"mimeType":"image/jpeg","ticket":"` + tok + `","vars":{"caption":"hi"}}`)
	auth, err := callback.Sign(ossKey, "/api/uploads/callback", "", body)
	if err != nil {
		panic(err)
	}

	v := &callback.Verifier{
		Keys:         callback.StaticKeys{pubKeyURL: &ossKey.PublicKey},
		TicketSecret: secret,
		BodyType:     ticket.BodyJSON, // the format the issuer asks OSS for
	}
	up, err := v.Verify(context.Background(), callback.Request{
		Path:          "/api/uploads/callback",
		Authorization: auth,
		PubKeyURL:     base64.StdEncoding.EncodeToString([]byte(pubKeyURL)),
		ContentType:   "application/json",
		Body:          body,
	}, now.Add(time.Minute))
	if err != nil {
		fmt.Println(callback.Code(err), err)
		return
	}
	fmt.Println(up.User, up.Bucket, up.Key, up.Size, up.ContentType, up.Filename, up.Vars["caption"])
	// Output: alice examplebucket uploads/alice/cat.jpg 1234 image/jpeg cat.jpg hi
}

// Allowed is the allowlist check PublicKey makes before any request. An
// entry ending in "/" allows the paths under it; any other entry allows
// exactly that URL.
func ExampleFetcher_Allowed() {
	f, err := callback.NewFetcher(callback.FetcherConfig{AllowedKeyURLs: []string{
		"https://gosspublic.alicdn.com/",
		"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem",
	}})
	if err != nil {
		panic(err)
	}
	for _, u := range []string{
		"https://gosspublic.alicdn.com/callback_pub_key_v1.pem",
		"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem",
		"http://127.0.0.1:9000/uploads/mallory/key.pem",
		"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem/../../uploads/mallory/key.pem",
		"http://gosspublic.alicdn.com/callback_pub_key_v1.pem",
		"https://gosspublic.alicdn.com.evil.example/k.pem",
		"https://gosspublic.alicdn.com@evil.example/k.pem",
		"https://gosspublic.alicdn.com:8443/k.pem",
		"file:///etc/passwd",
	} {
		fmt.Println(callback.Code(f.Allowed(u)) == "", u)
	}
	// Output:
	// true https://gosspublic.alicdn.com/callback_pub_key_v1.pem
	// true http://127.0.0.1:9000/_ossemu/callback_pub_key.pem
	// false http://127.0.0.1:9000/uploads/mallory/key.pem
	// false http://127.0.0.1:9000/_ossemu/callback_pub_key.pem/../../uploads/mallory/key.pem
	// false http://gosspublic.alicdn.com/callback_pub_key_v1.pem
	// false https://gosspublic.alicdn.com.evil.example/k.pem
	// false https://gosspublic.alicdn.com@evil.example/k.pem
	// false https://gosspublic.alicdn.com:8443/k.pem
	// false file:///etc/passwd
}

// Validate names the field of each problem, so that a program filling the
// config from its settings can say which setting is wrong.
func ExampleFetcherConfig_Validate() {
	cfg := callback.FetcherConfig{
		AllowedKeyURLs: []string{"gosspublic.alicdn.com", "https://keys.example/a/../b.pem"},
		Timeout:        -time.Second,
	}
	for _, fe := range callback.FieldErrors(cfg.Validate()) {
		fmt.Println(fe.Field)
	}
	// Output:
	// AllowedKeyURLs
	// AllowedKeyURLs
	// Timeout
}

func ExampleCode() {
	_, err := callback.ParseBody("text/plain", []byte("hello"))
	fmt.Println(callback.Code(err))
	// Output: invalid_callback
}
