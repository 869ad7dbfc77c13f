package callback_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ossgate/ossgate/callback"
)

// The known-answer vectors were made with node's crypto.sign (see
// testdata/README.md).
const vectorsDir = "testdata/"

type signatureVectors struct {
	PublicKeyPEM string `json:"publicKeyPEM"`
	Cases        []struct {
		Name          string  `json:"name"`
		RequestURI    string  `json:"requestURI"`
		Body          string  `json:"body"`
		ContentType   string  `json:"contentType"`
		PubKeyURL     string  `json:"pubKeyURL"`
		XOssPubKeyURL string  `json:"xOssPubKeyURL"`
		StringToSign  *string `json:"stringToSign"`
		Authorization string  `json:"authorization"`
		Valid         bool    `json:"valid"`
	} `json:"cases"`
}

// readVector reads a vector file of testdata/; a missing one fails the test.
func readVector(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(vectorsDir + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSignatureVectors(t *testing.T) {
	var v signatureVectors
	if err := json.Unmarshal(readVector(t, "callback-signature.json"), &v); err != nil {
		t.Fatal(err)
	}
	key, err := callback.ParsePublicKeyPEM([]byte(v.PublicKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	fileKey, err := callback.ParsePublicKeyPEM(readVector(t, "callback_pub_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !fileKey.Equal(key) {
		t.Fatal("callback_pub_key.pem and publicKeyPEM differ")
	}
	if len(v.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			path, query, _ := strings.Cut(c.RequestURI, "?")
			if got, err := base64.StdEncoding.DecodeString(c.XOssPubKeyURL); err != nil || string(got) != c.PubKeyURL {
				t.Fatalf("xOssPubKeyURL decodes to %q (%v), want %q", got, err, c.PubKeyURL)
			}
			if c.StringToSign != nil {
				got, err := callback.StringToSign(path, query, []byte(c.Body))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != *c.StringToSign {
					t.Errorf("StringToSign = %q, want %q", got, *c.StringToSign)
				}
			}
			v := callback.Verifier{Keys: callback.StaticKeys{c.PubKeyURL: key}}
			err := v.VerifySignature(t.Context(), callback.Request{
				Path:          path,
				RawQuery:      query,
				Authorization: c.Authorization,
				PubKeyURL:     c.XOssPubKeyURL,
				ContentType:   c.ContentType,
				Body:          []byte(c.Body),
			})
			if got := err == nil; got != c.Valid {
				t.Fatalf("VerifySignature valid = %v (err %v), want %v", got, err, c.Valid)
			}
			if !c.Valid && !errors.Is(err, callback.ErrInvalidSignature) {
				t.Fatalf("err = %v, want ErrInvalidSignature", err)
			}
		})
	}
}
