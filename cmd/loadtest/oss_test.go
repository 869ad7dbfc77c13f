package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/policy"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

// TestCallbackTargetVerifies checks the tool's OSS impersonation against
// ossgate's own code: a policy from a real Issuer, rendered and signed by
// callbackTarget, must pass callback.Verifier and report the upload.
func TestCallbackTargetVerifies(t *testing.T) {
	ticketSecret := []byte("load-test-ticket-secret-0123456789abcdef")
	const keyURL = "http://127.0.0.1:9/callback_pub_key_v1.pem"
	for _, bt := range []policy.BodyType{policy.BodyJSON, policy.BodyForm} {
		t.Run(string(bt), func(t *testing.T) {
			is, err := policy.NewIssuer(policy.IssuerConfig{
				Credentials:      policy.Credentials{AccessKeyID: "LTAI5tTest", AccessKeySecret: "secret0123456789"},
				Region:           region,
				Bucket:           bucket,
				UploadURL:        "https://" + bucket + ".oss-cn-hangzhou.aliyuncs.com",
				CallbackURL:      "http://127.0.0.1:8080/api/uploads/callback",
				CallbackBodyType: bt,
				TicketSecret:     ticketSecret,
				KeyPrefix:        "uploads/",
				MaxSize:          1 << 20,
				AllowedTypes:     []string{"image/*"},
				TTL:              10 * time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			var req policy.Request
			if err := json.Unmarshal([]byte(policyBody), &req); err != nil {
				t.Fatal(err)
			}
			up, err := is.Issue("user0007", req, now)
			if err != nil {
				t.Fatal(err)
			}
			answer, err := json.Marshal(up)
			if err != nil {
				t.Fatal(err)
			}
			obj := ossObject{Bucket: bucket, ETag: "5EB63BBBE01EEED093CB22BB8F5ACDC3", Size: 12345, MimeType: "image/jpeg"}
			tgt, err := callbackTarget(answer, obj, testKey(), keyURL)
			if err != nil {
				t.Fatal(err)
			}
			if tgt.Method != http.MethodPost || tgt.URL != "http://127.0.0.1:8080/api/uploads/callback" {
				t.Fatalf("target %s %s", tgt.Method, tgt.URL)
			}
			u, _ := url.Parse(tgt.URL)
			hr := &http.Request{URL: u, Header: tgt.Header}
			v := &callback.Verifier{Keys: callback.StaticKeys{keyURL: &testKey().PublicKey}, TicketSecret: ticketSecret}
			got, err := v.Verify(context.Background(), callback.NewRequest(hr, tgt.Body), now)
			if err != nil {
				t.Fatalf("ossgate refuses the tool's callback: %v\nbody: %s", err, tgt.Body)
			}
			if got.User != "user0007" || got.Key != up.Key || got.Size != 12345 || got.Vars["caption"] != "hi" {
				t.Errorf("verified upload %+v", got)
			}

			// A body changed after signing must fail: the signature covers it.
			tampered := append([]byte(nil), tgt.Body...)
			tampered[len(tampered)-2] ^= 1
			if _, err := v.Verify(context.Background(), callback.NewRequest(hr, tampered), now); !errors.Is(err, callback.ErrInvalidSignature) {
				t.Errorf("tampered body: err = %v, want invalid signature", err)
			}
		})
	}
}

func TestCallbackTargetRefusesBadAnswers(t *testing.T) {
	cb := base64.StdEncoding.EncodeToString([]byte(`{"callbackUrl":"http://127.0.0.1:1/cb","callbackBody":"{}"}`))
	cases := []struct{ name, answer string }{
		{"not json", `nope`},
		{"no key", `{"fields":{"callback":"` + cb + `"}}`},
		{"no callback", `{"key":"k","fields":{}}`},
		{"callback not base64", `{"key":"k","fields":{"callback":"%%%"}}`},
		{"callback url missing", `{"key":"k","fields":{"callback":"` + base64.StdEncoding.EncodeToString([]byte(`{"callbackBody":"x"}`)) + `"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := callbackTarget([]byte(c.answer), ossObject{}, testKey(), "http://k/"); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestOnceTargeter(t *testing.T) {
	tr := onceTargeter([]vegeta.Target{{URL: "a"}, {URL: "b"}})
	var got []string
	for {
		var tgt vegeta.Target
		if err := tr(&tgt); err != nil {
			if err != vegeta.ErrNoTargets {
				t.Fatal(err)
			}
			break
		}
		got = append(got, tgt.URL)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("got %v", got)
	}
}

func TestProcStatusBytes(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	n, err := procStatusBytes(os.Getpid(), "VmHWM")
	if err != nil || n < 1<<20 {
		t.Errorf("VmHWM of the test = %d, %v", n, err)
	}
	if _, err := procStatusBytes(os.Getpid(), "NoSuchField"); err == nil {
		t.Error("missing field accepted")
	}
}

func TestProcCPUTime(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before, err := procCPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel has charged 30ms more (a few ticks), or give up.
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		now, err := procCPUTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now-before >= 30*time.Millisecond {
			if spent := time.Since(start); now-before > spent+time.Second {
				t.Errorf("%v of CPU charged in %v of wall time", now-before, spent)
			}
			return
		}
	}
	t.Error("CPU time did not advance while spinning")
}
